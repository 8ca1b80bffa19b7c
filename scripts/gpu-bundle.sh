#!/usr/bin/env bash
# Prepares, on this machine, everything the GPU check needs, in .gpu/ (ignored by git; carried
# to the GPU machine by the device tool, which takes 64 MiB at most: the bundle is about
# 15 MB): parc-run and the shared libraries it needs there (compressed),
# the test models' CUDA artifacts with the CPU backend's outputs (test/pylib/gpu_models.py),
# and GPT-2 small compiled for the benchmark (bench/cuda_bench.py). The compiler (MLIR) stays
# here: the GPU machine runs parc-run only.
#
#   bash scripts/gpu-bundle.sh [--arch sm_90]
# then, on a machine with a GPU, from the repository root (with .gpu/ next to it):
#   bash scripts/gpu-check.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
arch=sm_90
if [[ "${1:-}" == "--arch" ]]; then arch="$2"; fi
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
python="$root/.venv/bin/python"
bundle="$root/.gpu"
rm -rf "$bundle" && mkdir -p "$bundle/bin" "$bundle/lib"

cp "$root/build/bin/parc-run" "$bundle/bin/"
# parc-run's libraries, except the C/C++ runtime every Linux has (a newer one there is fine).
ldd "$root/build/bin/parc-run" | awk '/=> \// {print $3}' | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libstdc++.so*|libgcc_s.so*|libdl.so*|libpthread.so*|librt.so*) ;;
    *) cp -L "$lib" "$bundle/lib/" ;;
  esac
done
# Compressed: the device tool carries at most 64 MiB (OpenBLAS alone is 36 MB).
tar -C "$bundle" -cJf "$bundle/lib.tar.xz" lib && rm -rf "$bundle/lib"

"$python" "$root/test/pylib/gpu_models.py" prepare "$bundle/models" --arch "$arch"
"$python" "$root/bench/cuda_bench.py" prepare "$bundle/bench" --arch "$arch"
du -sh "$bundle"
echo "gpu-bundle: ready; on the GPU machine run: bash scripts/gpu-check.sh"
