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
ctest --test-dir "$root/build" --output-on-failure --verbose -R '^onnx-conformance$'
ctest --test-dir "$root/build" --output-on-failure -E '^onnx-conformance$'
