#!/usr/bin/env bash
# The first contact of the CUDA backend with a GPU, on a machine with an NVIDIA GPU,
# PyTorch (python3) and the .gpu/ bundle made by scripts/gpu-bundle.sh. Eight steps in this
# order; each prints one line and the next runs whatever it said:
#   1. driver       the GPU, driver version, compute mode and memory (nvidia-smi);
#   2. libraries    the files parc-run opens: driver, cuBLASLt, NCCL (--cuda-libraries);
#   3. memcheck     one rank of the test GPT-2 under compute-sanitizer, if it is installed;
#   4. graphs       CUDA graphs (warm-up, capture, replay) and a --profile-json run;
#   5. repros       issue 21's wrong-result repros against the CPU backend: A (hidden 768),
#                   B (two layer norms of one source), F (f16 GPT-2 at 1 x 7);
#   6. determinism  tp=2 and pp=2 through host staging, three runs each, bit for bit;
#   7. models       every end-to-end test model (test/pylib/gpu_models.py) vs the CPU backend;
#   8. benchmark    fused kernels' bandwidth, GEMMs and GPT-2 small vs PyTorch
#                   (bench/cuda_bench.py, docs/perf.md).
# Each step's full output is in $OUT/<step>.log (OUT defaults to build/gpu-check), the
# one-line summary in $OUT/summary.txt. Exits 1 when a step failed. Each step has a time
# limit; all of them together stay under 8 minutes on an H100.
#
#   bash scripts/gpu-check.sh [--emulate]   (--emulate: parc-run's CUDA emulator, no GPU;
#                                            steps 1, 3 and 8 are skipped)
# PARC_GPU_BUNDLE names another bundle folder than .gpu/.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bundle="${PARC_GPU_BUNDLE:-$root/.gpu}"
if [[ ! -x "$bundle/bin/parc-run" ]]; then
  echo "gpu-check: $bundle/bin/parc-run is missing: run scripts/gpu-bundle.sh first" >&2
  exit 2
fi
if [[ -f "$bundle/lib.tar.xz" ]]; then
  libs="$(mktemp -d)"
  trap 'rm -rf "$libs"' EXIT
  tar -C "$libs" -xJf "$bundle/lib.tar.xz"
  export LD_LIBRARY_PATH="$libs/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
python="${PYTHON:-python3}"
out="${OUT:-$root/build/gpu-check}"
mkdir -p "$out"
emulate=()
if [[ "${1:-}" == "--emulate" ]]; then emulate=(--emulate); fi
parc_run="$bundle/bin/parc-run"
models=("$python" "$root/test/pylib/gpu_models.py")
failed=0
number=0

summary() { echo "$*" | tee -a "$out/summary.txt"; }

# step NAME SECONDS COMMAND...: runs COMMAND with a time limit, its output to NAME.log, and
# prints "gpu-check [n/8] NAME: ok|FAIL|skipped: <its last line>".
step() {
  local name="$1" seconds="$2"
  shift 2
  number=$((number + 1))
  local log="$out/$name.log" start=$SECONDS
  if declare -F "$1" >/dev/null; then
    "$@" >"$log" 2>&1 # this script's own quick steps
  else
    timeout --kill-after=10 "$seconds" "$@" >"$log" 2>&1
  fi
  local status=$?
  local last
  last="$(grep -v '^\s*$' "$log" | tail -n 1)"
  local verdict=ok
  if [[ $status == 124 || $status == 137 ]]; then
    verdict=FAIL last="timed out after $seconds s"
  elif [[ $status != 0 ]]; then
    verdict=FAIL
  elif [[ "$last" == skipped:* ]]; then
    verdict=skipped last="${last#skipped: }"
  fi
  [[ $verdict == FAIL ]] && failed=1
  summary "gpu-check [$number/8] $name: $verdict: ${last:-no output} ($((SECONDS - start)) s)"
}

skip() { echo "skipped: $*"; }

driver() {
  command -v nvidia-smi >/dev/null || { echo "nvidia-smi is not installed"; return 1; }
  nvidia-smi --query-gpu=name,driver_version,compute_mode,memory.total --format=csv,noheader |
    paste -sd ';'
  local mode
  mode="$(nvidia-smi --query-gpu=compute_mode --format=csv,noheader | head -n 1)"
  # Exclusive_Process lets one process use the GPU: ranks sharing it cannot.
  [[ "$mode" != *Exclusive* ]] || { echo "compute mode $mode: ranks cannot share the GPU"; return 1; }
}

libraries() {
  local listing status
  listing="$("$parc_run" --cuda-libraries)"
  status=$?
  echo "$listing" | paste -sd ';'
  return $status
}

: >"$out/summary.txt"
summary "== gpu-check $(date -u +%FT%TZ)${emulate:+ (the CUDA emulator)}"
if [[ ${#emulate[@]} -eq 0 ]]; then
  step driver 30 driver
else
  step driver 30 skip "--emulate"
fi
step libraries 30 libraries
if [[ ${#emulate[@]} -eq 0 ]]; then
  step memcheck 150 "${models[@]}" sanitize "$bundle/models" --case gpt2 --parc-run "$parc_run"
else
  step memcheck 30 skip "--emulate"
fi
step graphs 60 "${models[@]}" graphs "$bundle/models" --case gpt2 --parc-run "$parc_run" "${emulate[@]}"
step repros 90 "${models[@]}" run "$bundle/models" --cases repro-a-h768,repro-b-norms,repro-f-f16-1x7 \
  --parc-run "$parc_run" "${emulate[@]}"
step determinism 90 "${models[@]}" repeat "$bundle/models" --cases gpt2-tp2,gpt2-pp2 --times 3 \
  --parc-run "$parc_run" "${emulate[@]}"
step models 150 "${models[@]}" run "$bundle/models" --parc-run "$parc_run" "${emulate[@]}"
if [[ ${#emulate[@]} -eq 0 && -d "$bundle/bench" ]]; then
  step benchmark 240 env PYTHONUNBUFFERED=1 "$python" "$root/bench/cuda_bench.py" run "$bundle/bench" \
    --parc-run "$parc_run"
  cat "$out/benchmark.log" >>"$out/summary.txt"
else
  step benchmark 5 skip "${emulate[*]:-no benchmark in $bundle}"
fi
summary "== gpu-check: $([[ $failed == 0 ]] && echo 'every step passed' || echo 'a step FAILED'); logs in $out"
exit $failed
