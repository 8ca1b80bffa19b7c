# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# RUN: parc-compile %t/model.onnx -o %t/model.parc
#
# The happy path: outputs land as DIR/<output name>.npy and match numpy.
# RUN: parc-run %t/model.parc --input x=%t/x.npy --input ids=%t/ids.npy --output-dir %t/ok
# RUN: %python %s check %t/ok
# RUN: parc-run %t/model.parc --verify --input x=%t/x.npy --input ids=%t/ids.npy --output-dir %t/ok-verified
# RUN: %python %s check %t/ok-verified
# --help prints the usage on stdout and succeeds.
# RUN: parc-run --help | FileCheck %s --check-prefix=HELP
# HELP: usage: parc-run MODEL.parc --input NAME=FILE.npy
#
# Input problems are named before any rank starts, and leave no output file.
# RUN: not parc-run %t/model.parc --input x=%t/x.npy --output-dir %t/o1 2>&1 | FileCheck %s --check-prefix=MISSING
# MISSING: parc-run: error: missing input 'ids' (i64 3); give it with --input ids=FILE.npy
# RUN: not parc-run %t/model.parc --input x=%t/x.npy --input ids=%t/ids.npy --input extra=%t/x.npy --output-dir %t/o2 2>&1 | FileCheck %s --check-prefix=EXTRA
# EXTRA: parc-run: error: --input 'extra' is not an input of the model (inputs: x, ids)
# RUN: not parc-run %t/model.parc --input x=%t/x_f64.npy --input ids=%t/ids.npy --output-dir %t/o3 2>&1 | FileCheck %s --check-prefix=DTYPE
# DTYPE: parc-run: error: {{.*}}x_f64.npy: dtype float64 (<f8) is not supported
# RUN: not parc-run %t/model.parc --input x=%t/x_i64.npy --input ids=%t/ids.npy --output-dir %t/o3 2>&1 | FileCheck %s --check-prefix=WRONGTYPE
# WRONGTYPE: parc-run: error: input 'x' must be f32 4x8, but {{.*}}x_i64.npy holds i64 4x8
# RUN: not parc-run %t/model.parc --input x=%t/x_wrong_shape.npy --input ids=%t/ids.npy --output-dir %t/o4 2>&1 | FileCheck %s --check-prefix=SHAPE
# SHAPE: parc-run: error: input 'x' must be f32 4x8, but {{.*}}x_wrong_shape.npy holds f32 8x4
# RUN: not parc-run %t/model.parc --input x=%t/nothing.npy --input ids=%t/ids.npy --output-dir %t/o5 2>&1 | FileCheck %s --check-prefix=NOFILE
# NOFILE: parc-run: error: {{.*}}nothing.npy
# RUN: not parc-run %t/model.parc --input x=%t/model.onnx --input ids=%t/ids.npy --output-dir %t/o6 2>&1 | FileCheck %s --check-prefix=NOTNPY
# NOTNPY: parc-run: error: {{.*}}model.onnx: {{.*}}
# RUN: not parc-run %t/model.parc --input x --output-dir %t/o7 2>&1 | FileCheck %s --check-prefix=MALFORMED
# MALFORMED: parc-run: error: --input 'x': expected NAME=FILE.npy
# RUN: not parc-run %t/model.parc --input x=%t/x.npy --input ids=%t/ids.npy 2>&1 | FileCheck %s --check-prefix=NODIR
# NODIR: parc-run: error: --output-dir is required: it receives the outputs of {{.*}}model.parc
# RUN: not parc-run %t/model.parc --input x=%t/x.npy --input ids=%t/ids.npy --output-dir %t/o8 --nproc 2 2>&1 | FileCheck %s --check-prefix=NPROC
# NPROC: parc-run: error: --nproc 2 does not match the artifact's world size 1
# RUN: not parc-run %t/model.parc --bogus 2>&1 | FileCheck %s --check-prefix=FLAG
# FLAG: parc-run: error: unknown option '--bogus'
#
# A failure inside a rank stops the run with the rank's message and the node; no output
# file is left behind.
# RUN: not parc-run %t/model.parc --input x=%t/x.npy --input ids=%t/ids_bad.npy --output-dir %t/bad 2>&1 | FileCheck %s --check-prefix=RANK
# RANK: parc-run: error: rank 0: node 'lookup' (gather): {{.*}}index 9{{.*}}
# RUN: not ls %t/bad/y.npy
#
# Artifacts that are not parc artifacts, truncated, corrupt or of another version are refused.
# RUN: not parc-run %t/model.onnx --input x=%t/x.npy --output-dir %t/o9 2>&1 | FileCheck %s --check-prefix=MAGIC
# MAGIC: parc-run: error: {{.*}}model.onnx: not a parc artifact (bad magic bytes)
# RUN: %python %s damage %t/model.parc %t
# RUN: not parc-run %t/truncated.parc --input x=%t/x.npy --input ids=%t/ids.npy --output-dir %t/o10 2>&1 | FileCheck %s --check-prefix=TRUNCATED
# TRUNCATED: parc-run: error: {{.*}}truncated.parc: truncated artifact: expected {{[0-9]+}} bytes, the file has {{[0-9]+}}
# RUN: not parc-run %t/corrupt.parc --input x=%t/x.npy --input ids=%t/ids.npy --output-dir %t/o11 2>&1 | FileCheck %s --check-prefix=CORRUPT
# CORRUPT: parc-run: error: {{.*}}corrupt.parc: corrupt artifact (manifest checksum mismatch)
# RUN: not parc-run %t/version.parc --input x=%t/x.npy --input ids=%t/ids.npy --output-dir %t/o12 2>&1 | FileCheck %s --check-prefix=VERSION
# VERSION: parc-run: error: {{.*}}version.parc: artifact format version 99 is not supported by this runtime (it reads version 3); recompile the model
# A flipped bit inside a weight's bytes: with --verify, one line naming the weight and the
# artifact, and no output.
# RUN: not parc-run %t/flipped.parc --verify --input x=%t/x.npy --input ids=%t/ids.npy --output-dir %t/o14 2>&1 | FileCheck %s --check-prefix=FLIPPED
# FLIPPED: parc-run: error: rank 0: {{.*}}flipped.parc: corrupt artifact: weight '{{w|table}}' does not match its checksum (CRC-32C {{[0-9a-f]+}}, the manifest says {{[0-9a-f]+}})
# RUN: not ls %t/o14/y.npy
# RUN: not parc-run %t/missing.parc --output-dir %t/o13 2>&1 | FileCheck %s --check-prefix=NOARTIFACT
# NOARTIFACT: parc-run: error: {{.*}}missing.parc: cannot open the artifact: No such file or directory
import os
import struct
import sys

import numpy as np
from onnx import helper

from onnx_graph import FLOAT, INT64, initializer, save_model, tensor_input

W = np.arange(6 * 8, dtype=np.float32).reshape(6, 8) / 10
TABLE = np.arange(5 * 8, dtype=np.float32).reshape(5, 8)


def make(out):
    save_model(
        os.path.join(out, "model.onnx"),
        [
            helper.make_node("MatMul", ["x", "w"], ["h"], name="proj"),
            helper.make_node("Relu", ["h"], ["y"], name="relu"),
            helper.make_node("Gather", ["table", "ids"], ["rows"], name="lookup", axis=0),
        ],
        [tensor_input("x", FLOAT, [4, 8]), tensor_input("ids", INT64, [3])],
        [tensor_input("y", FLOAT, [4, 6]), tensor_input("rows", FLOAT, [3, 8])],
        [initializer("w", W.T.copy()), initializer("table", TABLE)],
    )
    x = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    np.save(os.path.join(out, "x.npy"), x)
    np.save(os.path.join(out, "x_f64.npy"), x.astype(np.float64))
    np.save(os.path.join(out, "x_i64.npy"), x.astype(np.int64))
    np.save(os.path.join(out, "x_wrong_shape.npy"), x.reshape(8, 4))
    np.save(os.path.join(out, "ids.npy"), np.array([4, -1, 0], dtype=np.int64))
    np.save(os.path.join(out, "ids_bad.npy"), np.array([1, 9, 0], dtype=np.int64))


def check(out):
    x = np.load(os.path.join(os.path.dirname(out), "x.npy"))
    y = np.load(os.path.join(out, "y.npy"))
    rows = np.load(os.path.join(out, "rows.npy"))
    np.testing.assert_allclose(y, np.maximum(x @ W.T, 0), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(rows, TABLE[[4, -1, 0]])
    assert sorted(os.listdir(out)) == ["rows.npy", "y.npy"], os.listdir(out)


def damage(artifact, out):
    data = open(artifact, "rb").read()
    open(os.path.join(out, "truncated.parc"), "wb").write(data[: len(data) - 100])
    corrupt = bytearray(data)
    corrupt[40] ^= 0xFF  # a byte of the manifest
    open(os.path.join(out, "corrupt.parc"), "wb").write(bytes(corrupt))
    version = bytearray(data)
    version[8:12] = struct.pack("<I", 99)
    open(os.path.join(out, "version.parc"), "wb").write(bytes(version))
    flipped = bytearray(data)
    data_offset = struct.unpack_from("<Q", data, 24)[0]
    flipped[data_offset + 5] ^= 0x10  # a bit of the first weight shard
    open(os.path.join(out, "flipped.parc"), "wb").write(bytes(flipped))


if __name__ == "__main__":
    if sys.argv[1] == "check":
        check(sys.argv[2])
    elif sys.argv[1] == "damage":
        damage(sys.argv[2], sys.argv[3])
    else:
        make(sys.argv[1])
