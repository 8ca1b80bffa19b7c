# RUN: %python %s %t.onnx
# RUN: parc-compile --emit=parc %t.onnx | FileCheck %s
# Reshape's relatives become parc.reshape, Split becomes slices, Slice clamps negative and
# out-of-range indices, Transpose defaults to reversing dims, Gather keeps its indices.
import numpy as np
from onnx import helper

from onnx_graph import FLOAT, INT64, constant_node, output_path, save_model, tensor_input

nodes = [
    helper.make_node("Flatten", ["x"], ["flat"], name="flatten", axis=2),
    constant_node("axes", np.array([1], dtype=np.int64)),
    helper.make_node("Unsqueeze", ["flat", "axes"], ["unsq"], name="unsqueeze"),
    helper.make_node("Squeeze", ["unsq", "axes"], ["sq"], name="squeeze"),
    constant_node("sizes", np.array([4, 2], dtype=np.int64)),
    helper.make_node("Split", ["sq", "sizes"], ["left", "right"], name="split", axis=1),
    constant_node("starts", np.array([-6, 0], dtype=np.int64)),
    constant_node("ends", np.array([1000, 2], dtype=np.int64)),
    constant_node("slice_axes", np.array([1, 0], dtype=np.int64)),
    constant_node("steps", np.array([2, 1], dtype=np.int64)),
    helper.make_node("Slice", ["right", "starts", "ends", "slice_axes", "steps"], ["sliced"], name="slice"),
    helper.make_node("Transpose", ["sliced"], ["t"], name="transpose"),
    helper.make_node("Gather", ["t", "ids"], ["g"], name="gather", axis=1),
    helper.make_node("Concat", ["left", "left"], ["y"], name="concat", axis=-1),
]
save_model(
    output_path(),
    nodes,
    [tensor_input("x", FLOAT, [6, 2, 3, 2]), tensor_input("ids", INT64, [5])],
    [tensor_input("y", FLOAT, [12, 8]), tensor_input("g", FLOAT, [1, 5])],
    opset=17,
)

# CHECK-LABEL: func.func @main
# CHECK: %[[FLAT:.+]] = parc.reshape %arg0 : tensor<6x2x3x2xf32> -> tensor<12x6xf32>
# CHECK-NOT: parc.reshape
# CHECK: %[[L:.+]] = parc.slice %[[FLAT]] {limit_indices = array<i64: 12, 4>, start_indices = array<i64: 0, 0>, strides = array<i64: 1, 1>}
# CHECK: %[[R:.+]] = parc.slice %[[FLAT]] {limit_indices = array<i64: 12, 6>, start_indices = array<i64: 0, 4>, strides = array<i64: 1, 1>}
# CHECK: %[[S:.+]] = parc.slice %[[R]] {limit_indices = array<i64: 2, 2>, start_indices = array<i64: 0, 0>, strides = array<i64: 1, 2>} : tensor<12x2xf32> -> tensor<2x1xf32>
# CHECK: %[[T:.+]] = parc.transpose %[[S]], [1, 0] : tensor<2x1xf32> -> tensor<1x2xf32>
# CHECK: %[[G:.+]] = parc.gather %[[T]][%arg1] {axis = 1 : i64} : tensor<1x2xf32>, tensor<5xi64> -> tensor<1x5xf32>
# CHECK: %[[C:.+]] = parc.concat %[[L]], %[[L]] {axis = 1 : i64} : (tensor<12x4xf32>, tensor<12x4xf32>) -> tensor<12x8xf32>
# CHECK: return %[[C]], %[[G]]
