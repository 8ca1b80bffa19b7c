#!/usr/bin/env bash
# Builds parc's fuzz targets with libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer
# (clang-22, in build-fuzz/) and runs each for SECONDS (default 60), as CI does:
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET ...]     # TARGET: onnx-import artifact npy
#                                                   #   machine-profile compile-flags run-flags
#
# Each target starts from its kept seeds (fuzz/seeds), its kept crash inputs
# (fuzz/regressions) and the corpus earlier runs grew (build-fuzz/corpus/TARGET); the ONNX
# importer also from every model of ONNX's backend node tests. Targets run side by side,
# PARC_FUZZ_JOBS at a time (default: the number of cores). A crash, hang (10 s), leak or
# sanitizer report is saved as build-fuzz/crashes/TARGET/crash-*: copy it into
# fuzz/regressions/TARGET once fixed (docs/reliability.md). Prints one line per target
# (executions, corpus) and exits non-zero if any target found something.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(onnx-import artifact npy machine-profile compile-flags run-flags)
fi
jobs="${PARC_FUZZ_JOBS:-$(nproc)}"

bash "$root/scripts/setup.sh" >/dev/null
# libFuzzer and the sanitizers' runtimes come with clang; OpenMP for clang is libomp.
bash "$root/scripts/install-debian-packages.sh" clang-22 libclang-rt-22-dev libomp-22-dev

build="$root/build-fuzz"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 -DPARC_FUZZ=ON >/dev/null
cmake --build "$build" --target parc-fuzzers

node_tests="$build/node-tests"
if [ ! -d "$node_tests" ]; then
  "$root/.venv/bin/python" "$root/fuzz/make_seeds.py" --node-tests "$node_tests.partial" \
    2>/dev/null
  mv "$node_tests.partial" "$node_tests"
fi

run_target() {
  local target="$1"
  local corpus="$build/corpus/$target" crashes="$build/crashes/$target"
  local log="$build/logs/$target.log"
  mkdir -p "$corpus" "$crashes" "$build/logs"
  local inputs=("$corpus" "$root/fuzz/seeds/$target")
  [ -d "$root/fuzz/regressions/$target" ] && inputs+=("$root/fuzz/regressions/$target")
  [ "$target" = onnx-import ] && inputs+=("$node_tests")
  local options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096
                 -artifact_prefix="$crashes/" -print_final_stats=1)
  [ -f "$root/fuzz/dicts/$target.dict" ] && options+=(-dict="$root/fuzz/dicts/$target.dict")
  local status=0
  # allow_user_poisoning=0: see scripts/sanitize.sh (LLVM's allocator across libMLIR).
  ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0:allow_user_poisoning=0" \
    UBSAN_OPTIONS="print_stacktrace=1" \
    "$build/bin/parc-fuzz-$target" "${options[@]}" "${inputs[@]}" >"$log" 2>&1 || status=$?
  local runs corpus_size
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  corpus_size="$(find "$corpus" -type f | wc -l)"
  if ((status == 0)); then
    echo "fuzz: $target: ${seconds} s, ${runs:-0} executions, corpus $corpus_size inputs, no crash"
  else
    echo "fuzz: $target: FOUND A PROBLEM after ${runs:-?} executions (exit $status): $log"
    grep -E "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|fuzz check failed|Test unit written" \
      "$log" | head -5 | sed 's/^/  /'
  fi
  return "$status"
}

# Side by side, at most $jobs at a time; each leaves its exit status in a file.
rm -rf "$build/status"
mkdir -p "$build/status"
for target in "${targets[@]}"; do
  if [ ! -x "$build/bin/parc-fuzz-$target" ]; then
    echo "fuzz: unknown target '$target'" >&2
    exit 2
  fi
  while (($(jobs -rp | wc -l) >= jobs)); do
    wait -n || true
  done
  (code=0; run_target "$target" || code=$?; echo "$code" >"$build/status/$target") &
done
wait
failed=0
for target in "${targets[@]}"; do
  [ "$(cat "$build/status/$target" 2>/dev/null)" = 0 ] || failed=1
done
exit "$failed"
