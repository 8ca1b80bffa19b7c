"""Trains a model with parc in several layouts and checks each against PyTorch's training.

    python check_training.py REFERENCE_DIR --work DIR --layout "FLAGS" [--layout ...]
        [--max-rel 1e-4] [--timeout 120]

REFERENCE_DIR is what train_reference.py wrote: the exported model, the batches, PyTorch's
losses, its weights before the first step, after the first and after the last, and the
gradient of the first step (config.json says how it trained). For every --layout (the
parallelism flags of parc-compile; "" is one rank) the model is compiled with the
reference's loss and optimizer, trained for all steps with `parc-run --steps N --save`, and
checked on three things:

- losses: every step's loss within --max-rel of PyTorch's (relative);
- weights: the update every parameter received over the run, ||a - r|| / ||r - w0||,
  within --max-rel (compare_weights.py);
- gradients (SGD only): one more run of a single step, saved, from which each parameter's
  gradient is recovered, g = (w0 - w1) / lr - weight_decay * w0, within --max-rel of
  PyTorch's, together with the global gradient norm.

The reference's loss must fall over the run (the task is learnable), or the run fails: a
loss that stays put says nothing about the weights. parc-compile and parc-run are taken
from PATH. Prints one line per layout and exits 1 if any check failed.
"""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def optimizer_flags(config):
    flags = ["--train", "--loss=" + config["loss"], "--optimizer=" + config["optimizer"],
             "--lr=%r" % config["lr"], "--weight-decay=%r" % config["weight_decay"]]
    if config["optimizer"] == "sgd":
        flags.append("--momentum=%r" % config["momentum"])
    else:
        flags += ["--beta1=%r" % config["beta1"], "--beta2=%r" % config["beta2"],
                  "--eps=%r" % config["eps"]]
    return flags


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        lines = (result.stderr.strip() or result.stdout.strip()).splitlines() or ["?"]
        return None, "%s failed: %s" % (os.path.basename(command[0]), lines[-1][:300])
    return result.stdout, None


def last_line(text):
    return text.strip().splitlines()[-1]


def slice_first_step(reference, config, work):
    """Input files holding the first step's batch only."""
    paths = {}
    for name in (config["input"], "labels"):
        path = os.path.join(work, "first-%s.npy" % name)
        subprocess.run([sys.executable, os.path.join(HERE, "slice_steps.py"),
                        os.path.join(reference, name + ".npy"), path,
                        "--batch", str(config["batch"]), "--first", "0", "--count", "1"],
                       check=True)
        paths[name] = path
    return paths


def check_layout(layout, reference, config, work, args, first_step_inputs):
    name = re.sub(r"[^A-Za-z0-9]+", "_", layout).strip("_") or "one_rank"
    artifact = os.path.join(work, name + ".parc")
    _, error = run(["parc-compile", os.path.join(reference, "model.onnx"), "-o", artifact]
                   + optimizer_flags(config) + layout.split())
    if error:
        return False, error
    steps = config["steps"]
    inputs = {config["input"]: os.path.join(reference, config["input"] + ".npy"),
              "labels": os.path.join(reference, "labels.npy")}
    checkpoint = os.path.join(work, name + "-trained")
    losses, error = run(["parc-run", artifact, "--steps", str(steps), "--save", checkpoint,
                         "--output-dir", os.path.join(work, name + "-out"),
                         "--timeout", str(args.timeout)]
                        + ["--input=%s=%s" % item for item in inputs.items()])
    if error:
        return False, error
    losses_path = os.path.join(work, name + "-losses.txt")
    with open(losses_path, "w") as file:
        file.write(losses)
    compare = [sys.executable, os.path.join(HERE, "compare_losses.py"), losses_path,
               os.path.join(reference, "losses.txt"), "--max-rel", str(args.max_rel)]
    loss_report = subprocess.run(compare, capture_output=True, text=True)
    worst_loss = max((float(line.split("relative error ")[1].split()[0])
                      for line in loss_report.stdout.splitlines() if "relative error" in line),
                     default=float("inf"))
    passed = loss_report.returncode == 0
    parts = ["losses %d steps (worst %.1e)" % (steps, worst_loss)]
    weights = subprocess.run(
        [sys.executable, os.path.join(HERE, "compare_weights.py"), checkpoint,
         os.path.join(reference, "weights-%d" % steps),
         "--initial", os.path.join(reference, "initial"), "--max-rel", str(args.max_rel)],
        capture_output=True, text=True)
    passed &= weights.returncode == 0
    parts.append("weights: " + last_line(weights.stdout))
    if config["optimizer"] == "sgd":
        first = os.path.join(work, name + "-first-step")
        _, error = run(["parc-run", artifact, "--steps", "1", "--save", first,
                        "--output-dir", os.path.join(work, name + "-first-out"),
                        "--timeout", str(args.timeout)]
                       + ["--input=%s=%s" % item for item in first_step_inputs.items()])
        if error:
            return False, error
        gradients = subprocess.run(
            [sys.executable, os.path.join(HERE, "compare_weights.py"), first,
             os.path.join(reference, "gradients"), "--sgd-gradient",
             "--initial", os.path.join(reference, "initial"), "--lr", repr(config["lr"]),
             "--weight-decay", repr(config["weight_decay"]), "--max-rel", str(args.max_rel)],
            capture_output=True, text=True)
        passed &= gradients.returncode == 0
        lines = gradients.stdout.strip().splitlines()
        norm = next((line for line in lines if line.startswith("global gradient norm")), "")
        parts.append("gradients: %s, %s" % (lines[-1] if lines else "?", norm))
    if not passed:
        failures = [line for report in (loss_report, weights)
                    for line in report.stdout.splitlines() if "TOO LARGE" in line
                    or "MISSING" in line or "MISMATCH" in line]
        parts.append("first failures: " + "; ".join(failures[:3]))
    return passed, "; ".join(parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference")
    parser.add_argument("--work", required=True)
    parser.add_argument("--layout", action="append", required=True,
                        help='parc-compile parallelism flags, e.g. "--dp=2 --pp=4 --microbatches=8"')
    parser.add_argument("--max-rel", type=float, default=1e-4)
    parser.add_argument("--timeout", type=int, default=120)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    with open(os.path.join(args.reference, "config.json")) as file:
        config = json.load(file)
    if config["steps"] not in config["weights_saved_after"] or 1 not in config["weights_saved_after"]:
        sys.exit("%s: the reference must hold the weights after step 1 and after the last"
                 % args.reference)
    with open(os.path.join(args.reference, "losses.txt")) as file:
        reference_losses = [float(line) for line in file if line.strip()]
    falls = reference_losses[-1] < 0.8 * reference_losses[0]
    print("%s %s, %d steps: PyTorch's loss %.4g -> %.4g %s"
          % (config["model"], config["optimizer"], config["steps"], reference_losses[0],
             reference_losses[-1], "falls" if falls else "DOES NOT FALL"))
    first_step_inputs = slice_first_step(args.reference, config, args.work)
    failures = 0 if falls else 1
    for layout in args.layout:
        passed, detail = check_layout(layout, args.reference, config, args.work, args,
                                      first_step_inputs)
        print("%s: %s %s" % (layout or "one rank", detail, "ok" if passed else "FAILED"))
        failures += not passed
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
