# RUN: rm -rf %t && mkdir -p %t
# Every elementwise ONNX operator parc imports (arithmetic, remainders, unary math, Gelu
# exact and tanh-approximated, comparisons, logic, Where, Casts), each one output of one
# model, on the CPU backend against onnxruntime: relative L2 error at most 1e-6 (f32; the
# CPU backend's exp and tanh are within a few ulp), booleans and integers equal.
# RUN: %python %pylib/make_elementwise_ops.py %t/model
# RUN: %python %pylib/run_onnxruntime.py %t/model/ops.onnx %t/model/inputs %t/ort
# RUN: parc-compile %t/model/ops.onnx -o %t/ops.parc
# RUN: parc-run %t/ops.parc --input x=%t/model/inputs/x.npy --input p=%t/model/inputs/p.npy --output-dir %t/out
# RUN: %python %pylib/compare_outputs.py %t/out %t/ort --max-rel-l2 1e-6 | FileCheck %s
# CHECK-COUNT-31: {{ ok$| equal$}}
# CHECK-NOT: {{TOO LARGE|DIFFERENT|MISSING|MISMATCH}}
