# RUN: rm -rf %t && mkdir -p %t && %python %s %t
#
# Operators parc does not know are all listed in one error, with a count and a node name.
# RUN: not parc-compile --emit=parc %t/unsupported.onnx 2>&1 | FileCheck %s --check-prefix=UNKNOWN-OPS
# UNKNOWN-OPS: parc-compile: error: {{.*}}unsupported.onnx: unsupported ONNX operators: MaxPool (2 nodes, e.g. 'pool_a'), com.example.Fancy (1 node, e.g. 'fancy'), Loop (1 node, e.g. 'loop')
# UNKNOWN-OPS-NOT: error
#
# Opsets outside 7..newest are refused with the range parc supports (old_opsets.py lifts
# those from 7 to 12).
# RUN: not parc-compile --emit=parc %t/opset6.onnx 2>&1 | FileCheck %s --check-prefix=OPSET
# OPSET: parc-compile: error: {{.*}}opset6.onnx: the model uses ONNX opset 6; parc supports opsets 7 to {{[0-9]+}}
#
# Files that are not ONNX models, or do not exist, are named with the cause.
# RUN: not parc-compile --emit=parc %t/garbage.onnx 2>&1 | FileCheck %s --check-prefix=GARBAGE
# GARBAGE: parc-compile: error: {{.*}}garbage.onnx: not a valid ONNX model
# RUN: not parc-compile --emit=parc %t/text.onnx 2>&1 | FileCheck %s --check-prefix=GARBAGE2
# GARBAGE2: parc-compile: error: {{.*}}text.onnx: not a valid ONNX model
# RUN: not parc-compile --emit=parc %t/missing.onnx 2>&1 | FileCheck %s --check-prefix=MISSING
# MISSING: parc-compile: error: {{.*}}missing.onnx: cannot read the model: No such file or directory
#
# A symbolic dim needs --input-shape; a malformed or wrong --input-shape is named.
# RUN: not parc-compile --emit=parc %t/symbolic.onnx 2>&1 | FileCheck %s --check-prefix=SYMBOLIC
# SYMBOLIC: error: {{.*}}symbolic.onnx: graph input 'tokens' has a symbolic dim 1 ('sequence'); bind it with --input-shape tokens=<dims>
# RUN: not parc-compile --emit=parc %t/symbolic.onnx --input-shape tokens=2xfoo 2>&1 | FileCheck %s --check-prefix=BADFLAG
# BADFLAG: parc-compile: error: --input-shape 'tokens=2xfoo': expected NAME=DIMS such as input_ids=2x128
# RUN: not parc-compile --emit=parc %t/symbolic.onnx --input-shape other=2x3 2>&1 | FileCheck %s --check-prefix=NOTINPUT
# NOTINPUT: error: {{.*}}: --input-shape names 'other', which is not an input of the graph (inputs: tokens)
# RUN: not parc-compile --emit=parc %t/symbolic.onnx --input-shape tokens=3x8 2>&1 | FileCheck %s --check-prefix=FIXED
# FIXED: error: {{.*}}: --input-shape gives dim 0 of 'tokens' as 3, but the model fixes it to 2
# RUN: not parc-compile --emit=parc %t/symbolic.onnx --input-shape tokens=2x8x1 2>&1 | FileCheck %s --check-prefix=RANK
# RANK: error: {{.*}}: --input-shape gives 3 dims for 'tokens', which has rank 2
# RUN: parc-compile --emit=parc %t/symbolic.onnx --input-shape tokens=2x8 | FileCheck %s --check-prefix=BOUND
# BOUND: func.func @main(%arg0: tensor<2x8xf32> {parc.name = "tokens"})
#
# Shape errors point at the user's node.
# RUN: not parc-compile --emit=parc %t/mismatch.onnx 2>&1 | FileCheck %s --check-prefix=MISMATCH
# MISMATCH: parc-compile: error: {{.*}}mismatch.onnx: node 'proj': MatMul: matmul contracts dims of different sizes: 2x3 x 4x5
#
# Unsupported element types are named with the input or initializer that has them.
# RUN: not parc-compile --emit=parc %t/double.onnx 2>&1 | FileCheck %s --check-prefix=DOUBLE
# DOUBLE: error: {{.*}}double.onnx: graph input 'x': element type DOUBLE is not supported
#
# Shapes that parc cannot know at compile time are refused at the node.
# RUN: not parc-compile --emit=parc %t/dynamic_reshape.onnx 2>&1 | FileCheck %s --check-prefix=DYNAMIC
# DYNAMIC: error: {{.*}}node 'reshape': Reshape: the shape input must be a constant integer tensor after folding
#
# The lowered ops name the node and what is wrong with it.
# RUN: not parc-compile --emit=parc %t/einsum_diagonal.onnx 2>&1 | FileCheck %s --check-prefix=EINSUM
# EINSUM: error: {{.*}}node 'diag': Einsum: subscript 'i' repeats in operand 0 (a diagonal), which is not supported
# RUN: not parc-compile --emit=parc %t/einsum_sizes.onnx 2>&1 | FileCheck %s --check-prefix=EINSUM-SIZES
# EINSUM-SIZES: error: {{.*}}node 'mm': Einsum: subscript 'j' has sizes 3 and 4
# RUN: not parc-compile --emit=parc %t/conv_groups.onnx 2>&1 | FileCheck %s --check-prefix=CONV
# CONV: error: {{.*}}node 'conv': Conv: group 2 does not divide 3 input channels into weight groups of 3 and 4 filters
# RUN: not parc-compile --emit=parc %t/gathernd_tuple.onnx 2>&1 | FileCheck %s --check-prefix=GATHERND
# GATHERND: error: {{.*}}node 'gnd': GatherND: index tuples of 3 components do not fit data of rank 2 after 0 batch dims
# RUN: not parc-compile --emit=parc %t/topk_k.onnx 2>&1 | FileCheck %s --check-prefix=TOPK
# TOPK: error: {{.*}}node 'topk': TopK: K = 5 must be in [1, 3] (the size of axis 1)
#
# A failed compile leaves no output file behind.
# RUN: not parc-compile --emit=parc %t/mismatch.onnx -o %t/out.mlir
# RUN: not test -e %t/out.mlir
import os
import sys

import numpy as np
from onnx import helper

from onnx_graph import DOUBLE, FLOAT, INT64, initializer, save_model, tensor_input

out = sys.argv[1]
x = [tensor_input("x", FLOAT, [2, 3])]
y = [tensor_input("y", FLOAT, [2, 3])]

save_model(
    os.path.join(out, "unsupported.onnx"),
    [
        helper.make_node("MaxPool", ["x"], ["a"], name="pool_a", kernel_shape=[1]),
        helper.make_node("Fancy", ["a"], ["b"], name="fancy", domain="com.example"),
        helper.make_node("MaxPool", ["b"], ["c"], name="pool_b", kernel_shape=[1]),
        helper.make_node("Relu", ["c"], ["d"], name="relu"),
        helper.make_node("Loop", ["d"], ["y"], name="loop"),
    ],
    x,
    y,
    check=False,
)
save_model(os.path.join(out, "opset6.onnx"), [helper.make_node("Relu", ["x"], ["y"])], x, y, opset=6,
           check=False)
with open(os.path.join(out, "garbage.onnx"), "wb") as f:
    f.write(bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)))
with open(os.path.join(out, "text.onnx"), "w") as f:
    f.write("this is not a model\n")
save_model(
    os.path.join(out, "symbolic.onnx"),
    [helper.make_node("Relu", ["tokens"], ["y"], name="relu")],
    [tensor_input("tokens", FLOAT, [2, "sequence"])],
    [tensor_input("y", FLOAT, [2, "sequence"])],
)
save_model(
    os.path.join(out, "mismatch.onnx"),
    [helper.make_node("MatMul", ["x", "w"], ["y"], name="proj")],
    [tensor_input("x", FLOAT, [2, 3]), tensor_input("w", FLOAT, [4, 5])],
    [tensor_input("y", FLOAT, [2, 5])],
    check=False,
)
save_model(
    os.path.join(out, "double.onnx"),
    [helper.make_node("Relu", ["x"], ["y"], name="relu")],
    [tensor_input("x", DOUBLE, [2])],
    [tensor_input("y", DOUBLE, [2])],
)
save_model(
    os.path.join(out, "dynamic_reshape.onnx"),
    [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape")],
    [tensor_input("x", FLOAT, [2, 3]), tensor_input("shape", INT64, [2])],
    [tensor_input("y", FLOAT, [3, 2])],
    check=False,
)
save_model(
    os.path.join(out, "einsum_diagonal.onnx"),
    [helper.make_node("Einsum", ["sq"], ["d"], name="diag", equation="ii->i")],
    [tensor_input("sq", FLOAT, [3, 3])],
    [tensor_input("d", FLOAT, [3])],
)
save_model(
    os.path.join(out, "einsum_sizes.onnx"),
    [helper.make_node("Einsum", ["x", "w"], ["y"], name="mm", equation="ij,jk->ik")],
    [tensor_input("x", FLOAT, [2, 3]), tensor_input("w", FLOAT, [4, 5])],
    [tensor_input("y", FLOAT, [2, 5])],
    check=False,
)
save_model(
    os.path.join(out, "conv_groups.onnx"),
    [helper.make_node("Conv", ["image", "filters"], ["y"], name="conv", group=2)],
    [tensor_input("image", FLOAT, [1, 3, 5, 5]), tensor_input("filters", FLOAT, [4, 3, 3, 3])],
    [tensor_input("y", FLOAT, [1, 4, 3, 3])],
    check=False,
)
save_model(
    os.path.join(out, "gathernd_tuple.onnx"),
    [helper.make_node("GatherND", ["x", "tuples"], ["y"], name="gnd")],
    [tensor_input("x", FLOAT, [2, 3]), tensor_input("tuples", INT64, [4, 3])],
    [tensor_input("y", FLOAT, [4])],
    check=False,
)
save_model(
    os.path.join(out, "topk_k.onnx"),
    [helper.make_node("TopK", ["x", "k"], ["values", "indices"], name="topk")],
    [tensor_input("x", FLOAT, [2, 3])],
    [tensor_input("values", FLOAT, [2, 5]), tensor_input("indices", INT64, [2, 5])],
    [initializer("k", np.array([5], dtype=np.int64))],
    check=False,
)
