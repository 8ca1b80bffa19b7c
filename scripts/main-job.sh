#!/usr/bin/env bash
# The main job, end to end on a fresh machine: set up, build, export the bundled GPT-2-style
# model (transformers' GPT-2 architecture, tiny config, random weights), import it with
# parc-compile and check the imported module: it verifies, round-trips through parc-opt, and
# holds the model's compute with the shape arithmetic folded away.
#
# Execution (parc-run), tensor parallelism (--tp) and pipeline parallelism (--pp) arrive with
# the execution, tensor-parallel and pipeline issues; this script grows with them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"

work="$root/build/main-job"
rm -rf "$work" && mkdir -p "$work"
python="$root/.venv/bin/python"
bin="$root/build/bin"

echo "main-job: exporting the bundled GPT-2-style model"
"$python" "$root/test/models/make_model.py" gpt2 "$work/gpt2.onnx" --reference "$work/reference"

echo "main-job: parc-compile --emit=parc"
"$bin/parc-compile" "$work/gpt2.onnx" --emit=parc -o "$work/gpt2.mlir"
"$bin/parc-opt" "$work/gpt2.mlir" -o "$work/gpt2.roundtrip.mlir"
"$bin/parc-opt" "$work/gpt2.roundtrip.mlir" | cmp - "$work/gpt2.roundtrip.mlir"

matmuls=$(grep -c "parc.matmul" "$work/gpt2.mlir")
weights=$(grep -c "parc.weight @" "$work/gpt2.mlir")
leftover=$(grep -v -e "func.func @main" -e "parc.gather %.*\[%arg0\]" "$work/gpt2.mlir" | grep -c -e "xi64" || true)
echo "main-job: imported GPT-2: $weights weights, $matmuls matmuls, $leftover integer tensors left from shape arithmetic"
if [ "$matmuls" -ne 13 ] || [ "$leftover" -ne 0 ]; then
  echo "main-job: FAILED: expected 13 matmuls (2 layers x 6 + LM head) and no shape arithmetic" >&2
  exit 1
fi
echo "main-job: OK (module in $work/gpt2.mlir)"
