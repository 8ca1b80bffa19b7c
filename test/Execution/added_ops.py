# RUN: rm -rf %t && mkdir -p %t
# The operators added by following docs/architecture.md's "adding an op" walkthrough, each
# one output of one model, on the CPU backend against onnxruntime, on one rank and at tp=2
# (the partitioned run must match too): relative L2 error at most 1e-6 (f32), integers
# equal. CumSum: along each axis, exclusive, reverse, both; i64 and i32 (RoBERTa's position
# ids from the attention mask). Tile along each dim and both. OneHot along the last axis
# and axis 0, negative class numbers, f32 and i64 values. GatherND with negative indices
# and batch_dims. Conv 2-D and 1-D: padding (explicit, asymmetric, SAME_UPPER), strides,
# dilation, groups (depthwise too), bias, a patch embedding. Einsum: matmul, transpose,
# sums, implicit output, attention scores, ellipsis (broadcast too), outer and dot
# products, three operands. TopK largest and smallest, with ties, values and indices.
# make_added_ops.py lists every case.
# RUN: %python %pylib/make_added_ops.py %t/model
# RUN: %python %pylib/run_onnxruntime.py %t/model/ops.onnx %t/model/inputs %t/ort
# RUN: parc-compile %t/model/ops.onnx -o %t/ops.parc
# RUN: parc-run %t/ops.parc --input x=%t/model/inputs/x.npy --input mask=%t/model/inputs/mask.npy --input labels=%t/model/inputs/labels.npy --input image=%t/model/inputs/image.npy --input signal=%t/model/inputs/signal.npy --input q=%t/model/inputs/q.npy --input k=%t/model/inputs/k.npy --input kt=%t/model/inputs/kt.npy --input u=%t/model/inputs/u.npy --input w=%t/model/inputs/w.npy --output-dir %t/out
# RUN: %python %pylib/compare_outputs.py %t/out %t/ort --max-rel-l2 1e-6 | FileCheck %s
# RUN: parc-compile %t/model/ops.onnx --tp=2 -o %t/ops_tp2.parc
# RUN: parc-run %t/ops_tp2.parc --input x=%t/model/inputs/x.npy --input mask=%t/model/inputs/mask.npy --input labels=%t/model/inputs/labels.npy --input image=%t/model/inputs/image.npy --input signal=%t/model/inputs/signal.npy --input q=%t/model/inputs/q.npy --input k=%t/model/inputs/k.npy --input kt=%t/model/inputs/kt.npy --input u=%t/model/inputs/u.npy --input w=%t/model/inputs/w.npy --output-dir %t/out_tp2
# RUN: %python %pylib/compare_outputs.py %t/out_tp2 %t/ort --max-rel-l2 1e-6 | FileCheck %s
# CHECK-COUNT-41: {{ ok$| equal$}}
# CHECK-NOT: {{TOO LARGE|DIFFERENT|MISSING|MISMATCH}}
