#!/usr/bin/env bash
# Sets everything up on a fresh machine, builds parc and runs the whole test suite:
# the lit suite (dialect, importer, model families), the C++ unit tests and the Python tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
ctest --test-dir "$root/build" --output-on-failure
