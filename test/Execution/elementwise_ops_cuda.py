# REQUIRES: nvrtc
# RUN: rm -rf %t && mkdir -p %t
# The model of elementwise_ops.py (every elementwise operator, one output each) compiled
# for the CUDA target, whose generated kernels carry each operator's CUDA expression, on
# parc-run's CUDA emulator against onnxruntime: relative L2 error at most 1e-6 (f32),
# booleans and integers equal.
# RUN: %python %pylib/make_elementwise_ops.py %t/model
# RUN: %python %pylib/run_onnxruntime.py %t/model/ops.onnx %t/model/inputs %t/ort
# RUN: parc-compile %t/model/ops.onnx --target=cuda -o %t/ops.parc
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/ops.parc --input x=%t/model/inputs/x.npy --input p=%t/model/inputs/p.npy --output-dir %t/out
# RUN: %python %pylib/compare_outputs.py %t/out %t/ort --max-rel-l2 1e-6 | FileCheck %s
# CHECK-COUNT-31: {{ ok$| equal$}}
# CHECK-NOT: {{TOO LARGE|DIFFERENT|MISSING|MISMATCH}}
