#!/usr/bin/env bash
# The GPU check of the CUDA backend, in one run on a machine with an NVIDIA GPU, PyTorch
# (python3) and the .gpu/ bundle made by scripts/gpu-bundle.sh:
#   1. every end-to-end test model (GPT-2 alone, tp=2, pp=2, tp2 x pp2, tp2 x pp4, with CUDA
#      graphs; Llama tp=2 in f32 and f16; BERT; the MLP; the encoder; GPT-2 in f16 and bf16)
#      runs on the GPU and must match
#      the CPU backend within the stated tolerances (ranks share the one GPU: their
#      communication is staged through the host);
#   2. the benchmark: fused kernels' bandwidth against the device's copy bandwidth, GEMMs
#      against torch.matmul, and GPT-2 small (batch 8, seq 1024) against PyTorch eager and
#      torch.compile.
# Prints a summary (also written to $OUT/summary.txt when OUT is set) and exits non-zero when
# a model check fails.
#
#   bash scripts/gpu-check.sh [--emulate]   (--emulate: parc-run's CUDA emulator, no GPU,
#                                            model checks only)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bundle="$root/.gpu"
if [[ ! -x "$bundle/bin/parc-run" ]]; then
  echo "gpu-check: $bundle/bin/parc-run is missing: run scripts/gpu-bundle.sh first" >&2
  exit 2
fi
libs="$(mktemp -d)"
tar -C "$libs" -xJf "$bundle/lib.tar.xz"
export LD_LIBRARY_PATH="$libs/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
python="${PYTHON:-python3}"
out="${OUT:-$root/build/gpu-check}"
mkdir -p "$out"
emulate=()
if [[ "${1:-}" == "--emulate" ]]; then emulate=(--emulate); fi

{
  echo "== gpu-check $(date -u +%FT%TZ)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  echo "== end-to-end models vs the CPU backend"
} | tee "$out/summary.txt"
"$python" "$root/test/pylib/gpu_models.py" run "$bundle/models" --parc-run "$bundle/bin/parc-run" \
  "${emulate[@]}" 2>&1 | tee -a "$out/summary.txt"
models=${PIPESTATUS[0]}
bench=0
if [[ ${#emulate[@]} -eq 0 ]]; then
  echo "== benchmark" | tee -a "$out/summary.txt"
  PYTHONUNBUFFERED=1 "$python" "$root/bench/cuda_bench.py" run "$bundle/bench" \
    --parc-run "$bundle/bin/parc-run" 2>&1 | tee -a "$out/summary.txt"
  bench=${PIPESTATUS[0]}
fi
if [[ ${#emulate[@]} -gt 0 ]]; then bench_result="skipped (--emulate)"
elif [[ $bench == 0 ]]; then bench_result=ran
else bench_result=FAILED; fi
echo "== gpu-check: models $([[ $models == 0 ]] && echo pass || echo FAIL), benchmark $bench_result" | tee -a "$out/summary.txt"
[[ $models == 0 && $bench == 0 ]]
