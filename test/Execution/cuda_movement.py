# REQUIRES: nvrtc
# RUN: rm -rf %t && mkdir -p %t/in
# RUN: %python %s %t/movement.onnx %t/in
# RUN: %python %pylib/run_onnxruntime.py %t/movement.onnx %t/in %t/ort
# The data-movement kernels of the CUDA target (MovementKernels.cpp), run through parc-run's
# CUDA emulator against onnxruntime: transposes (those moving the last dim go through
# 32 x 32 tiles in shared memory: sizes below, above and not multiples of 32, the K^T of
# attention heads, and f16), strided slices, a concatenation of three,
# an Expand, a Gather with negative indices, and reductions over dims other than the last
# (sum over dim 0, max over dims 0 and 2 kept, mean over dim 1). Relative L2 error at most
# 1e-6 (the reductions sum in another order); the gather and copies are exact.
# RUN: parc-compile %t/movement.onnx --target=cuda -o %t/movement.parc --report | FileCheck %s --check-prefix=REPORT
# REPORT: cuda kernels for sm_90: {{[0-9]+}} row, {{[0-9]+}} elementwise, {{[1-9][0-9]*}} data movement
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/movement.parc --input x=%t/in/x.npy --input ids=%t/in/ids.npy --input heads=%t/in/heads.npy --input wide=%t/in/wide.npy --output-dir %t/out
# RUN: %python %pylib/compare_outputs.py %t/out %t/ort --max-rel-l2 1e-6
# The same at tp=2 (two ranks sharing the emulated GPU; GPT-2 at tp=2 in cuda_emulated.py
# runs the shard_gather kernel of its vocabulary-parallel embedding).
# RUN: parc-compile %t/movement.onnx --target=cuda --tp=2 -o %t/movement-tp2.parc
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/movement-tp2.parc --input x=%t/in/x.npy --input ids=%t/in/ids.npy --input heads=%t/in/heads.npy --input wide=%t/in/wide.npy --output-dir %t/out-tp2
# RUN: %python %pylib/compare_outputs.py %t/out-tp2 %t/ort --max-rel-l2 1e-6

import os
import sys

import numpy as np
from onnx import helper

from onnx_graph import FLOAT, FLOAT16, INT64, constant_node, initializer, save_model, tensor_input


def main(path, inputs):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 6, 10)).astype(np.float32)
    ids = np.array([[0, 5, -1], [31, -32, 7]], dtype=np.int64)
    table = rng.standard_normal((32, 8)).astype(np.float32)
    np.save(os.path.join(inputs, "x.npy"), x)
    np.save(os.path.join(inputs, "ids.npy"), ids)
    heads = rng.standard_normal((2, 33, 3, 40)).astype(np.float32)
    wide = rng.standard_normal((70, 45)).astype(np.float32)
    np.save(os.path.join(inputs, "heads.npy"), heads)
    np.save(os.path.join(inputs, "wide.npy"), wide)
    nodes = [
        helper.make_node("Transpose", ["x"], ["transposed"], perm=[2, 0, 1]),
        helper.make_node("Transpose", ["heads"], ["keys_t"], perm=[0, 2, 3, 1]),
        helper.make_node("Transpose", ["wide"], ["wide_t"], perm=[1, 0]),
        helper.make_node("Cast", ["heads"], ["heads16"], to=10),
        helper.make_node("Transpose", ["heads16"], ["keys16_t"], perm=[0, 2, 3, 1]),
        constant_node("starts", np.array([1, 0], dtype=np.int64)),
        constant_node("ends", np.array([6, 10], dtype=np.int64)),
        constant_node("axes", np.array([1, 2], dtype=np.int64)),
        constant_node("steps", np.array([2, 3], dtype=np.int64)),
        helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["sliced"]),
        helper.make_node("Exp", ["x"], ["e"]),
        helper.make_node("Concat", ["x", "e", "x"], ["joined"], axis=1),
        constant_node("shape", np.array([3, 4, 6, 10], dtype=np.int64)),
        helper.make_node("Expand", ["x", "shape"], ["expanded"]),
        helper.make_node("Gather", ["table", "ids"], ["gathered"], axis=0),
        constant_node("axis0", np.array([0], dtype=np.int64)),
        helper.make_node("ReduceSum", ["x", "axis0"], ["sum0"], keepdims=0),
        helper.make_node("ReduceMax", ["x"], ["max02"], axes=[0, 2], keepdims=1),
        helper.make_node("ReduceMean", ["x"], ["mean1"], axes=[1], keepdims=0),
    ]
    outputs = [
        tensor_input("transposed", FLOAT, [10, 4, 6]),
        tensor_input("keys_t", FLOAT, [2, 3, 40, 33]),
        tensor_input("wide_t", FLOAT, [45, 70]),
        tensor_input("keys16_t", FLOAT16, [2, 3, 40, 33]),
        tensor_input("sliced", FLOAT, [4, 3, 4]),
        tensor_input("joined", FLOAT, [4, 18, 10]),
        tensor_input("expanded", FLOAT, [3, 4, 6, 10]),
        tensor_input("gathered", FLOAT, [2, 3, 8]),
        tensor_input("sum0", FLOAT, [6, 10]),
        tensor_input("max02", FLOAT, [1, 6, 1]),
        tensor_input("mean1", FLOAT, [4, 10]),
    ]
    save_model(
        path,
        nodes,
        [tensor_input("x", FLOAT, [4, 6, 10]), tensor_input("ids", INT64, [2, 3]),
         tensor_input("heads", FLOAT, [2, 33, 3, 40]), tensor_input("wide", FLOAT, [70, 45])],
        outputs,
        [initializer("table", table)],
        opset=17,
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
