"""Small helpers for tests that build ONNX graphs with onnx.helper.

`save_model` wraps onnx.helper so that each test states only its nodes, inputs, outputs and
initializers; the model is checked with onnx.checker (unless a test builds an invalid model
on purpose) and written to the path the lit RUN line gives.
"""

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT = TensorProto.FLOAT
FLOAT16 = TensorProto.FLOAT16
INT64 = TensorProto.INT64
BOOL = TensorProto.BOOL
DOUBLE = TensorProto.DOUBLE


def tensor_input(name, elem_type, shape):
    """A graph input or output; `shape` may hold dim_param strings."""
    return helper.make_tensor_value_info(name, elem_type, shape)


def initializer(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def constant_node(output, array, name=None):
    """A Constant node holding `array`."""
    return helper.make_node(
        "Constant", [], [output], name=name or output, value=numpy_helper.from_array(np.asarray(array))
    )


def save_model(path, nodes, inputs, outputs, initializers=(), opset=17, check=True):
    graph = helper.make_graph(nodes, "test_graph", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    # The IR version of the opset, not the newest this onnx package writes: onnxruntime
    # (the reference some tests compare with) may not read the newest yet.
    model.ir_version = min(model.ir_version, 8 if opset <= 17 else 9)
    if check:
        onnx.checker.check_model(model)
    onnx.save(model, path)
    return model


def output_path():
    """The model path the RUN line passes as the first argument."""
    if len(sys.argv) < 2:
        sys.exit("usage: %s OUT.onnx" % sys.argv[0])
    return sys.argv[1]
