# REQUIRES: nvrtc
# RUN: rm -rf %t && mkdir -p %t
# The model of added_ops.py (the operators added by following the "adding an op"
# walkthrough) compiled for the CUDA target, whose generated kernels implement each one, on
# parc-run's CUDA emulator against onnxruntime: relative L2 error at most 1e-6 (f32),
# integers equal.
# RUN: %python %pylib/make_added_ops.py %t/model
# RUN: %python %pylib/run_onnxruntime.py %t/model/ops.onnx %t/model/inputs %t/ort
# RUN: parc-compile %t/model/ops.onnx --target=cuda -o %t/ops.parc
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/ops.parc --input x=%t/model/inputs/x.npy --input mask=%t/model/inputs/mask.npy --input labels=%t/model/inputs/labels.npy --input image=%t/model/inputs/image.npy --input signal=%t/model/inputs/signal.npy --input q=%t/model/inputs/q.npy --input k=%t/model/inputs/k.npy --input kt=%t/model/inputs/kt.npy --input u=%t/model/inputs/u.npy --input w=%t/model/inputs/w.npy --output-dir %t/out
# RUN: %python %pylib/compare_outputs.py %t/out %t/ort --max-rel-l2 1e-6 | FileCheck %s
# CHECK-COUNT-41: {{ ok$| equal$}}
# CHECK-NOT: {{TOO LARGE|DIFFERENT|MISSING|MISMATCH}}
