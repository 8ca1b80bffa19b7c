# RUN: %python %s %t.onnx
# RUN: parc-compile --emit=parc %t.onnx --input-shape x=2x16x64 | FileCheck %s
# The Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains that exporters emit, Range,
# ConstantOfShape, Size, Expand and Trilu masks fold away once the input shape is bound: only
# the model's compute (a reshape, a transpose and a masked add) is left.
import numpy as np
from onnx import helper

from onnx_graph import FLOAT, INT64, constant_node, output_path, save_model, tensor_input

nodes = [
    # target shape = [batch, seq, 4, 64 // 4] computed from the input's shape
    helper.make_node("Shape", ["x"], ["shape"], name="shape"),
    constant_node("i0", np.array(0, dtype=np.int64)),
    constant_node("i1", np.array(1, dtype=np.int64)),
    helper.make_node("Gather", ["shape", "i0"], ["batch"], name="gather_batch", axis=0),
    helper.make_node("Gather", ["shape", "i1"], ["seq"], name="gather_seq", axis=0),
    constant_node("axes0", np.array([0], dtype=np.int64)),
    helper.make_node("Unsqueeze", ["batch", "axes0"], ["batch1"], name="unsqueeze_batch"),
    helper.make_node("Unsqueeze", ["seq", "axes0"], ["seq1"], name="unsqueeze_seq"),
    constant_node("heads", np.array([4, 16], dtype=np.int64)),
    helper.make_node("Concat", ["batch1", "seq1", "heads"], ["target"], name="concat", axis=0),
    helper.make_node("Reshape", ["x", "target"], ["split"], name="reshape"),
    helper.make_node("Transpose", ["split"], ["heads_first"], name="transpose", perm=[0, 2, 1, 3]),
    # a causal mask: Range -> Unsqueeze -> ConstantOfShape -> Trilu -> Where
    constant_node("zero", np.array(0, dtype=np.int64)),
    constant_node("one", np.array(1, dtype=np.int64)),
    helper.make_node("Range", ["zero", "seq", "one"], ["positions"], name="range"),
    helper.make_node("Size", ["positions"], ["count"], name="size"),
    helper.make_node("Unsqueeze", ["count", "axes0"], ["count1"], name="unsqueeze_count"),
    helper.make_node("Concat", ["count1", "count1"], ["square"], name="concat_square", axis=0),
    helper.make_node(
        "ConstantOfShape", ["square"], ["ones"], name="ones",
        value=helper.make_tensor("v", FLOAT, [1], [1.0]),
    ),
    helper.make_node("Trilu", ["ones"], ["lower"], name="trilu", upper=0),
    helper.make_node("Cast", ["lower"], ["keep"], name="cast", to=9),
    constant_node("neg_inf", np.array(-1e9, dtype=np.float32)),
    constant_node("zero_f", np.array(0.0, dtype=np.float32)),
    helper.make_node("Where", ["keep", "zero_f", "neg_inf"], ["bias"], name="where"),
    helper.make_node("Expand", ["bias", "square"], ["bias_full"], name="expand"),
    helper.make_node("Transpose", ["heads_first"], ["heads_first_t"], name="transpose_k", perm=[0, 1, 3, 2]),
    helper.make_node("MatMul", ["heads_first", "heads_first_t"], ["scores"], name="scores"),
    helper.make_node("Add", ["scores", "bias_full"], ["y"], name="masked"),
]
save_model(
    output_path(),
    nodes,
    [tensor_input("x", FLOAT, ["batch", "sequence", 64])],
    [tensor_input("y", FLOAT, ["batch", 4, "sequence", "sequence"])],
)

# CHECK-LABEL: func.func @main
# CHECK-SAME: tensor<2x16x64xf32>
# CHECK-SAME: -> (tensor<2x4x16x16xf32>
# CHECK-NOT: parc.gather
# CHECK-NOT: parc.concat
# CHECK-NOT: parc.select
# CHECK-NOT: parc.convert
# CHECK-NOT: parc.broadcast_to
# CHECK-DAG: %[[MASK:.+]] = parc.constant dense<{{.+}}> : tensor<16x16xf32>
# CHECK-DAG: %[[R:.+]] = parc.reshape %arg0 : tensor<2x16x64xf32> -> tensor<2x16x4x16xf32>
# CHECK: %[[T:.+]] = parc.transpose %[[R]], [0, 2, 1, 3]
# CHECK: %[[K:.+]] = parc.transpose %[[R]], [0, 2, 3, 1]
# CHECK: %[[S:.+]] = parc.matmul %[[T]], %[[K]] : tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>
# CHECK: %[[Y:.+]] = parc.add %[[S]], %[[MASK]]
# CHECK: return %[[Y]]
