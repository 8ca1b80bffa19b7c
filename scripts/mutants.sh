#!/usr/bin/env bash
# Mutation testing: applies each mutant of test/mutants/ (a patch that plants a bug the way a
# careful reviewer would: a dropped term, a wrong sign, a wrong average, a missing check) to a
# scratch copy of the tree, builds it, runs the tests its header names, and says whether the
# tests noticed (killed) or not (SURVIVED). A summary line gives the score.
#
#   bash scripts/mutants.sh [--list] [--keep-going] [NAME ...]
#
# NAME selects mutants by file name (without .patch; a prefix is enough); none selects all.
# --list prints the mutants and the tests each names. By default a mutant stops at the first
# test that kills it; --keep-going runs all of its tests. The scratch tree is a git worktree
# of HEAD in $PARC_MUTANT_DIR (default /tmp/parc-mutants) with its own build folder, built
# once in full (minutes on 2 cores) and then incrementally per mutant; the working tree's
# uncommitted changes are not in it. Not run in CI (tens of minutes on 2 cores); see
# docs/testing.md.
#
# A patch's header, the lines before its diff, says what it breaks and which tests must
# notice, one `# tests:` line per test:
#   # tests: lit REGEX                      lit tests whose path matches REGEX
#   # tests: unit BINARY GTEST_FILTER       a GoogleTest binary of build/bin
#   # tests: conformance PATTERN            ONNX node tests matching PATTERN (pinned outcomes)
#   # tests: pytest                         the Python front end's tests
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mutants_dir="$root/test/mutants"
scratch="${PARC_MUTANT_DIR:-/tmp/parc-mutants}"
tree="$scratch/tree"
list=0
keep_going=0
selected=()
for arg in "$@"; do
  case "$arg" in
    --list) list=1 ;;
    --keep-going) keep_going=1 ;;
    -*) echo "mutants.sh: unknown option $arg" >&2; exit 2 ;;
    *) selected+=("$arg") ;;
  esac
done

patches=()
for patch in "$mutants_dir"/*.patch; do
  name="$(basename "$patch" .patch)"
  if ((${#selected[@]})); then
    keep=0
    for want in "${selected[@]}"; do [[ "$name" == "$want"* ]] && keep=1; done
    ((keep)) || continue
  fi
  patches+=("$patch")
done
if ((${#patches[@]} == 0)); then
  echo "mutants.sh: no mutant matches ${selected[*]:-}" >&2
  exit 2
fi

tests_of() { sed -n 's/^# tests: //p' "$1"; }
summary_of() { sed -n 's/^# mutant: //p' "$1"; }

if ((list)); then
  for patch in "${patches[@]}"; do
    echo "$(basename "$patch" .patch): $(summary_of "$patch")"
    tests_of "$patch" | sed 's/^/    /'
  done
  exit 0
fi

# The scratch tree: a worktree of HEAD, the project's .venv, a build folder of its own.
mkdir -p "$scratch"
if [ ! -d "$tree/.git" ] && [ ! -f "$tree/.git" ]; then
  git -C "$root" worktree add --detach "$tree" HEAD >/dev/null 2>&1 ||
    { echo "mutants.sh: cannot make a worktree in $tree" >&2; exit 1; }
fi
git -C "$tree" checkout -q --detach "$(git -C "$root" rev-parse HEAD)"
git -C "$tree" reset -q --hard
ln -sfn "$root/.venv" "$tree/.venv"
log="$scratch/log"
mkdir -p "$log"
echo "mutants.sh: building the scratch tree $tree (the first time takes minutes)"
cmake -S "$tree" -B "$tree/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >"$log/configure.txt" 2>&1 &&
  cmake --build "$tree/build" >"$log/build.txt" 2>&1 ||
  { echo "mutants.sh: the unmutated tree does not build (see $log/build.txt)" >&2; exit 1; }
lit="/usr/lib/llvm-22/bin/lit"
python="$root/.venv/bin/python"

# Runs one `# tests:` line against the scratch build; exit 0 when the tests pass.
run_test() {
  local kind="$1"; shift
  case "$kind" in
    lit) "$lit" -q "$tree/build/test" --filter "$1" ;;
    unit) "$tree/build/bin/$1" --gtest_filter="$2" --gtest_brief=1 ;;
    conformance) "$python" "$tree/test/conformance/onnx_node_tests.py" --bin "$tree/build/bin" \
                   --jobs 2 --filter "$1" ;;
    pytest) PARC_BUILD_DIR="$tree/build" PYTHONPATH="$tree/python-frontend" \
              "$python" -m pytest -q -p no:cacheprovider "$tree/python-frontend/tests" ;;
    *) echo "unknown test kind '$kind'"; return 2 ;;
  esac
}

set -f # from here on, the tests' patterns (lit regexes, fnmatch patterns) are not file names
killed=0
survived=()
stillborn=()
for patch in "${patches[@]}"; do
  name="$(basename "$patch" .patch)"
  git -C "$tree" reset -q --hard
  if ! git -C "$tree" apply "$patch" 2>"$log/$name.apply.txt"; then
    echo "$name: does not apply (see $log/$name.apply.txt)"
    stillborn+=("$name")
    continue
  fi
  if ! cmake --build "$tree/build" >"$log/$name.build.txt" 2>&1; then
    echo "$name: does not build (see $log/$name.build.txt)"
    stillborn+=("$name")
    continue
  fi
  by=""
  while read -r line; do
    [ -n "$line" ] || continue
    # shellcheck disable=SC2086
    if ! run_test $line >>"$log/$name.tests.txt" 2>&1; then
      by="${by:+$by, }$line"
      ((keep_going)) || break
    fi
  done < <(tests_of "$patch")
  if [ -n "$by" ]; then
    echo "$name: killed by $by"
    killed=$((killed + 1))
  else
    echo "$name: SURVIVED ($(summary_of "$patch"))"
    survived+=("$name")
  fi
done
git -C "$tree" reset -q --hard
cmake --build "$tree/build" >"$log/restore.txt" 2>&1

total=$((killed + ${#survived[@]}))
if ((total > 0)); then
  echo "mutants: $killed of $total killed ($((100 * killed / total))%)${survived:+; survived: ${survived[*]}}" \
       "${stillborn:+; did not build or apply: ${stillborn[*]}}"
fi
((${#stillborn[@]} == 0)) || exit 1
