"""Benchmark: the cost model's predicted time against parc-run's measured time, per layout.

    .venv/bin/python bench/cost_model_vs_measured.py [--profile FILE] [--layers 4
        --hidden 768 --heads 12 --vocab 50257 --batch 2 --seq 128] [--runs 20]

Calibrates this machine with parc-calibrate (unless --profile gives a profile), exports a
GPT-2-style model (bench/gpt2_model.py), and for each layout compiles it with
`--report --cluster=PROFILE`, reads the predicted time per run, runs it with parc-run
--repeat and takes the median of rank 0's run times. Prints, per layout, predicted and
measured milliseconds and their ratio, then the median absolute relative error. The
profile's device is one core, so every layout runs one thread per rank (--threads 1): a
one-rank layout is one device. Pipelined layouts have no profile prediction yet and are
left out. Issue 15's target: median absolute error at most 15%, none over 30%. Results go
in docs/perf-cost-model.md.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_cpu_forward import export_gpt2  # noqa: E402
from gpt2_model import add_model_args  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
LAYOUTS = [[], ["--tp=2"], ["--dp=2"]]


def run(command):
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def export(args, directory):
    path = os.path.join(directory, "model.onnx")
    _, ids = export_gpt2(args, path)
    np.save(os.path.join(directory, "input_ids.npy"), ids.numpy())
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(parser)
    parser.set_defaults(layers=4, batch=2)
    parser.add_argument("--profile", help="a machine profile (default: calibrate now)")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="parc-cost-") as work:
        profile = args.profile or os.path.join(work, "cpu-local.json")
        if not args.profile:
            print(run([os.path.join(BIN, "parc-calibrate"), "-o", profile]).strip())
        model = export(args, work)
        print("model: GPT-2, %d layers, hidden %d, vocabulary %d, batch %d x sequence %d; "
              "%d runs per layout, one thread per rank" % (
                  args.layers, args.hidden, args.vocab, args.batch, args.seq, args.runs))
        print("%-10s %14s %13s %9s" % ("layout", "predicted ms", "measured ms", "ratio"))
        errors = []
        for layout in LAYOUTS:
            artifact = os.path.join(work, "model.parc")
            report = run([os.path.join(BIN, "parc-compile"), model, *layout, "--report",
                          "--cluster=" + profile, "-o", artifact])
            predicted = float(re.search(r"predicted on \S+: ([0-9.]+) ms", report).group(1))
            output = subprocess.run(
                [os.path.join(BIN, "parc-run"), artifact, "--input",
                 "input_ids=" + os.path.join(work, "input_ids.npy"), "--output-dir",
                 os.path.join(work, "out"), "--repeat", str(args.runs), "--threads", "1",
                 "--report"], check=True, capture_output=True, text=True)
            line = re.search(r"rank 0: .*run ms: ([0-9. ]+),", output.stderr + output.stdout)
            measured = statistics.median(float(x) for x in line.group(1).split())
            ratio = predicted / measured
            errors.append(abs(ratio - 1))
            print("%-10s %14.3f %13.3f %9.2f" % (" ".join(layout) or "one rank", predicted,
                                                  measured, ratio))
        print("median absolute error %.0f%%, largest %.0f%% (target: 15%%, none over 30%%)"
              % (100 * statistics.median(errors), 100 * max(errors)))


if __name__ == "__main__":
    main()
