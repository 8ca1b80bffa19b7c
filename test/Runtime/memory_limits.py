# Inputs and models that would need more memory than the machine has are refused before
# anything is allocated, naming the tensor (and a model file too large to be one).
# RUN: rm -rf %t && mkdir -p %t && %python %s %t
#
# An initializer that declares 2^40 elements but holds 16 bytes:
# RUN: not parc-compile %t/huge_initializer.onnx -o %t/a.parc 2>&1 | FileCheck %s --check-prefix=INIT
# INIT: parc-compile: error: {{.*}}huge_initializer.onnx: initializer 'w': holds 16 bytes of data, expected 4398046511104
# One whose shape is beyond any memory (2^40 x 2^40):
# RUN: not parc-compile %t/beyond_initializer.onnx -o %t/a.parc 2>&1 | FileCheck %s --check-prefix=BEYOND
# BEYOND: parc-compile: error: {{.*}}beyond_initializer.onnx: initializer 'w': of shape 1099511627776x1099511627776 is too large (over 2^56 bytes)
# A graph input likewise, declared or bound with --input-shape:
# RUN: not parc-compile %t/beyond_input.onnx -o %t/a.parc 2>&1 | FileCheck %s --check-prefix=INPUT
# RUN: not parc-compile %t/relu.onnx --input-shape x=1099511627776x1099511627776 -o %t/a.parc 2>&1 | FileCheck %s --check-prefix=INPUT
# INPUT: parc-compile: error: {{.*}}: graph input 'x' of shape 1099511627776x1099511627776 is too large (over 2^56 bytes)
# A constant of 2^40 elements (ConstantOfShape): the artifact would hold 4 TB of it.
# RUN: not parc-compile %t/big_constant.onnx -o %t/big_constant.parc 2>&1 | FileCheck %s --check-prefix=CONSTANT
# CONSTANT: parc-compile: error: {{.*}}: node 'fill': a constant of 'tensor<1099511627776xf32>' needs 4398046511104 bytes (4398.0 GB) in the artifact, more than this machine's memory
# RUN: not ls %t/big_constant.parc
#
# A model whose activations need 4 TB compiles (it might run elsewhere) and parc-run
# refuses it before allocating, naming the arena; nothing is written.
# RUN: parc-compile %t/expand.onnx -o %t/expand.parc
# RUN: not parc-run %t/expand.parc --input x=%t/x.npy --output-dir %t/out 2>&1 | FileCheck %s --check-prefix=ARENA
# ARENA: parc-run: error: rank 0: the activation arena needs {{[0-9]+}} bytes ({{[0-9.]+}} GB), more than this machine's memory ({{[0-9.]+}} GB)
# RUN: not ls %t/out/y.npy
#
# A .npy input whose header declares 2^40 elements but holds none is refused as truncated
# before its data is read.
# RUN: parc-compile %t/relu.onnx --input-shape x=4x1 -o %t/relu.parc
# RUN: not parc-run %t/relu.parc --input x=%t/huge.npy --output-dir %t/out 2>&1 | FileCheck %s --check-prefix=NPY
# NPY: parc-run: error: {{.*}}huge.npy: truncated: 1099511627776 f32 needs 4398046511104 bytes of data, the file holds 0

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

TWO_TO_40 = 1 << 40


def save(graph, path):
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def main(out):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", "m"])
    relu = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "relu", [x],
                             [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", "m"])])
    save(relu, os.path.join(out, "relu.onnx"))

    big = helper.make_tensor_value_info("x", TensorProto.FLOAT, [TWO_TO_40, TWO_TO_40])
    beyond_input = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])], "beyond_input", [big],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [TWO_TO_40, TWO_TO_40])])
    save(beyond_input, os.path.join(out, "beyond_input.onnx"))

    for name, dims in (("huge_initializer", [TWO_TO_40]),
                       ("beyond_initializer", [TWO_TO_40, TWO_TO_40])):
        w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=dims, raw_data=b"\0" * 16)
        graph = helper.make_graph(
            [helper.make_node("Add", ["x", "w"], ["y"])], name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, dims)], [w])
        save(graph, os.path.join(out, name + ".onnx"))

    shape = numpy_helper.from_array(np.array([TWO_TO_40], np.int64), "shape")
    fill = helper.make_node("ConstantOfShape", ["shape"], ["big"], name="fill",
                            value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0]))
    graph = helper.make_graph(
        [fill, helper.make_node("Add", ["big", "big"], ["y"])], "big_constant", [],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [TWO_TO_40])], [shape])
    save(graph, os.path.join(out, "big_constant.onnx"))

    # y = sum(relu(expand(x, [2^40]))): one input of one element, 4 TB in between.
    nodes = [helper.make_node("Expand", ["x", "shape"], ["wide"]),
             helper.make_node("Relu", ["wide"], ["positive"]),
             helper.make_node("ReduceSum", ["positive"], ["y"], keepdims=1)]
    graph = helper.make_graph(
        nodes, "expand", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])], [shape])
    save(graph, os.path.join(out, "expand.onnx"))
    np.save(os.path.join(out, "x.npy"), np.ones(1, np.float32))

    # A version 1.0 .npy header for 2^40 float32 elements, and no data.
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % TWO_TO_40
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(os.path.join(out, "huge.npy"), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())


if __name__ == "__main__":
    main(sys.argv[1])
