#!/usr/bin/env bash
# Sets everything up on a fresh machine, builds parc and runs the whole test suite:
# the ONNX conformance run, the lit suite (dialect, importer, passes, model families end to
# end) and the C++ unit tests (compiler and runtime).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
# The ONNX conformance run first, verbose, so its per-operator table shows in the log; then
# everything else.
status=0
ctest --test-dir "$root/build" --output-on-failure --verbose -R '^onnx-conformance$' || status=$?
ctest --test-dir "$root/build" --output-on-failure -E '^onnx-conformance$' || status=$?
# How many CUDA tests ran, and why the others were UNSUPPORTED (a machine without the CUDA
# toolkit skips them).
"$root/.venv/bin/python" "$root/test/pylib/cuda_test_summary.py" "$root/build" || true
exit "$status"
