"""Writes two ONNX models that exercise boolean logic and int32 arithmetic end to end.

    python make_logic_int32.py OUT_DIR

OUT_DIR/logic.onnx: And, Or (broadcast), Not, and their use in a Where over floats
(x > 0 and not x > 1), and an Equal of two comparisons. OUT_DIR/int32.onnx: Add, Sub, Mul,
Div (truncating towards zero), Mod with fmod 0 (the divisor's sign) and 1 (the dividend's),
Max, Min, Abs, Neg, Greater, Where, ReduceSum and a Cast to float and back, on values of
both signs. Inputs go to OUT_DIR/<model>-inputs/<name>.npy; onnxruntime's outputs, the
reference (run_onnxruntime.py), are compared exactly.
"""

import os
import sys

import numpy as np
from onnx import TensorProto, helper

from onnx_graph import BOOL, FLOAT, initializer, save_model, tensor_input

INT32 = TensorProto.INT32


def logic(out):
    nodes = [
        helper.make_node("And", ["a", "b"], ["and"], name="and"),
        helper.make_node("Or", ["a", "c"], ["or"], name="or"),
        helper.make_node("Not", ["b"], ["not"], name="not"),
        helper.make_node("Greater", ["x", "zero"], ["positive"], name="positive"),
        helper.make_node("Greater", ["x", "one"], ["above_one"], name="above_one"),
        helper.make_node("Not", ["above_one"], ["at_most_one"], name="at_most_one"),
        helper.make_node("And", ["positive", "at_most_one"], ["inside"], name="inside"),
        helper.make_node("Where", ["inside", "x", "zero"], ["kept"], name="kept"),
        helper.make_node("Equal", ["inside", "and"], ["same"], name="same"),
        helper.make_node("Or", ["same", "not"], ["either"], name="either"),
    ]
    save_model(os.path.join(out, "logic.onnx"), nodes,
               [tensor_input("a", BOOL, [3, 4]), tensor_input("b", BOOL, [3, 4]),
                tensor_input("c", BOOL, [4]), tensor_input("x", FLOAT, [3, 4])],
               [tensor_input(n, t, [3, 4]) for n, t in
                (("and", BOOL), ("or", BOOL), ("not", BOOL), ("kept", FLOAT), ("either", BOOL))],
               [initializer("zero", np.float32(0)), initializer("one", np.float32(1))], opset=18)
    rng = np.random.default_rng(3)
    inputs = {"a": rng.random((3, 4)) < 0.5, "b": rng.random((3, 4)) < 0.5,
              "c": np.array([True, False, True, False]),
              "x": rng.uniform(-1.5, 1.5, (3, 4)).astype(np.float32)}
    write_inputs(os.path.join(out, "logic-inputs"), inputs)


def int32(out):
    nodes = [
        helper.make_node("Add", ["x", "y"], ["add"], name="add"),
        helper.make_node("Sub", ["x", "y"], ["sub"], name="sub"),
        helper.make_node("Mul", ["x", "y"], ["mul"], name="mul"),
        helper.make_node("Div", ["x", "y"], ["div"], name="div"),
        helper.make_node("Mod", ["x", "y"], ["mod"], name="mod", fmod=0),
        helper.make_node("Mod", ["x", "y"], ["fmod"], name="fmod", fmod=1),
        helper.make_node("Max", ["x", "y", "seven"], ["max"], name="max"),
        helper.make_node("Min", ["x", "y"], ["min"], name="min"),
        helper.make_node("Abs", ["x"], ["abs"], name="abs"),
        helper.make_node("Neg", ["y"], ["neg"], name="neg"),
        helper.make_node("Greater", ["x", "y"], ["greater"], name="greater"),
        helper.make_node("Where", ["greater", "sub", "neg"], ["where"], name="where"),
        helper.make_node("ReduceSum", ["mul", "axes"], ["sum"], name="sum", keepdims=0),
        helper.make_node("Cast", ["div"], ["as_float"], name="as_float", to=TensorProto.FLOAT),
        helper.make_node("Mul", ["as_float", "half"], ["halved"], name="halved"),
        helper.make_node("Cast", ["halved"], ["back"], name="back", to=INT32),
    ]
    names = ["add", "sub", "mul", "div", "mod", "fmod", "max", "min", "abs", "neg", "where", "back"]
    save_model(os.path.join(out, "int32.onnx"), nodes,
               [tensor_input("x", INT32, [4, 5]), tensor_input("y", INT32, [4, 5])],
               [tensor_input(n, INT32, [4, 5]) for n in names] + [tensor_input("sum", INT32, [4])],
               [initializer("seven", np.int32(7)), initializer("axes", np.array([1], np.int64)),
                initializer("half", np.float32(0.5))], opset=18)
    rng = np.random.default_rng(4)
    y = rng.integers(1, 9, (4, 5)).astype(np.int32) * rng.choice([-1, 1], (4, 5)).astype(np.int32)
    inputs = {"x": rng.integers(-40000, 40000, (4, 5)).astype(np.int32), "y": y}
    write_inputs(os.path.join(out, "int32-inputs"), inputs)


def write_inputs(folder, inputs):
    os.makedirs(folder, exist_ok=True)
    for name, value in inputs.items():
        np.save(os.path.join(folder, name + ".npy"), value)


if __name__ == "__main__":
    os.makedirs(sys.argv[1], exist_ok=True)
    logic(sys.argv[1])
    int32(sys.argv[1])
