#!/usr/bin/env python3
"""Makes the fuzz targets' seed inputs (fuzz/seeds/TARGET/) from parc's own test inputs.

  python fuzz/make_seeds.py --bin build/bin --out fuzz/seeds            # the kept seeds
  python fuzz/make_seeds.py --node-tests DIR                             # scripts/fuzz.sh

The kept seeds are small (a few kB each) so that they can live in the repository and run in
every build's test suite; scripts/fuzz.sh starts each target's corpus from them and, for
the ONNX importer, from every model of ONNX's backend node tests too (--node-tests DIR
writes those alone, without parc-compile).

  onnx-import     models of ONNX's backend node tests (one operator each) and the test
                  suite's small MLP and one-layer GPT-2 exports (make_model.py)
  artifact        .parc files compiled from those models by parc-compile: inference at one
                  rank, tp=2, pp=2 with microbatches, dp=2, a training step, random weights
  npy             numpy's .npy format 1.0, 2.0 and 3.0 for every dtype parc reads, and some
                  it refuses (float64, Fortran order, big-endian)
  machine-profile the built-in profiles (parc-compile prints none; they come from
                  docs/planner.md's examples) and a cpu-local profile as parc-calibrate writes
  compile-flags   parc-compile command lines from the README and the tests
  run-flags       parc-run command lines from the README and the tests
"""

import argparse
import io
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Node tests whose single operator the seeds cover: the ops transformers use most.
NODE_TESTS = [
    "test_add", "test_matmul_2d", "test_gemm_default_matrix_bias", "test_softmax_axis_1",
    "test_gather_0", "test_reshape_reordered_all_dims", "test_transpose_default",
    "test_layer_normalization_2d_axis0", "test_concat_1d_axis_0", "test_slice",
    "test_reduce_mean_default_axes_keepdims_example", "test_where_example", "test_cast_FLOAT_to_FLOAT16",
    "test_expand_dim_changed", "test_unsqueeze_axis_0", "test_cumsum_2d_axis_0", "test_top_k",
    "test_einsum_sum", "test_conv_with_strides_padding", "test_constantofshape_int_zeros",
]

COMPILE_LINES = [
    ["model.onnx", "-o", "model.parc"],
    ["gpt2.onnx", "--input-shape", "input_ids=2x128", "-o", "gpt2.parc", "--report"],
    ["gpt2.onnx", "--input-shape=input_ids=2x128", "--emit=parc"],
    ["gpt2.onnx", "--tp=2", "--pp=2", "--microbatches=2", "-o", "x.parc", "--report"],
    ["gpt2.onnx", "--devices=4", "--cluster=dgx-a100", "--plan-only", "--plan-json", "p.json"],
    ["gpt2.onnx", "--devices=16", "--tp=auto", "--pp=2", "--mixed-precision=bf16", "--plan-only"],
    ["m.onnx", "--train", "--loss=cross_entropy", "--optimizer=adamw", "--lr=0.001", "--dp=2",
     "--zero=1", "--bucket-size=1MiB", "-o", "t.parc"],
    ["m.onnx", "--train", "--recompute=auto", "--memory-budget=64MiB", "--pp=2",
     "--microbatches=4", "--schedule=gpipe", "-o", "t.parc"],
    ["m.onnx", "--pp=4", "--virtual-stages=2", "--microbatches=8", "--memory-limit=2GB",
     "-o", "v.parc"],
    ["m.onnx", "--target=cuda", "--cuda-arch=sm_80", "--emit=cuda"],
    ["m.onnx", "--random-weights", "-o", "r.parc", "--report", "--cluster=cpu-local"],
    ["--print-supported-ops"],
]

RUN_LINES = [
    ["model.parc", "--input", "input_ids=ids.npy", "--output-dir", "out"],
    ["model.parc", "--input=input_ids=ids.npy", "--output-dir=out", "--nproc", "2",
     "--threads", "1", "--timeout", "30", "--report"],
    ["model.parc", "--input", "x=a.npy", "--input", "y=b.npy", "--repeat", "5", "--profile",
     "--profile-json", "p.json", "--trace", "t.json", "--verify"],
    ["train.parc", "--steps", "3", "--input", "input_ids=i.npy", "--input", "labels=l.npy",
     "--save", "ck", "--resume", "ck0"],
    ["model.parc", "--cuda-graphs", "--repeat=10", "--output-dir", "o"],
    ["--help"],
]


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def node_test_models(names=None):
    """The node tests' models, with the parameter inputs parc needs at compile time (a
    Reshape's shape) made initializers, as the conformance run binds them."""
    sys.path.insert(0, os.path.join(ROOT, "test", "conformance"))
    import warnings
    import onnx_node_tests
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from onnx.backend.test.case import node
        cases = node.collect_testcases()
    for case in cases:
        if names is None or case.name in names:
            yield case.name, onnx_node_tests.bind_compile_time_inputs(case)[0]


def npy_bytes(array, version=None):
    stream = io.BytesIO()
    if version is None:
        np.save(stream, array)
    else:
        np.lib.format.write_array(stream, array, version=version)
    return stream.getvalue()


def make_npy(out):
    rng = np.random.default_rng(0)
    arrays = {
        "f32": rng.standard_normal((2, 3)).astype(np.float32),
        "f16": rng.standard_normal((4,)).astype(np.float16),
        "i64": np.arange(6, dtype=np.int64).reshape(1, 2, 3),
        "i32": np.arange(3, dtype=np.int32),
        "bool": np.array([[True, False]]),
        "scalar": np.float32(1.5),
        "empty": np.zeros((0, 4), np.float32),
        "f64-refused": np.zeros((2,), np.float64),
        "fortran-refused": np.asfortranarray(np.zeros((2, 3), np.float32)),
        "big-endian-refused": np.zeros((2,), ">f4"),
    }
    for name, array in arrays.items():
        write(out, name + ".npy", npy_bytes(np.asarray(array)))
    write(out, "v2.npy", npy_bytes(arrays["f32"], (2, 0)))
    write(out, "v3.npy", npy_bytes(arrays["i64"], (3, 0)))


def make_profiles(out):
    sample = os.path.join(ROOT, "unittests", "Inputs", "cpu-local-sample.json")
    shutil.copy(sample, os.path.join(out, "cpu-local.json"))
    # The built-in profiles, as docs/planner.md shows them (one is enough: same fields).
    with open(os.path.join(ROOT, "lib", "Analysis", "MachineProfile.cpp")) as f:
        source = f.read()
    start = source.index('R"json(') + len('R"json(')
    write(out, "dgx-a100.json", source[start:source.index(')json"', start)].encode())


def make_models(out, bin_dir):
    onnx_dir = os.path.join(out, "onnx-import")
    os.makedirs(onnx_dir, exist_ok=True)
    for name, model in node_test_models(set(NODE_TESTS)):
        write(onnx_dir, name + ".onnx", model.SerializeToString())
    # The test suite's models (make_model.py) at a few kB: hidden size 8, one layer.
    sys.path.insert(0, os.path.join(ROOT, "test", "models"))
    import make_model
    make_model.VOCAB_SIZE, make_model.HIDDEN_SIZE, make_model.NUM_HEADS = 16, 8, 2
    make_model.NUM_KV_HEADS, make_model.INTERMEDIATE_SIZE = 1, 16
    make_model.NUM_LAYERS, make_model.MAX_POSITIONS = 1, 8
    for name in ("gpt2", "bert"):
        spec = make_model.build_model(name)
        inputs = make_model.make_inputs(spec, batch=2, seq=4)
        path = os.path.join(onnx_dir, name + ".onnx")
        make_model.export_model(spec, inputs, "torchscript", path)

    # Artifacts of those models, in the layouts the runtime distinguishes.
    artifact_dir = os.path.join(out, "artifact")
    os.makedirs(artifact_dir, exist_ok=True)
    layouts = {
        "add": ("test_add", []),
        "gemm": ("test_gemm_default_matrix_bias", []),
        "gpt2": ("gpt2", []),
        "bert-random": ("bert", ["--random-weights"]),
        "gpt2-tp2": ("gpt2", ["--tp=2"]),
        "gpt2-pp2": ("gpt2", ["--pp=2", "--microbatches=2"]),
        "gpt2-dp2": ("gpt2", ["--dp=2"]),
        "gpt2-train": ("gpt2", ["--train", "--optimizer=adamw"]),
    }
    for name, (model, flags) in layouts.items():
        source = os.path.join(onnx_dir, model + ".onnx")
        target = os.path.join(artifact_dir, name + ".parc")
        subprocess.run([os.path.join(bin_dir, "parc-compile"), source, *flags, "-o", target],
                       check=True, capture_output=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", help="the folder of parc-compile")
    parser.add_argument("--out", help="the seeds folder to (re)write")
    parser.add_argument("--node-tests", metavar="DIR",
                        help="only write every ONNX node test model into DIR")
    args = parser.parse_args()
    if args.node_tests:
        for name, model in node_test_models():
            write(args.node_tests, name + ".onnx", model.SerializeToString())
        return
    if not args.bin or not args.out:
        parser.error("--bin and --out are needed to make the seeds")
    for target in ("onnx-import", "artifact", "npy", "machine-profile", "compile-flags",
                   "run-flags"):
        shutil.rmtree(os.path.join(args.out, target), ignore_errors=True)
        os.makedirs(os.path.join(args.out, target))
    make_models(args.out, args.bin)
    make_npy(os.path.join(args.out, "npy"))
    make_profiles(os.path.join(args.out, "machine-profile"))
    for i, line in enumerate(COMPILE_LINES):
        write(os.path.join(args.out, "compile-flags"), "line%02d" % i, "\0".join(line).encode())
    for i, line in enumerate(RUN_LINES):
        write(os.path.join(args.out, "run-flags"), "line%02d" % i, "\0".join(line).encode())
    for target in sorted(os.listdir(args.out)):
        folder = os.path.join(args.out, target)
        if os.path.isdir(folder):
            size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
            print("%s: %d seeds, %d bytes" % (target, len(os.listdir(folder)), size))


if __name__ == "__main__":
    main()
