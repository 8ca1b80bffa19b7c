#!/usr/bin/env bash
# Builds parc with AddressSanitizer and UndefinedBehaviorSanitizer (-DPARC_SANITIZE=ON, the
# system's g++, in build-sanitize/) and runs the whole test suite on that build, as
# scripts/test.sh does on the release build. Any sanitizer report aborts the process that
# made it, so the test that ran it fails. Leaks are reported too, but for those of the
# libraries parc uses that are not instrumented (scripts/lsan.supp says which and why).
#
#   bash scripts/sanitize.sh [CTEST ARGS...]     # e.g. -R lit, or -E onnx-conformance
#
# About an hour on a 2-core machine (the build, then a test suite that runs 2-3 times
# slower); docs/reliability.md has the last run's result.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
build="$root/build-sanitize"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPARC_SANITIZE=ON >/dev/null
cmake --build "$build"
# abort_on_error: a report ends the process with SIGABRT, which every test notices;
# detect_leaks at exit; halt_on_error for UBSan is -fno-sanitize-recover=all at compile time.
# allow_user_poisoning=0: LLVM's BumpPtrAllocator, inlined into parc's instrumented code,
# poisons the unused rest of each slab, and libMLIR (not instrumented) then writes its own
# objects there without unpoisoning them, a false "use-after-poison".
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:allocator_may_return_null=1:allow_user_poisoning=0"
export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1"
ctest --test-dir "$build" --output-on-failure "$@"
