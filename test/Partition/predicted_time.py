# RUN: rm -rf %t && mkdir -p %t
# parc-compile --report --cluster=NAME|FILE prices rank 0's program on a machine profile
# (docs/planner.md): each op by the roofline, each collective by the ring formulas. The
# checks are relations, not values: one rank has no communication, tp=2 has some, and on a
# CPU core (a profile parc-calibrate wrote) less compute per rank (on a GPU the MLP's tiny
# kernels are all launch latency); GPT-2 with its 50257-token head is faster on dgx-h100
# than on dgx-a100, and slower on one CPU core than on an A100. (The MLP's kernels are so
# small that a CPU core, with no launch latency, may beat the GPU on it.)
# RUN: %python %models/make_model.py mlp %t/mlp.onnx
# RUN: %python %models/make_model.py gpt2 %t/gpt2.onnx --vocab 50257
# RUN: parc-compile %t/gpt2.onnx --report --cluster=dgx-a100 -o %t/a.parc > %t/one-a100.txt
# RUN: parc-compile %t/gpt2.onnx --report --cluster=dgx-h100 -o %t/a.parc > %t/one-h100.txt
# RUN: parc-compile %t/gpt2.onnx --tp=2 --report --cluster=dgx-a100 -o %t/a.parc > %t/tp2-a100.txt
# RUN: parc-calibrate --quick -o %t/cpu.json
# RUN: parc-compile %t/gpt2.onnx --report --cluster=%t/cpu.json -o %t/a.parc > %t/gpt2-cpu.txt
# RUN: parc-compile %t/mlp.onnx --report --cluster=%t/cpu.json -o %t/a.parc > %t/one-cpu.txt
# RUN: parc-compile %t/mlp.onnx --tp=2 --report --cluster=%t/cpu.json -o %t/a.parc > %t/tp2-cpu.txt
# RUN: FileCheck %s < %t/one-a100.txt
# CHECK: predicted on dgx-a100: {{[0-9.]+}} ms per run on each rank (compute {{[0-9.]+}} ms, communication 0.000 ms)
#
# A pipeline's ranks run different programs: it is priced as the layout search prices its
# layout on the profile, the very figure --plan-json writes for it (checked below), for
# inference and training, with tensor parallelism too.
# RUN: parc-compile %t/mlp.onnx --pp=2 --report --cluster=dgx-a100 -o %t/a.parc > %t/pp2-a100.txt
# RUN: FileCheck %s --check-prefix=PIPE < %t/pp2-a100.txt
# PIPE: predicted on dgx-a100: {{[0-9.]+}} ms per run (the layout search's price of tp=1 pp=2 dp=1 microbatches=1 schedule=1f1b recompute=none zero=0: compute {{[0-9.]+}} ms, communication {{[0-9.]+}} ms, bubble {{[0-9.]+}}%)
# RUN: parc-compile %t/mlp.onnx --pp=2 --plan-only --plan-json=%t/pp2-a100.json --cluster=dgx-a100 > /dev/null
# RUN: parc-compile %t/gpt2.onnx --tp=2 --pp=2 --microbatches=2 --train --report --cluster=dgx-a100 -o %t/a.parc > %t/tp2pp2-train.txt
# RUN: FileCheck %s --check-prefix=PIPE-TRAIN < %t/tp2pp2-train.txt
# PIPE-TRAIN: predicted on dgx-a100: {{[0-9.]+}} ms per step (the layout search's price of tp=2 pp=2 dp=1 microbatches=2 schedule=1f1b recompute=none zero=0:
# RUN: parc-compile %t/gpt2.onnx --tp=2 --pp=2 --microbatches=2 --train --plan-only --plan-json=%t/tp2pp2-train.json --cluster=dgx-a100 > /dev/null
# RUN: %python %s %t
#
# Errors: one line, before any compiling, no artifact written.
# RUN: not parc-compile %t/mlp.onnx --cluster=dgx-a100 -o %t/b.parc 2>&1 | FileCheck %s --check-prefix=NO-REPORT
# NO-REPORT: parc-compile: error: --cluster prices the plan for --report, --devices or --plan-only; give one of them too
# RUN: not parc-compile %t/mlp.onnx --report --cluster=dgx-z9 -o %t/b.parc 2>&1 | FileCheck %s --check-prefix=UNKNOWN
# UNKNOWN: parc-compile: error: --cluster=dgx-z9: 'dgx-z9' is neither a built-in machine profile (dgx-a100, dgx-h100, cpu-local) nor a file
# RUN: %python -c "import json,sys; p=json.load(open(sys.argv[1])); p['inter_node']['bandwidth']=0; json.dump(p, open(sys.argv[2],'w'))" %t/cpu.json %t/bad.json
# RUN: not parc-compile %t/mlp.onnx --report --cluster=%t/bad.json -o %t/b.parc 2>&1 | FileCheck %s --check-prefix=BAD
# BAD: parc-compile: error: --cluster={{.*}}bad.json: {{.*}}bad.json: inter_node.bandwidth: expected a positive number
# RUN: not test -e %t/b.parc
import os
import json
import re
import sys


def predicted(name):
    text = open(os.path.join(sys.argv[1], name)).read()
    match = re.search(r"predicted on (\S+): ([0-9.]+) ms per run on each rank "
                      r"\(compute ([0-9.]+) ms, communication ([0-9.]+) ms\)", text)
    assert match, text
    return float(match.group(2)), float(match.group(3)), float(match.group(4))


one, tp2 = predicted("one-a100.txt"), predicted("tp2-a100.txt")
h100 = predicted("one-h100.txt")
cpu, cpu_tp2 = predicted("one-cpu.txt"), predicted("tp2-cpu.txt")
gpt2_cpu = predicted("gpt2-cpu.txt")
assert one[2] == 0 and tp2[2] > 0 and cpu[2] == 0 and cpu_tp2[2] > 0, (one, tp2, cpu, cpu_tp2)
assert cpu_tp2[1] < cpu[1], ("tp=2 must split the compute", cpu, cpu_tp2)
assert h100[0] < one[0], ("H100 must be faster than A100", h100, one)
assert gpt2_cpu[0] > one[0], ("one CPU core must be slower than an A100", gpt2_cpu, one)


def pipeline_ms(name):
    text = open(os.path.join(sys.argv[1], name)).read()
    match = re.search(r"predicted on \S+: ([0-9.]+) ms per (run|step) \(the layout search's", text)
    assert match, text
    return float(match.group(1))


for report, plan in [("pp2-a100.txt", "pp2-a100.json"), ("tp2pp2-train.txt", "tp2pp2-train.json")]:
    reported = pipeline_ms(report)
    planned = json.load(open(os.path.join(sys.argv[1], plan)))["predicted_step_seconds"] * 1e3
    assert reported > 0 and abs(reported - planned) <= 0.0005 + 1e-3 * planned, (report, reported, planned)
print("predictions ok")
