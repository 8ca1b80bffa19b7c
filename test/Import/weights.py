# RUN: rm -rf %t && mkdir -p %t && %python %s make %t
#
# Initializers become parc.weight symbols whose bytes are the model's, inline or external.
# RUN: parc-compile --emit=parc %t/inline.onnx --print-weights-up-to=100000000 -o %t/inline.mlir
# RUN: %python %s check %t/inline.onnx %t/inline.mlir
# RUN: parc-compile --emit=parc %t/external.onnx --print-weights-up-to=100000000 -o %t/external.mlir
# RUN: %python %s check %t/inline.onnx %t/external.mlir
# RUN: FileCheck %s < %t/external.mlir
# CHECK-DAG: parc.weight @"layer.0/weight" = dense_resource<layer.0_weight> : tensor<64x32xf32>
# CHECK-DAG: parc.weight @"layer.0/bias" = dense_resource<layer.0_bias> : tensor<32xf16>
# Small integer initializers and float scalars stay constants that folding can see.
# CHECK-NOT: parc.weight @shape
# CHECK-NOT: parc.weight @scale
#
# Missing or truncated external data is reported with the file it expected.
# RUN: rm %t/weights.bin
# RUN: not parc-compile --emit=parc %t/external.onnx 2>&1 | FileCheck %s --check-prefix=MISSING
# MISSING: parc-compile: error: {{.*}}external.onnx: initializer 'layer.0/weight': external data file '{{.*}}weights.bin' is missing or unreadable
# RUN: head -c 100 %t/inline.onnx > %t/weights.bin
# RUN: not parc-compile --emit=parc %t/external.onnx 2>&1 | FileCheck %s --check-prefix=SHORT
# SHORT: parc-compile: error: {{.*}}external.onnx: initializer 'layer.0/weight': external data file '{{.*}}weights.bin' is too short (100 bytes)
import os
import re
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

from onnx_graph import FLOAT, initializer, save_model, tensor_input


def make(out):
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node("MatMul", ["x", "layer.0/weight"], ["h"], name="matmul"),
        helper.make_node("Cast", ["layer.0/bias"], ["bias32"], name="cast", to=FLOAT),
        helper.make_node("Add", ["h", "bias32"], ["hb"], name="add"),
        helper.make_node("Mul", ["hb", "scale"], ["hs"], name="scale"),
        helper.make_node("Reshape", ["hs", "shape"], ["y"], name="reshape"),
    ]
    inits = [
        initializer("layer.0/weight", rng.standard_normal((64, 32)).astype(np.float32)),
        initializer("layer.0/bias", rng.standard_normal(32).astype(np.float16)),
        initializer("scale", np.array(0.5, dtype=np.float32)),
        initializer("shape", np.array([4, 2, 16], dtype=np.int64)),
    ]
    model = save_model(
        os.path.join(out, "inline.onnx"),
        nodes,
        [tensor_input("x", FLOAT, [4, 64])],
        [tensor_input("y", FLOAT, [4, 2, 16])],
        inits,
    )
    onnx.save_model(
        model,
        os.path.join(out, "external.onnx"),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="weights.bin",
        size_threshold=0,
    )


def resources(text):
    """Name -> raw bytes of every dense resource printed in `text` (after the alignment word)."""
    blobs = {}
    for name, hexdata in re.findall(r'^\s*([\w.]+): "0x([0-9A-F]+)"', text, re.M):
        blobs[name] = bytes.fromhex(hexdata)[4:]
    return blobs


def check(model_path, mlir_path):
    model = onnx.load(model_path)
    text = open(mlir_path).read()
    blobs = resources(text)
    weights = dict(re.findall(r'parc.weight @"?([^" ]+)"? = dense_resource<([\w.]+)>', text))
    expected = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    assert set(weights) == {"layer.0/weight", "layer.0/bias"}, weights
    for name, key in weights.items():
        array = expected[name]
        actual = np.frombuffer(blobs[key], dtype=array.dtype).reshape(array.shape)
        assert np.array_equal(actual, array), "weight %s differs" % name
    print("weights match:", sorted(weights))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3])
