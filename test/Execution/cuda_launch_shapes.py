# REQUIRES: nvrtc
# RUN: rm -rf %t && mkdir -p %t/in
# RUN: %python %s %t/norms.onnx %t/in
# RUN: %python %pylib/run_onnxruntime.py %t/norms.onnx %t/in %t/ort
# Two wrong-result bugs of the CUDA target that the test models' sizes (hidden 64, powers
# of two) hid, run through parc-run's CUDA emulator against onnxruntime:
# - a layer norm over a non-power-of-two row (hidden 768, 3 rows): its mean divided by a
#   reciprocal printed with six decimals (1/768 as 0.001302f), 3e-5 off;
# - layer norms with equal sources but different row counts (8x64 and a 2x64 slice of
#   the same input) shared one kernel entry and its launch shape: the emulator wrote 6 rows
#   past the slice's buffer.
# Relative L2 error at most 1e-5, as every f32 model.
# RUN: parc-compile %t/norms.onnx --target=cuda -o %t/norms.parc
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/norms.parc --input x=%t/in/x.npy --input z=%t/in/z.npy --output-dir %t/out
# RUN: %python %pylib/compare_outputs.py %t/out %t/ort --max-rel-l2 1e-5

import os
import sys

import numpy as np
from onnx import helper

from onnx_graph import FLOAT, constant_node, initializer, save_model, tensor_input


def main(path, inputs):
    rng = np.random.default_rng(11)
    # Inputs with a mean far from zero, so that a wrong mean shows in every element.
    x = (rng.standard_normal((8, 64)) + 3).astype(np.float32)
    z = (rng.standard_normal((3, 768)) + 3).astype(np.float32)
    np.save(os.path.join(inputs, "x.npy"), x)
    np.save(os.path.join(inputs, "z.npy"), z)
    nodes = [
        helper.make_node("LayerNormalization", ["x", "g64", "b64"], ["all_rows"], axis=-1),
        constant_node("starts", np.array([0], dtype=np.int64)),
        constant_node("ends", np.array([2], dtype=np.int64)),
        helper.make_node("Slice", ["x", "starts", "ends"], ["first_rows"]),
        helper.make_node("LayerNormalization", ["first_rows", "g64", "b64"], ["two_rows"],
                         axis=-1),
        helper.make_node("LayerNormalization", ["z", "g768", "b768"], ["wide"], axis=-1),
    ]
    save_model(
        path,
        nodes,
        [tensor_input("x", FLOAT, [8, 64]), tensor_input("z", FLOAT, [3, 768])],
        [tensor_input("all_rows", FLOAT, [8, 64]), tensor_input("two_rows", FLOAT, [2, 64]),
         tensor_input("wide", FLOAT, [3, 768])],
        [initializer("g64", rng.standard_normal(64).astype(np.float32)),
         initializer("b64", rng.standard_normal(64).astype(np.float32)),
         initializer("g768", rng.standard_normal(768).astype(np.float32)),
         initializer("b768", rng.standard_normal(768).astype(np.float32))],
        opset=17,
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
