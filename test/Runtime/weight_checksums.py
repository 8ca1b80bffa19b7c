# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s --bin %parc_bin --work %t | FileCheck %s
#
# A flipped byte in any weight shard is caught by parc-run --verify: a model with f32, f16
# and bf16 weights, compiled for one rank and for tp=2 (split shards), has a byte flipped at
# the first, middle and last position of every shard in turn. Each corrupt artifact must
# fail with one line naming the weight and the artifact, a non-zero exit and no output;
# the intact one runs clean with --verify. (Only floating-point initializers and integer
# ones over 2^20 elements become weight shards; smaller constants are literals inside the
# manifest, which its own CRC-32 covers: parc_run_errors.py.)
# CHECK: intact artifacts run with --verify: 2 of 2
# CHECK: flipped bytes detected: [[N:[0-9]+]] of [[N]] (dtypes bf16 f16 f32; layouts one-rank tp2)

import argparse
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from artifact_layout import weight_shards  # noqa: E402


def bf16_tensor(name, array):
    """A BFLOAT16 initializer (numpy has no bfloat16): the high halves of the f32 bits."""
    bits = (array.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    return helper.make_tensor(name, TensorProto.BFLOAT16, array.shape, bits.tobytes(),
                              raw=True)


def make_model(path):
    rng = np.random.default_rng(7)
    w32 = numpy_helper.from_array(rng.standard_normal((8, 8)).astype(np.float32), "w32")
    w16 = numpy_helper.from_array(rng.standard_normal((8, 8)).astype(np.float16), "w16")
    wbf = bf16_tensor("wbf", rng.standard_normal((8, 8)))
    nodes = [
        helper.make_node("MatMul", ["x", "w32"], ["a"]),
        helper.make_node("Cast", ["w16"], ["w16f"], to=TensorProto.FLOAT),
        helper.make_node("MatMul", ["x", "w16f"], ["b"]),
        helper.make_node("Cast", ["wbf"], ["wbff"], to=TensorProto.FLOAT),
        helper.make_node("MatMul", ["x", "wbff"], ["c"]),
        helper.make_node("Add", ["a", "b"], ["ab"]),
        helper.make_node("Add", ["ab", "c"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "three_dtypes",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 8])], [w32, w16, wbf])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def run(bin_dir, artifact, x, out):
    return subprocess.run([os.path.join(bin_dir, "parc-run"), artifact, "--verify",
                           "--input", "x=" + x, "--output-dir", out],
                          capture_output=True, text=True, timeout=60)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    model = os.path.join(args.work, "model.onnx")
    make_model(model)
    x = os.path.join(args.work, "x.npy")
    np.save(x, np.random.default_rng(1).standard_normal((4, 8)).astype(np.float32))

    layouts = {"one-rank": [], "tp2": ["--tp=2"]}
    intact, detected, tried, dtypes, problems = 0, 0, 0, set(), []
    for layout, flags in layouts.items():
        artifact = os.path.join(args.work, layout + ".parc")
        subprocess.run([os.path.join(args.bin, "parc-compile"), model, *flags, "-o", artifact],
                       check=True, capture_output=True)
        done = run(args.bin, artifact, x, os.path.join(args.work, layout + "-out"))
        if done.returncode == 0:
            intact += 1
        else:
            problems.append("%s: the intact artifact fails: %s" % (layout, done.stderr))
        data_offset, shards = weight_shards(artifact)
        with open(artifact, "rb") as f:
            original = f.read()
        for shard in shards:
            if shard["random"] or shard["size"] == 0:
                continue
            for position in sorted({0, shard["size"] // 2, shard["size"] - 1}):
                tried += 1
                dtypes.add(shard["dtype"])
                flipped = bytearray(original)
                flipped[data_offset + shard["offset"] + position] ^= 0xFF
                corrupt = os.path.join(args.work, "corrupt.parc")
                with open(corrupt, "wb") as f:
                    f.write(flipped)
                out = os.path.join(args.work, "corrupt-out")
                done = run(args.bin, corrupt, x, out)
                lines = done.stderr.strip().splitlines()
                expected = re.compile(
                    r"^parc-run: error: rank \d+: %s: corrupt artifact: weight '%s' does not "
                    r"match its checksum" % (re.escape(corrupt), re.escape(shard["name"])))
                label = "%s: byte %d of %s (%s)" % (layout, position, shard["name"],
                                                     shard["dtype"])
                if done.returncode == 0:
                    problems.append(label + ": not detected")
                elif len(lines) != 1 or not expected.match(lines[0]):
                    problems.append(label + ": unexpected error: %r" % done.stderr)
                elif os.path.exists(out) and os.listdir(out):
                    problems.append(label + ": left outputs")
                else:
                    detected += 1
    print("intact artifacts run with --verify: %d of %d" % (intact, len(layouts)))
    print("flipped bytes detected: %d of %d (dtypes %s; layouts %s)" % (
        detected, tried, " ".join(sorted(dtypes)), " ".join(layouts)))
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
