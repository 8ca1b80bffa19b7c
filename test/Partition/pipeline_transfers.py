# RUN: rm -rf %t && mkdir -p %t
# The stage partitioner weighs transfers: after the greedy fill balances the load, the cuts
# move to where fewer bytes cross, as long as the slowest stage (its load plus receiving what
# crosses into it, at the model's 10 GB/s) gets no slower. GPT-2 with 12 layers on 4 stages,
# against the fill's cuts alone (weigh-transfers=false): the slowest stage is as fast or
# faster, and fewer bytes cross in total.
# RUN: %python %models/make_model.py gpt2 %t/gpt2.onnx --layers 12 --seq 64 --batch 4
# RUN: parc-compile %t/gpt2.onnx --emit=parc -o %t/gpt2.mlir
# RUN: parc-opt %t/gpt2.mlir --pass-pipeline="builtin.module(func.func(parc-assign-pipeline-stages{stages=4}))" -o %t/weighed.mlir
# RUN: parc-opt %t/gpt2.mlir --pass-pipeline="builtin.module(func.func(parc-assign-pipeline-stages{stages=4 weigh-transfers=false}))" -o %t/fill.mlir
# RUN: %python %s %t/weighed.mlir %t/fill.mlir | FileCheck %s
# CHECK: weighed: slowest stage {{[0-9.]+}} us, {{[0-9]+}} bytes cross
# CHECK: fill alone: slowest stage {{[0-9.]+}} us, {{[0-9]+}} bytes cross
# CHECK: ok
import re
import sys

LINK_BYTES_PER_SECOND = 10e9


def plan(path):
    text = open(path).read()
    seconds = [float(x) for x in re.search(r"parc\.stage_seconds = \[([^]]*)\]", text)
               .group(1).split(",")]
    incoming = [float(x) for x in re.search(r"parc\.stage_incoming_bytes = \[([^]]*)\]", text)
                .group(1).split(",")]
    slowest = max(s + b / LINK_BYTES_PER_SECOND for s, b in zip(seconds, incoming))
    return slowest, sum(incoming)


weighed = plan(sys.argv[1])
fill = plan(sys.argv[2])
print("weighed: slowest stage %.3f us, %d bytes cross" % (weighed[0] * 1e6, weighed[1]))
print("fill alone: slowest stage %.3f us, %d bytes cross" % (fill[0] * 1e6, fill[1]))
ok = weighed[0] <= fill[0] * (1 + 1e-9) and weighed[1] < fill[1]
print("ok" if ok else "FAIL")
sys.exit(0 if ok else 1)
