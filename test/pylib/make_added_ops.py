"""Writes one ONNX model computing the operators added by following docs/architecture.md's
"adding an op" walkthrough, each case an output.

    python make_added_ops.py OUT_DIR

OUT_DIR/ops.onnx takes x (f32 4x6, values in [-2, 2]), mask (i64 4x6, zeros and ones,
the attention mask RoBERTa and OPT turn into position ids) and labels (i64 2x3, class
numbers in [-5, 5), negative ones counting from the end) and returns, for CumSum: f32
along each axis (a negative one too), exclusive, reverse and both; the i64 running count
of the mask, and RoBERTa's position ids (cumsum(mask) * mask + padding index); and the
same in i32. For Tile: f32 along each dim and both, i64. For OneHot: f32 along the last
axis and along axis 0 with off/on values 0.5/2, and i64 with 0/1. OUT_DIR/inputs holds the inputs, so run_onnxruntime.py computes the
reference outputs.
"""

import os
import sys

import numpy as np
from onnx import TensorProto, helper

from onnx_graph import FLOAT, INT64, initializer, save_model, tensor_input

SHAPE = [4, 6]
INT32 = TensorProto.INT32


def main():
    out = sys.argv[1]
    nodes, outputs = [], []

    def node(op, inputs, name, elem=FLOAT, shape=SHAPE, **attrs):
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        outputs.append(tensor_input(name, elem, shape))

    # CumSum: the axis is an input (a constant here, as exporters write it).
    node("CumSum", ["x", "axis1"], "cumsum")
    node("CumSum", ["x", "axis0"], "cumsum_axis0")
    node("CumSum", ["x", "axis_neg"], "cumsum_negative_axis")
    node("CumSum", ["x", "axis1"], "cumsum_exclusive", exclusive=1)
    node("CumSum", ["x", "axis1"], "cumsum_reverse", reverse=1)
    node("CumSum", ["x", "axis0"], "cumsum_reverse_exclusive", reverse=1, exclusive=1)
    node("CumSum", ["mask", "axis1"], "cumsum_i64", INT64)
    # RoBERTa's create_position_ids_from_input_ids: cumsum(mask) * mask + padding_idx.
    nodes.append(helper.make_node("Mul", ["cumsum_i64", "mask"], ["counted"], name="counted"))
    node("Add", ["counted", "padding_idx"], "position_ids", INT64)
    nodes.append(helper.make_node("Cast", ["mask"], ["mask_i32"], name="mask_i32",
                                  to=TensorProto.INT32))
    node("CumSum", ["mask_i32", "axis0_i32"], "cumsum_i32_reverse", INT32, reverse=1)
    # Tile: the repeats are an input (a constant here).
    node("Tile", ["x", "repeats_rows"], "tile_rows", shape=[8, 6])
    node("Tile", ["x", "repeats_both"], "tile_both", shape=[12, 12])
    node("Tile", ["mask", "repeats_rows"], "tile_i64", INT64, shape=[8, 6])
    # OneHot: depth and [off, on] values are inputs (constants here).
    node("OneHot", ["labels", "depth", "off_on"], "one_hot", shape=[2, 3, 5])
    node("OneHot", ["labels", "depth", "off_on"], "one_hot_axis0", shape=[5, 2, 3], axis=0)
    node("OneHot", ["labels", "depth", "zero_one"], "one_hot_i64", INT64, shape=[2, 3, 5])
    save_model(os.path.join(out, "ops.onnx"), nodes,
               [tensor_input("x", FLOAT, SHAPE), tensor_input("mask", INT64, SHAPE),
                tensor_input("labels", INT64, [2, 3])], outputs,
               [initializer("axis0", np.array(0, dtype=np.int64)),
                initializer("axis1", np.array(1, dtype=np.int64)),
                initializer("axis_neg", np.array([-1], dtype=np.int64)),
                initializer("axis0_i32", np.array(0, dtype=np.int32)),
                initializer("padding_idx", np.array(1, dtype=np.int64)),
                initializer("repeats_rows", np.array([2, 1], dtype=np.int64)),
                initializer("repeats_both", np.array([3, 2], dtype=np.int64)),
                initializer("depth", np.array(5, dtype=np.int64)),
                initializer("off_on", np.array([0.5, 2.0], dtype=np.float32)),
                initializer("zero_one", np.array([0, 1], dtype=np.int64))],
               opset=17)
    rng = np.random.default_rng(11)
    os.makedirs(os.path.join(out, "inputs"), exist_ok=True)
    np.save(os.path.join(out, "inputs", "x.npy"),
            rng.uniform(-2, 2, SHAPE).astype(np.float32))
    mask = np.ones(SHAPE, dtype=np.int64)
    mask[1, 4:] = 0  # right padding
    mask[2, :2] = 0  # left padding
    mask[3, ::2] = 0
    np.save(os.path.join(out, "inputs", "mask.npy"), mask)
    np.save(os.path.join(out, "inputs", "labels.npy"),
            np.array([[0, 4, -1], [2, -5, 3]], dtype=np.int64))


if __name__ == "__main__":
    os.makedirs(sys.argv[1], exist_ok=True)
    main()
