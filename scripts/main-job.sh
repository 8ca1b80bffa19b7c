#!/usr/bin/env bash
# The main job, end to end on a fresh machine: set up, build, export the bundled GPT-2-style
# model (transformers' GPT-2 architecture, tiny config, random weights) with PyTorch's
# reference output, compile it with parc-compile, run it with parc-run on CPU ranks, and
# check parc's logits against PyTorch's and onnxruntime's (relative L2 error <= 1e-5); then
# compile it again with tensor parallelism (--tp=2: parc chooses every weight's split), run
# it on two CPU ranks over Gloo and check it gives the same logits.
#
# Then it compiles the model with tensor and pipeline parallelism together (--tp=2 --pp=2,
# the batch in two microbatches: four ranks), runs it on four CPU ranks with a trace, and
# checks the same logits. Finally it lets parc choose the layout for four devices
# (--devices=4: the search, priced on this machine as parc-calibrate measures it on first
# use), shows the chosen layout and its runners-up, runs it and checks the same logits.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"

work="$root/build/main-job"
rm -rf "$work" && mkdir -p "$work"
python="$root/.venv/bin/python"
bin="$root/build/bin"

echo "main-job: exporting the bundled GPT-2-style model and PyTorch's reference output"
"$python" "$root/test/models/make_model.py" gpt2 "$work/gpt2.onnx" --reference "$work/reference"

echo "main-job: parc-compile gpt2.onnx -o gpt2.parc --report"
"$bin/parc-compile" "$work/gpt2.onnx" -o "$work/gpt2.parc" --report

echo "main-job: parc-run gpt2.parc (CPU)"
"$bin/parc-run" "$work/gpt2.parc" --input input_ids="$work/reference/input_ids.npy" \
  --output-dir "$work/out" --report

echo "main-job: checking parc's logits against PyTorch and onnxruntime"
"$python" "$root/test/pylib/compare_outputs.py" "$work/out" "$work/reference" --names logits --max-rel-l2 1e-5
"$python" "$root/test/pylib/run_onnxruntime.py" "$work/gpt2.onnx" "$work/reference" "$work/onnxruntime"
"$python" "$root/test/pylib/compare_outputs.py" "$work/out" "$work/onnxruntime" --names logits --max-rel-l2 1e-5
echo "main-job: parc-compile gpt2.onnx --tp=2 -o gpt2-tp2.parc --report"
"$bin/parc-compile" "$work/gpt2.onnx" --tp=2 -o "$work/gpt2-tp2.parc" --report
echo "main-job: parc-run gpt2-tp2.parc (2 CPU ranks)"
"$bin/parc-run" "$work/gpt2-tp2.parc" --input input_ids="$work/reference/input_ids.npy" \
  --output-dir "$work/out-tp2" --timeout 300 --report
"$python" "$root/test/pylib/compare_outputs.py" "$work/out-tp2" "$work/reference" --names logits --max-rel-l2 1e-5
"$python" "$root/test/pylib/compare_outputs.py" "$work/out-tp2" "$work/out" --names logits --max-rel-l2 1e-5
echo "main-job: parc-compile gpt2.onnx --tp=2 --pp=2 --microbatches=2 -o gpt2-tp2-pp2.parc --report"
"$bin/parc-compile" "$work/gpt2.onnx" --tp=2 --pp=2 --microbatches=2 -o "$work/gpt2-tp2-pp2.parc" --report
echo "main-job: parc-run gpt2-tp2-pp2.parc (4 CPU ranks) --trace trace.json"
"$bin/parc-run" "$work/gpt2-tp2-pp2.parc" --input input_ids="$work/reference/input_ids.npy" \
  --output-dir "$work/out-tp2-pp2" --timeout 300 --report --trace "$work/trace.json"
"$python" "$root/test/pylib/compare_outputs.py" "$work/out-tp2-pp2" "$work/reference" --names logits --max-rel-l2 1e-5
"$python" "$root/test/pylib/compare_outputs.py" "$work/out-tp2-pp2" "$work/out" --names logits --max-rel-l2 1e-5
echo "main-job: parc-compile gpt2.onnx --devices=4 -o gpt2-auto.parc --report (parc chooses the layout)"
"$bin/parc-compile" "$work/gpt2.onnx" --devices=4 -o "$work/gpt2-auto.parc" --report \
  --plan-json "$work/plan.json"
echo "main-job: parc-run gpt2-auto.parc (4 CPU ranks, the chosen layout)"
"$bin/parc-run" "$work/gpt2-auto.parc" --input input_ids="$work/reference/input_ids.npy" \
  --output-dir "$work/out-auto" --timeout 300 --report
"$python" "$root/test/pylib/compare_outputs.py" "$work/out-auto" "$work/reference" --names logits --max-rel-l2 1e-5
"$python" "$root/test/pylib/compare_outputs.py" "$work/out-auto" "$work/out" --names logits --max-rel-l2 1e-5
echo "main-job: OK (outputs in $work/out, $work/out-tp2, $work/out-tp2-pp2 and $work/out-auto; the chosen plan in $work/plan.json; open $work/trace.json in ui.perfetto.dev)"
