"""Benchmark: the cost model's predicted step time against parc-run's measured one, per layout.

    .venv/bin/python bench/cost_model_vs_measured.py [--profile FILE] [--layers 4
        --hidden 768 --heads 12 --vocab 50257 --batch 4 --seq 128] [--runs 6]

Calibrates this machine with parc-calibrate (unless --profile gives a profile), exports a
GPT-2-style model (bench/gpt2_model.py: GPT-2 small's hidden size, heads and
vocabulary, random weights) for inference and for training, and for each layout on one
and two ranks (single, tp=2, dp=2, pp=2 with 2 and 4 microbatches; inference and SGD
training):

- predicts: `parc-compile --plan-only --plan-json` with the layout pinned, priced on the
  profile (predicted_step_seconds: the search's price of exactly that layout);
- measures: compiles it, runs it with parc-run (--repeat for inference, --steps for
  training, one thread per rank: the profile's device is one core) and takes the median
  run or step time, a run lasting until its slowest rank is done (the first left out).

Prints, per layout, predicted and measured milliseconds and their ratio, the median and
largest absolute relative error, and then what `--devices=2` picks for inference and for
training, with its measured time against the fastest measured two-rank layout. Issue 15's
targets: median absolute error at most 15%, none over 30%; the pick within 5% of the
fastest. Results go in docs/perf-cost-model.md.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
sys.path.insert(0, os.path.join(ROOT, "test", "models"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gpt2_model import add_model_args, export_training_run  # noqa: E402
from gpt2_cpu_forward import export_gpt2  # noqa: E402

TWO_RANK_LAYOUTS = [["--tp=2"], ["--dp=2"], ["--pp=2", "--microbatches=2"],
                    ["--pp=2", "--microbatches=4"]]
LAYOUTS = [[]] + TWO_RANK_LAYOUTS
TRAIN_FLAGS = ["--train", "--loss=cross_entropy", "--optimizer=sgd", "--lr=1e-4"]


def run(command):
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def describe(layout):
    return " ".join(flag.lstrip("-") for flag in layout) or "single"


def layout_of(plan):
    """The parc-compile flags of a --plan-json's chosen layout."""
    flags = []
    if plan["tp"] > 1:
        flags.append("--tp=%d" % plan["tp"])
    if plan["dp"] > 1:
        flags.append("--dp=%d" % plan["dp"])
    if plan["pp"] > 1:
        flags += ["--pp=%d" % plan["pp"], "--microbatches=%d" % plan["microbatches"]]
    return flags


class Workload:
    """One model (inference or training), its inputs and how parc-run times it."""

    def __init__(self, args, work, train):
        self.train, self.work, self.runs = train, work, args.runs
        if train:
            _, _, _, self.model = export_training_run(args, args.runs, work)
            self.inputs = ["input_ids=" + os.path.join(work, "ids.npy"),
                           "labels=" + os.path.join(work, "labels.npy")]
            self.compile_flags = TRAIN_FLAGS
        else:
            self.model = os.path.join(work, "model.onnx")
            _, ids = export_gpt2(args, self.model)
            np.save(os.path.join(work, "input_ids.npy"), ids.numpy())
            self.inputs = ["input_ids=" + os.path.join(work, "input_ids.npy")]
            self.compile_flags = []

    def predict(self, flags, profile):
        """The plan JSON of `flags` (a pinned layout, or --devices=N) on `profile`."""
        plan = os.path.join(self.work, "plan.json")
        run([os.path.join(BIN, "parc-compile"), self.model, *self.compile_flags, *flags,
             "--plan-only", "--plan-json", plan, "--cluster=" + profile])
        with open(plan) as f:
            return json.load(f)

    def measure(self, layout):
        """The median run (or step) time in milliseconds, a run's time being its slowest
        rank's; the first run left out."""
        artifact = os.path.join(self.work, "timed.parc")
        run([os.path.join(BIN, "parc-compile"), self.model, *self.compile_flags, *layout,
             "-o", artifact])
        command = [os.path.join(BIN, "parc-run"), artifact, "--threads", "1", "--report",
                   "--output-dir", os.path.join(self.work, "out")]
        command += ["--steps", str(self.runs)] if self.train else ["--repeat", str(self.runs)]
        for value in self.inputs:
            command += ["--input", value]
        output = run(command)
        ranks = [[float(x) for x in times.split()]
                 for times in re.findall(r"rank \d+: .*run ms: ([0-9. ]+),", output)]
        # Each run starts with a barrier; it lasts until its slowest rank is done.
        return statistics.median(max(run) for run in list(zip(*ranks))[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(parser)
    parser.set_defaults(layers=4, batch=4)
    parser.add_argument("--profile", help="a machine profile (default: calibrate now)")
    parser.add_argument("--runs", type=int, default=6,
                        help="runs (inference) or steps (training) per layout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="parc-cost-") as work:
        profile = args.profile or os.path.join(work, "cpu-local.json")
        if not args.profile:
            print(run([os.path.join(BIN, "parc-calibrate"), "-o", profile]).strip())
        print("model: GPT-2, %d layers, hidden %d, %d heads, vocabulary %d, batch %d x "
              "sequence %d; median of %d runs or steps per layout (the first left out), "
              "one thread per rank" % (args.layers, args.hidden, args.heads, args.vocab,
                                       args.batch, args.seq, args.runs - 1))
        print("%-9s %-24s %13s %12s %7s" % ("run", "layout", "predicted ms", "measured ms",
                                            "ratio"))
        errors, picks = [], []
        for train in (False, True):
            directory = os.path.join(work, "train" if train else "inference")
            os.makedirs(directory)
            workload = Workload(args, directory, train)
            kind = "training" if train else "inference"
            measured = {}
            for layout in LAYOUTS:
                predicted = workload.predict(layout, profile)["predicted_step_seconds"] * 1e3
                measured[describe(layout)] = workload.measure(layout)
                ratio = predicted / measured[describe(layout)]
                errors.append(abs(ratio - 1))
                print("%-9s %-24s %13.1f %12.1f %7.2f" % (
                    kind, describe(layout), predicted, measured[describe(layout)], ratio),
                    flush=True)
            pick = layout_of(workload.predict(["--devices=2"], profile))
            name = describe(pick)
            if name not in measured:
                measured[name] = workload.measure(pick)
            fastest = min((measured[describe(l)], describe(l)) for l in TWO_RANK_LAYOUTS)
            picks.append((kind, name, measured[name], fastest))
        print("median absolute error %.0f%%, largest %.0f%% over %d layouts "
              "(target: at most 15%%, none over 30%%)" % (
                  100 * statistics.median(errors), 100 * max(errors), len(errors)))
        for kind, name, time, (best, best_name) in picks:
            print("%s --devices=2 picks %s: measured %.1f ms; fastest two-rank layout %s: "
                  "%.1f ms; ratio %.3f (target: at most 1.05)" % (
                      kind, name, time, best_name, best, time / best))


if __name__ == "__main__":
    main()
