"""GPT models of Megatron's papers as ONNX graphs whose weights are absent external data.

`write_gpt(path, layers, hidden, heads, vocab, seq)` writes a pre-LayerNorm GPT (learned
positions, fused QKV projection, GELU MLP of 4h, tied input and output embedding) with a
symbolic batch dim `batch` on `input_ids` [batch, seq]. Every initializer is declared as
ONNX external data in `weights.bin` beside the model, a file that is never written: the
1T-parameter model's graph is a few hundred kilobytes, and parc plans it with
`--plan-only` without any weight bytes.

The attention has no causal mask: the mask changes neither the FLOPs Megatron counts (the
full s x s scores) nor the shapes, only one elementwise pass over the scores.
"""

import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper


def _external(name, shape, offset):
    """A float initializer of `shape` declared as external data at `offset` of weights.bin."""
    tensor = TensorProto()
    tensor.name = name
    tensor.data_type = TensorProto.FLOAT
    tensor.dims.extend(shape)
    tensor.data_location = TensorProto.EXTERNAL
    length = int(np.prod(shape)) * 4
    for key, value in (("location", "weights.bin"), ("offset", str(offset)),
                       ("length", str(length))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor, offset + length


def build_gpt(layers, hidden, heads, vocab, seq):
    """The ModelProto (opset 20) of the GPT described in the module docstring."""
    nodes, initializers, constants = [], [], []
    offset = 0

    def weight(name, shape):
        nonlocal offset
        tensor, offset = _external(name, shape, offset)
        initializers.append(tensor)
        return name

    def const(name, values):
        constants.append(helper.make_tensor(name, TensorProto.INT64, [len(values)], values))
        return name

    def node(op, inputs, outputs, **attrs):
        nodes.append(helper.make_node(op, inputs, outputs, **attrs))
        return outputs[0]

    d = hidden // heads
    heads_shape = const("heads_shape", [0, 0, heads, d])
    merged_shape = const("merged_shape", [0, 0, hidden])
    wte = weight("wte", [vocab, hidden])
    wpe = weight("wpe", [seq, hidden])
    x = node("Gather", [wte, "input_ids"], ["tokens"])
    x = node("Add", [x, wpe], ["embedded"])
    scale = "score_scale"
    constants.append(helper.make_tensor(scale, TensorProto.FLOAT, [], [1.0 / np.sqrt(d)]))
    for i in range(layers):
        p = f"h{i}."
        ln = node("LayerNormalization", [x, weight(p + "ln1.g", [hidden]),
                                         weight(p + "ln1.b", [hidden])], [p + "ln1"], axis=-1)
        qkv = node("MatMul", [ln, weight(p + "qkv.w", [hidden, 3 * hidden])], [p + "qkv_mm"])
        qkv = node("Add", [qkv, weight(p + "qkv.b", [3 * hidden])], [p + "qkv"])
        q, k, v = (p + "q", p + "k", p + "v")
        node("Split", [qkv], [q, k, v], axis=-1, num_outputs=3)
        q = node("Reshape", [q, heads_shape], [p + "q4"])
        k = node("Reshape", [k, heads_shape], [p + "k4"])
        v = node("Reshape", [v, heads_shape], [p + "v4"])
        q = node("Transpose", [q], [p + "qt"], perm=[0, 2, 1, 3])
        k = node("Transpose", [k], [p + "kt"], perm=[0, 2, 3, 1])
        v = node("Transpose", [v], [p + "vt"], perm=[0, 2, 1, 3])
        scores = node("MatMul", [q, k], [p + "scores"])
        scores = node("Mul", [scores, scale], [p + "scaled"])
        probs = node("Softmax", [scores], [p + "probs"], axis=-1)
        context = node("MatMul", [probs, v], [p + "context"])
        context = node("Transpose", [context], [p + "context_t"], perm=[0, 2, 1, 3])
        context = node("Reshape", [context, merged_shape], [p + "merged"])
        out = node("MatMul", [context, weight(p + "proj.w", [hidden, hidden])], [p + "proj_mm"])
        out = node("Add", [out, weight(p + "proj.b", [hidden])], [p + "proj"])
        x = node("Add", [x, out], [p + "residual1"])
        ln = node("LayerNormalization", [x, weight(p + "ln2.g", [hidden]),
                                         weight(p + "ln2.b", [hidden])], [p + "ln2"], axis=-1)
        up = node("MatMul", [ln, weight(p + "fc1.w", [hidden, 4 * hidden])], [p + "fc1_mm"])
        up = node("Add", [up, weight(p + "fc1.b", [4 * hidden])], [p + "fc1"])
        up = node("Gelu", [up], [p + "gelu"])
        down = node("MatMul", [up, weight(p + "fc2.w", [4 * hidden, hidden])], [p + "fc2_mm"])
        down = node("Add", [down, weight(p + "fc2.b", [hidden])], [p + "fc2"])
        x = node("Add", [x, down], [p + "residual2"])
    x = node("LayerNormalization", [x, weight("lnf.g", [hidden]), weight("lnf.b", [hidden])],
             ["lnf"], axis=-1)
    unembed = node("Transpose", [wte], ["wte_t"], perm=[1, 0])
    node("MatMul", [x, unembed], ["logits"])
    graph = helper.make_graph(
        nodes, "gpt",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", seq])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", seq, vocab])],
        initializer=initializers + constants)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])


def write_gpt(path, layers, hidden, heads, vocab=51200, seq=2048):
    onnx.save(build_gpt(layers, hidden, heads, vocab, seq), str(path))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--layers", type=int, required=True)
    parser.add_argument("--hidden", type=int, required=True)
    parser.add_argument("--heads", type=int, required=True)
    parser.add_argument("--vocab", type=int, default=51200)
    parser.add_argument("--seq", type=int, default=2048)
    args = parser.parse_args()
    write_gpt(args.out, args.layers, args.hidden, args.heads, args.vocab, args.seq)


if __name__ == "__main__":
    main()
