"""Runs one model through parc's pipeline-parallel configurations and checks each result.

    python check_pipeline.py MODEL.onnx REFERENCE_DIR --input NAME --output NAME --work DIR

REFERENCE_DIR holds PyTorch's input and output (make_model.py --reference; the batch must
be a multiple of 4). The model is compiled and run on one CPU rank first; then with
--pp = 2 and 4, --microbatches = 1, 2 and 4 and --schedule = gpipe and 1f1b, with
--tp=2 --pp=2 (4 ranks), and with interleaved stages (--pp=2 --virtual-stages=2). Every
run must match PyTorch's output and the single-rank run's (relative L2 error at most
--max-rel-l2). parc-compile and parc-run are taken from PATH. Prints one line per
configuration and exits 1 if any failed.
"""

import argparse
import os
import subprocess
import sys

import numpy as np

from compare_outputs import relative_l2


def configurations():
    for pp in (2, 4):
        for microbatches in (1, 2, 4):
            for schedule in ("gpipe", "1f1b"):
                yield ["--pp=%d" % pp, "--microbatches=%d" % microbatches,
                       "--schedule=" + schedule]
    yield ["--tp=2", "--pp=2", "--microbatches=2"]
    yield ["--tp=2", "--pp=2", "--microbatches=4", "--schedule=gpipe"]
    yield ["--pp=2", "--virtual-stages=2", "--microbatches=2"]
    yield ["--pp=2", "--virtual-stages=2", "--microbatches=4"]


def compile_and_run(model, flags, work, name, inputs, timeout):
    """Returns the output array parc computes with `flags`, or an error message."""
    artifact = os.path.join(work, name + ".parc")
    out = os.path.join(work, name + "-out")
    steps = [["parc-compile", model, "-o", artifact] + flags,
             ["parc-run", artifact, "--output-dir", out, "--timeout", str(timeout)]
             + ["--input=%s=%s" % item for item in inputs.items()]]
    for command in steps:
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            return None, "%s failed: %s" % (command[0], result.stderr.strip()[:500])
    return out, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("reference")
    parser.add_argument("--input", required=True, help="the graph input's name")
    parser.add_argument("--output", required=True, help="the graph output's name")
    parser.add_argument("--work", required=True, help="a folder for artifacts and outputs")
    parser.add_argument("--max-rel-l2", type=float, default=1e-5)
    parser.add_argument("--timeout", type=int, default=120)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    inputs = {args.input: os.path.join(args.reference, args.input + ".npy")}
    expected = np.load(os.path.join(args.reference, args.output + ".npy"))

    single, error = compile_and_run(args.model, [], args.work, "single", inputs, args.timeout)
    if error:
        print("single rank: " + error)
        sys.exit(1)
    single_output = np.load(os.path.join(single, args.output + ".npy"))
    failures = 0
    for flags in configurations():
        name = "".join(flag.strip("-").replace("=", "") + "_" for flag in flags)
        out, error = compile_and_run(args.model, flags, args.work, name, inputs, args.timeout)
        label = " ".join(flags)
        if error:
            print("%s: %s" % (label, error))
            failures += 1
            continue
        actual = np.load(os.path.join(out, args.output + ".npy"))
        if actual.shape != expected.shape or actual.dtype != expected.dtype:
            print("%s: output %s %s, expected %s %s" % (label, actual.dtype, actual.shape,
                                                      expected.dtype, expected.shape))
            failures += 1
            continue
        vs_torch = relative_l2(actual, expected)
        vs_single = relative_l2(actual, single_output)
        passed = max(vs_torch, vs_single) <= args.max_rel_l2
        print("%s: relative L2 error %.3e vs PyTorch, %.3e vs one rank (limit %.0e) %s"
              % (label, vs_torch, vs_single, args.max_rel_l2, "ok" if passed else "TOO LARGE"))
        failures += not passed
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
