#!/usr/bin/env bash
# Installs everything parc needs on a fresh Debian 12 machine: the system packages (LLVM/MLIR 22,
# ONNX protobuf classes, Gloo, OpenBLAS, Ninja, GoogleTest, ...) and the pinned Python packages in
# the project's own virtual environment (.venv). Safe to run again: it skips what is already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

system_packages=(
  cmake ninja-build ccache g++ pkg-config
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libonnx-dev libprotobuf-dev protobuf-compiler
  libgloo-dev libopenblas-dev libopenblas-openmp-dev
  libgtest-dev libgmock-dev
  openmpi-bin redis-server
  python3 python3-venv python3-dev
)

bash "$root/scripts/install-debian-packages.sh" "${system_packages[@]}"

venv="$root/.venv"
stamp="$venv/.parc-requirements"
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating the virtual environment in $venv"
  /usr/bin/python3 -m venv "$venv"
fi
if ! cmp -s "$root/python-requirements.txt" "$stamp"; then
  echo "setup: installing pinned Python packages (torch is large; pip's cache serves later runs)"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -r "$root/python-requirements.txt"
  cp "$root/python-requirements.txt" "$stamp"
fi
# The CUDA toolkit is not installed here (it is large and not a Debian package): parc builds
# and tests without it, but its CUDA tests need it.
cuda_home="${CUDA_HOME:-/usr/local/cuda}"
if ! command -v nvcc >/dev/null 2>&1 && [ ! -x "$cuda_home/bin/nvcc" ]; then
  echo "setup: note: the CUDA toolkit was not found ($cuda_home, or nvcc on PATH): parc builds" \
       "and its tests run without it, but the CUDA tests (NVRTC-compiled kernels, the emulated" \
       "CUDA backend, nvcc and header checks) will be UNSUPPORTED; install CUDA 13 (nvcc," \
       "NVRTC, cuBLASLt, NCCL) there to run them"
fi
echo "setup: ready (system packages and $venv)"
