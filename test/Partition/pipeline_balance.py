# RUN: rm -rf %t && mkdir -p %t
# The stage partitioner balances modelled time. Eight identical GPT-2 layers (small
# vocabulary) on four stages: the heaviest stage is within 10% of the ideal (total / pp),
# and --report prints the figure. With a vocabulary of 2048 the LM head weighs about as much
# as two layers: the stages stay even in time, so the last stage holds far fewer ops.
# RUN: %python %models/make_model.py gpt2 %t/even.onnx --layers 8
# RUN: parc-compile %t/even.onnx --pp=4 -o %t/even.parc --report > %t/even.txt
# RUN: FileCheck %s < %t/even.txt
# CHECK: mesh: dp=1 pp=4 tp=1
# CHECK: pipeline: 4 stages, 1 microbatches, schedule 1f1b
# CHECK: balance: ideal {{.*}} imbalance 1.0{{[0-9]+}} (heaviest / ideal)
# CHECK: schedule simulation: step {{.*}} bubble 75.{{[0-9]}}% of the step
# RUN: %python %models/make_model.py gpt2 %t/head.onnx --layers 8 --vocab 2048
# RUN: parc-compile %t/head.onnx --pp=4 -o %t/head.parc --report > %t/head.txt
# RUN: %python %s %t/even.txt %t/head.txt
import re
import sys


def chunks(path):
    text = open(path).read()
    ops = [int(n) for n in re.findall(r"chunk \d+ on stage \d+: (\d+) ops", text)]
    imbalance = float(re.search(r"imbalance ([0-9.]+)", text).group(1))
    return ops, imbalance


even_ops, even_imbalance = chunks(sys.argv[1])
head_ops, head_imbalance = chunks(sys.argv[2])
print("identical layers: ops per stage %s, imbalance %.3f" % (even_ops, even_imbalance))
print("heavy LM head: ops per stage %s, imbalance %.3f" % (head_ops, head_imbalance))
assert even_imbalance <= 1.10, "identical layers: heaviest stage more than 10% over ideal"
assert head_imbalance <= 1.10, "heavy LM head: heaviest stage more than 10% over ideal"
# Even in time, uneven in work items: the stage with the LM head has under half the ops of
# the average other stage.
assert head_ops[-1] * 2 < sum(head_ops[:-1]) / len(head_ops[:-1]), head_ops
