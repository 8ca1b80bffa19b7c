# RUN: %python %models/make_model.py bert %t.torchscript.onnx --exporter torchscript
# RUN: parc-compile --emit=parc %t.torchscript.onnx -o %t.torchscript.mlir
# RUN: parc-opt %t.torchscript.mlir -o %t.torchscript.1.mlir
# RUN: parc-opt %t.torchscript.1.mlir -o %t.torchscript.2.mlir
# RUN: diff %t.torchscript.1.mlir %t.torchscript.2.mlir
# RUN: FileCheck %s < %t.torchscript.mlir
# RUN: FileCheck %s --check-prefix=MATMULS < %t.torchscript.mlir
# RUN: grep -v -e 'func.func @main' -e 'parc.gather %.*\[%arg0\]' %t.torchscript.mlir | not grep -e xi64 -e xi32
# RUN: %python %models/make_model.py bert %t.dynamo.onnx --exporter dynamo
# RUN: parc-compile --emit=parc %t.dynamo.onnx -o %t.dynamo.mlir
# RUN: parc-opt %t.dynamo.mlir -o %t.dynamo.1.mlir
# RUN: parc-opt %t.dynamo.1.mlir -o %t.dynamo.2.mlir
# RUN: diff %t.dynamo.1.mlir %t.dynamo.2.mlir
# RUN: FileCheck %s < %t.dynamo.mlir
# RUN: FileCheck %s --check-prefix=MATMULS < %t.dynamo.mlir
# RUN: grep -v -e 'func.func @main' -e 'parc.gather %.*\[%arg0\]' %t.dynamo.mlir | not grep -e xi64 -e xi32
#
# transformers' BERT encoder: per layer q, k, v, two attention matmuls, the attention output and the two feed-forward projections.
# Both exporters import, verify and round-trip through parc-opt; shape arithmetic is folded
# away, so only the model's compute is left: no integer tensors but the token ids (grep).
# CHECK-LABEL: func.func @main
# CHECK-SAME: %arg0: tensor<2x16xi64> {parc.name = "input_ids"}) -> (tensor<2x16x64xf32> {parc.name = "last_hidden_state"})
# CHECK: parc.gather %{{.+}}[%arg0] {axis = 0 : i64} : tensor<256x64xf32>, tensor<2x16xi64> -> tensor<2x16x64xf32>
# MATMULS-COUNT-16: parc.matmul
# MATMULS-NOT: parc.matmul
# CHECK: return
