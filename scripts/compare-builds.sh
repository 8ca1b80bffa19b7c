#!/usr/bin/env bash
# Checks that a change left parc's results bit for bit as they were: builds commit BASE in a
# scratch worktree ($PARC_COMPARE_DIR, default /tmp/parc-compare), then runs the models and
# layouts of test/pylib/compare_builds.py (inference on 1 to 4 ranks, training with
# checkpoints, CUDA-target runs on the emulator) with BASE's tools and with this tree's
# build/bin, and compares their outputs, losses and checkpoints.
#
#   bash scripts/compare-builds.sh BASE        # e.g. the commit before a refactoring
#
# Build this tree first (scripts/build.sh). The first build of BASE takes minutes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base="${1:?usage: compare-builds.sh BASE_COMMIT}"
scratch="${PARC_COMPARE_DIR:-/tmp/parc-compare}"
tree="$scratch/tree"
mkdir -p "$scratch"
if [ ! -e "$tree/.git" ]; then
  git -C "$root" worktree add --detach "$tree" "$base" >/dev/null
fi
git -C "$tree" checkout -q --detach "$base"
ln -sfn "$root/.venv" "$tree/.venv"
echo "compare-builds: building $base in $tree"
cmake -S "$tree" -B "$tree/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tree/build" >"$scratch/build.log" 2>&1 ||
  { echo "compare-builds: $base does not build (see $scratch/build.log)" >&2; exit 1; }
cuda=()
command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ] && cuda=(--cuda)
rm -rf "$scratch/work"
PYTHONPATH="$root/test/pylib:$root/test/models" OMP_NUM_THREADS=1 \
  "$root/.venv/bin/python" "$root/test/pylib/compare_builds.py" "$tree/build/bin" \
  "$root/build/bin" --work "$scratch/work" "${cuda[@]}"
