"""Writes one ONNX model computing every elementwise operator parc imports, each an output.

    python make_elementwise_ops.py OUT_DIR

OUT_DIR/ops.onnx takes x (f32 3x7, values in [-2, 2]) and p (f32 3x7, in [0.5, 2]: a
positive operand for log, sqrt, reciprocal, division and powers) and returns one output
per operator: arithmetic, both remainders, unary math (Gelu exact and with the tanh
approximation), comparisons, logic, Where and Casts. OUT_DIR/inputs holds x and p, so
run_onnxruntime.py computes the reference outputs.
"""

import os
import sys

import numpy as np
from onnx import TensorProto, helper

from onnx_graph import BOOL, FLOAT, INT64, initializer, save_model, tensor_input

SHAPE = [3, 7]


def main():
    out = sys.argv[1]
    binary = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "max": "Max",
              "min": "Min"}
    nodes, outputs = [], []

    def node(op, inputs, name, elem=FLOAT, **attrs):
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        outputs.append(tensor_input(name, elem, SHAPE))

    for name, op in binary.items():
        node(op, ["x", "p"], name)
    node("Pow", ["p", "x"], "pow")
    node("Mod", ["x", "p"], "fmod", fmod=1)
    for op in ("Neg", "Abs", "Relu", "Exp", "Tanh", "Erf", "Sin", "Cos", "Sigmoid"):
        node(op, ["x"], op.lower())
    for op in ("Log", "Sqrt", "Reciprocal"):
        node(op, ["p"], op.lower())
    node("Gelu", ["x"], "gelu")
    node("Gelu", ["x"], "gelu_tanh", approximate="tanh")
    for op in ("Equal", "Less", "Greater"):
        node(op, ["x", "one"], op.lower(), BOOL)
    node("Not", ["less"], "not", BOOL)
    node("And", ["greater", "equal"], "and", BOOL)
    node("Or", ["less", "equal"], "or", BOOL)
    node("Where", ["greater", "x", "p"], "where")
    node("Cast", ["x"], "to_int", INT64, to=TensorProto.INT64)
    node("Cast", ["less"], "from_bool", FLOAT, to=TensorProto.FLOAT)
    save_model(os.path.join(out, "ops.onnx"), nodes,
               [tensor_input("x", FLOAT, SHAPE), tensor_input("p", FLOAT, SHAPE)], outputs,
               [initializer("one", np.float32(1.0))], opset=20)
    rng = np.random.default_rng(7)
    x = rng.uniform(-2, 2, SHAPE).astype(np.float32)
    x[0, :3] = [1.0, -1.0, 0.0]  # exact comparisons with one, a zero
    os.makedirs(os.path.join(out, "inputs"), exist_ok=True)
    np.save(os.path.join(out, "inputs", "x.npy"), x)
    np.save(os.path.join(out, "inputs", "p.npy"), rng.uniform(0.5, 2, SHAPE).astype(np.float32))


if __name__ == "__main__":
    os.makedirs(sys.argv[1], exist_ok=True)
    main()
