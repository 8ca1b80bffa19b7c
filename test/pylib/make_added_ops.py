"""Writes one ONNX model computing the operators added by following docs/architecture.md's
"adding an op" walkthrough, each case an output.

    python make_added_ops.py OUT_DIR

OUT_DIR/ops.onnx takes x (f32 4x6, values in [-2, 2]), mask (i64 4x6, zeros and ones,
the attention mask RoBERTa and OPT turn into position ids) and labels (i64 2x3, class
numbers in [-5, 5), negative ones counting from the end) and returns, for CumSum: f32
along each axis (a negative one too), exclusive, reverse and both; the i64 running count
of the mask, and RoBERTa's position ids (cumsum(mask) * mask + padding index); and the
same in i32. For Tile: f32 along each dim and both, i64. For OneHot: f32 along the last
axis and along axis 0 with off/on values 0.5/2, and i64 with 0/1.

The contractions lowered to matmuls take image (f32 2x4x7x9), signal (f32 2x4x11), q
(f32 2x3x4x5), k (f32 2x3x6x5), kt (f32 1x3x5x6), u (f32 4) and w (f32 6). GatherND: x at
index pairs (negative ones too), rows of x, and with batch_dims=1. Conv 2-D: padded,
strided + dilated + asymmetric pads + 2 groups, a patch embedding (stride = kernel, the
tail uncovered) with bias, depthwise with auto_pad SAME_UPPER; Conv 1-D: dilated with
bias, strided with 2 groups. Einsum: a matmul, transpose, full sum, implicit output,
attention scores, the same with an ellipsis, a reduction, an outer product, a dot
product, three operands, and ellipsis dims broadcast (1 against 2). TopK: largest along
axis 1, smallest along axis 0, and i64 ties (lower index first), values and indices.

OUT_DIR/inputs holds the inputs, so run_onnxruntime.py computes the reference outputs.
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
    # GatherND: the index tuples are inputs (constants here, as exporters write them).
    node("GatherND", ["x", "pairs"], "gathernd_pairs", shape=[3])
    node("GatherND", ["x", "rows"], "gathernd_rows", shape=[2, 1, 6])
    node("GatherND", ["q", "batch_index"], "gathernd_batch_dims", shape=[2, 2, 5],
         batch_dims=1)
    # Conv 2-D and 1-D with constant weights, as exported models carry them.
    conv_weights = []

    def conv(inputs, name, weight_shape, shape, bias=False, **attrs):
        names = [inputs, name + "_w"] + ([name + "_b"] if bias else [])
        conv_weights.append(initializer(name + "_w", rng_w.standard_normal(
            weight_shape).astype(np.float32)))
        if bias:
            conv_weights.append(initializer(name + "_b", rng_w.standard_normal(
                weight_shape[0]).astype(np.float32)))
        node("Conv", names, name, shape=shape, **attrs)

    rng_w = np.random.default_rng(5)
    conv("image", "conv2d_padded", [6, 4, 3, 3], [2, 6, 7, 9], pads=[1, 1, 1, 1])
    conv("image", "conv2d_strided_dilated_groups", [6, 2, 3, 2], [2, 6, 3, 4],
         strides=[2, 2], dilations=[2, 2], pads=[0, 1, 2, 0], group=2)
    conv("image", "conv2d_patches", [8, 4, 3, 3], [2, 8, 2, 3], bias=True,
         strides=[3, 3])
    conv("image", "conv2d_depthwise_same", [4, 1, 3, 3], [2, 4, 4, 5],
         strides=[2, 2], group=4, auto_pad="SAME_UPPER")
    conv("signal", "conv1d_dilated", [6, 4, 3], [2, 6, 11], bias=True, dilations=[2],
         pads=[2, 2])
    conv("signal", "conv1d_strided_groups", [4, 2, 4], [2, 4, 3], strides=[3], group=2)
    # Einsum: every equation shape the lowering distinguishes.
    for name, equation, operands, shape in [
        ("einsum_matmul", "ij,kj->ik", ["x", "x"], [4, 4]),
        ("einsum_transpose", "ij->ji", ["x"], [6, 4]),
        ("einsum_sum", "ij->", ["x"], []),
        ("einsum_implicit", "ji", ["x"], [6, 4]),
        ("einsum_attention", "bhqd,bhkd->bhqk", ["q", "k"], [2, 3, 4, 6]),
        ("einsum_ellipsis", "...qd,...kd->...qk", ["q", "k"], [2, 3, 4, 6]),
        ("einsum_reduce", "bhqd->bd", ["q"], [2, 5]),
        ("einsum_outer", "i,j->ij", ["u", "w"], [4, 6]),
        ("einsum_dot", "i,i", ["u", "u"], []),
        ("einsum_three", "ij,kj,k->i", ["x", "x", "u"], [4]),
        ("einsum_broadcast", "...ij,...jk->...ik", ["q", "kt"], [2, 3, 4, 6]),
    ]:
        node("Einsum", operands, name, shape=shape, equation=equation)
    # TopK: values and indices; K is an input (a constant here). Ties (the 0/1 mask) come
    # out by increasing index.
    for name, data, k, shape, elem, attrs in [
        ("top_k", "x", "k3", [4, 3], FLOAT, {"axis": 1}),
        ("top_k_smallest", "x", "k2", [2, 6], FLOAT, {"axis": 0, "largest": 0}),
        ("top_k_ties", "mask", "k4", [4, 4], INT64, {"axis": -1}),
    ]:
        nodes.append(helper.make_node("TopK", [data, k], [name + "_values", name + "_indices"],
                                      name=name, **attrs))
        outputs.append(tensor_input(name + "_values", elem, shape))
        outputs.append(tensor_input(name + "_indices", INT64, shape))
    float_inputs = {"image": [2, 4, 7, 9], "signal": [2, 4, 11], "q": [2, 3, 4, 5],
                    "k": [2, 3, 6, 5], "kt": [1, 3, 5, 6], "u": [4], "w": [6]}
    save_model(os.path.join(out, "ops.onnx"), nodes,
               [tensor_input("x", FLOAT, SHAPE), tensor_input("mask", INT64, SHAPE),
                tensor_input("labels", INT64, [2, 3])] +
               [tensor_input(name, FLOAT, shape) for name, shape in float_inputs.items()],
               outputs,
               [initializer("axis0", np.array(0, dtype=np.int64)),
                initializer("axis1", np.array(1, dtype=np.int64)),
                initializer("axis_neg", np.array([-1], dtype=np.int64)),
                initializer("axis0_i32", np.array(0, dtype=np.int32)),
                initializer("padding_idx", np.array(1, dtype=np.int64)),
                initializer("repeats_rows", np.array([2, 1], dtype=np.int64)),
                initializer("repeats_both", np.array([3, 2], dtype=np.int64)),
                initializer("depth", np.array(5, dtype=np.int64)),
                initializer("off_on", np.array([0.5, 2.0], dtype=np.float32)),
                initializer("zero_one", np.array([0, 1], dtype=np.int64)),
                initializer("k2", np.array([2], dtype=np.int64)),
                initializer("k3", np.array([3], dtype=np.int64)),
                initializer("k4", np.array([4], dtype=np.int64)),
                initializer("pairs", np.array([[0, 1], [3, -1], [-4, 2]], dtype=np.int64)),
                initializer("rows", np.array([[[2]], [[-1]]], dtype=np.int64)),
                initializer("batch_index",
                            np.array([[[0, 1], [2, -1]], [[-1, 3], [1, 0]]], dtype=np.int64))]
               + conv_weights,
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
    for name, shape in float_inputs.items():
        np.save(os.path.join(out, "inputs", f"{name}.npy"),
                rng.standard_normal(shape).astype(np.float32))


if __name__ == "__main__":
    os.makedirs(sys.argv[1], exist_ok=True)
    main()
