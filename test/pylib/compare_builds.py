"""Runs the same models and layouts with two builds of parc and checks the results are equal.

    python compare_builds.py OLD_BIN NEW_BIN --work DIR [--cuda]

OLD_BIN and NEW_BIN are the build/bin folders of two builds (for example the tree before a
refactoring and after it). Each case compiles one model with one build's parc-compile and
runs it with the same build's parc-run: inference outputs must be equal bit for bit, and
training runs must print the same losses, digit for digit, and save the same checkpoint,
byte for byte. --cuda adds CUDA-target cases run on the CUDA emulator. Prints one line per
case and exits 1 if any differs.
"""

import argparse
import hashlib
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(os.path.dirname(HERE), "models")

INFERENCE = [
    ("gpt2", []), ("gpt2", ["--tp=2"]), ("gpt2", ["--pp=2", "--microbatches=2"]),
    ("gpt2", ["--tp=2", "--pp=2", "--microbatches=2"]), ("gpt2", ["--dp=2"]),
    ("gpt2", ["--pp=2", "--virtual-stages=2", "--microbatches=2"]),
    ("llama", ["--tp=2"]), ("bert", ["--tp=2", "--pp=2", "--microbatches=2"]),
    ("mlp", ["--tp=2"]),
]
TRAINING = [
    ["--optimizer=adamw", "--lr=0.01"],
    ["--optimizer=adamw", "--lr=0.01", "--dp=2", "--tp=2", "--pp=2"],
    ["--optimizer=sgd", "--lr=0.1", "--momentum=0.9", "--dp=2", "--zero=1"],
    ["--optimizer=sgd", "--lr=0.1", "--pp=2", "--microbatches=4", "--recompute=selective"],
]
CUDA = [("gpt2", []), ("gpt2", ["--tp=2"]), ("llama", [])]


def run(command, env=None):
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(command[:2]), result.stderr.strip()[-400:]))
    return result.stdout


def digest(folder):
    lines = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as file:
            lines.append("%s %s" % (name, hashlib.sha256(file.read()).hexdigest()))
    return lines


def inference(bin_dir, model, inputs, flags, out, env=None, target=()):
    artifact = out + ".parc"
    run([os.path.join(bin_dir, "parc-compile"), model, "-o", artifact] + list(target) + flags)
    run([os.path.join(bin_dir, "parc-run"), artifact, "--output-dir", out, "--timeout", "300"]
        + ["--input=%s=%s" % item for item in inputs.items()], env)
    return {name: np.load(os.path.join(out, name)) for name in sorted(os.listdir(out))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--work", required=True)
    parser.add_argument("--cuda", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    python = sys.executable
    failures = 0
    references = {}
    for name in sorted({model for model, _ in INFERENCE + (CUDA if args.cuda else [])}):
        folder = os.path.join(args.work, name)
        run([python, os.path.join(MODELS, "make_model.py"), name, folder + ".onnx", "--batch", "4",
             "--reference", folder])
        input_name = "input_ids" if name in ("gpt2", "llama", "bert") else "input"
        references[name] = (folder + ".onnx", {input_name: os.path.join(folder, input_name + ".npy")})

    def compare(label, old, new):
        nonlocal failures
        same = old.keys() == new.keys() and all(
            old[k].dtype == new[k].dtype and old[k].shape == new[k].shape and
            np.array_equal(old[k], new[k], equal_nan=True) for k in old)
        print("%s: %s" % (label, "identical" if same else "DIFFERENT"))
        failures += not same

    cases = [(m, f, ()) for m, f in INFERENCE]
    if args.cuda:
        cases += [(m, f, ("--target=cuda",)) for m, f in CUDA]
    for index, (name, flags, target) in enumerate(cases):
        model, inputs = references[name]
        env = dict(os.environ, PARC_CUDA_EMULATOR="1") if target else None
        label = "%s %s" % (name, " ".join(list(target) + flags) or "one rank")
        try:
            old = inference(args.old, model, inputs, flags, os.path.join(args.work, "old%d" % index), env, target)
            new = inference(args.new, model, inputs, flags, os.path.join(args.work, "new%d" % index), env, target)
        except RuntimeError as error:
            print("%s: %s" % (label, error))
            failures += 1
            continue
        compare(label, old, new)

    data = os.path.join(args.work, "train")
    run([python, os.path.join(MODELS, "train_reference.py"), "gpt2", data, "--steps", "3",
         "--batch", "4", "--optimizer", "sgd"])
    inputs = ["--input=input_ids=%s" % os.path.join(data, "input_ids.npy"),
              "--input=labels=%s" % os.path.join(data, "labels.npy")]
    for index, flags in enumerate(TRAINING):
        label = "train gpt2 " + " ".join(flags)
        outcome = []
        try:
            for build, bin_dir in (("old", args.old), ("new", args.new)):
                base = os.path.join(args.work, "%s-train%d" % (build, index))
                run([os.path.join(bin_dir, "parc-compile"), os.path.join(data, "model.onnx"),
                     "--train", "-o", base + ".parc"] + flags)
                losses = run([os.path.join(bin_dir, "parc-run"), base + ".parc", "--steps", "3",
                              "--output-dir", base + "-out", "--save", base + "-ckpt",
                              "--timeout", "300"] + inputs)
                outcome.append((losses, digest(base + "-ckpt")))
        except RuntimeError as error:
            print("%s: %s" % (label, error))
            failures += 1
            continue
        same = outcome[0] == outcome[1]
        print("%s: %s" % (label, "identical losses and checkpoint" if same else "DIFFERENT"))
        failures += not same
    print("%d cases differ" % failures)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
