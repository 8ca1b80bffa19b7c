# RUN: %python %s %t.onnx
# RUN: parc-compile --emit=parc %t.onnx | FileCheck %s
# Elementwise ONNX operators map one-to-one onto parc ops, broadcasting as numpy does.
from onnx import helper

from onnx_graph import FLOAT, output_path, save_model, tensor_input

unary = ["Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Abs", "Tanh", "Erf", "Sigmoid", "Relu"]
nodes = [
    helper.make_node("Add", ["x", "b"], ["add"], name="add"),
    helper.make_node("Sub", ["add", "b"], ["sub"], name="sub"),
    helper.make_node("Mul", ["sub", "x"], ["mul"], name="mul"),
    helper.make_node("Div", ["mul", "b"], ["div"], name="div"),
    helper.make_node("Pow", ["div", "b"], ["pow"], name="pow"),
]
previous = "pow"
for op in unary:
    nodes.append(helper.make_node(op, [previous], [op.lower()], name=op.lower()))
    previous = op.lower()
nodes.append(helper.make_node("Gelu", [previous], ["gelu"], name="gelu"))
nodes.append(helper.make_node("Gelu", ["gelu"], ["y"], name="gelu_tanh", approximate="tanh"))

save_model(
    output_path(),
    nodes,
    [tensor_input("x", FLOAT, [2, 3]), tensor_input("b", FLOAT, [3])],
    [tensor_input("y", FLOAT, [2, 3])],
    opset=20,
)

# CHECK-LABEL: func.func @main
# CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x3xf32> {parc.name = "x"}
# CHECK-SAME: %[[B:[a-z0-9]+]]: tensor<3xf32> {parc.name = "b"}
# CHECK-SAME: -> (tensor<2x3xf32> {parc.name = "y"})
# CHECK: %[[ADD:.+]] = parc.add %[[X]], %[[B]] : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
# CHECK: %[[SUB:.+]] = parc.sub %[[ADD]], %[[B]]
# CHECK: %[[MUL:.+]] = parc.mul %[[SUB]], %[[X]]
# CHECK: %[[DIV:.+]] = parc.div %[[MUL]], %[[B]]
# CHECK: parc.pow %[[DIV]], %[[B]]
# CHECK: parc.neg
# CHECK: parc.exp
# CHECK: parc.log
# CHECK: parc.sqrt
# CHECK: parc.reciprocal
# CHECK: parc.abs
# CHECK: parc.tanh
# CHECK: parc.erf
# CHECK: parc.sigmoid
# CHECK: parc.relu
# CHECK: %[[G:.+]] = parc.gelu %{{.+}} : tensor<2x3xf32>
# CHECK: %[[GT:.+]] = parc.gelu %[[G]] {tanh_approximation} : tensor<2x3xf32>
# CHECK: return %[[GT]]
