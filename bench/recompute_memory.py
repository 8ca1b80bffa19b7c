"""Benchmark: activation memory and step time of each --recompute setting (GPT-2, pp=2).

Exports GPT-2 (transformers' architecture, random weights, dropout off) for training and,
in one run, compiles and runs a training step with --pp=2 --microbatches=M under each of
--recompute=none, selective, full and auto (budget: half of what `none` keeps on its
busiest stage), on two CPU ranks. Prints per setting and stage the kept activations and
the peak arena (parc-compile --report), the FLOPs recomputed per step, each rank's peak
RSS and median step time (parc-run --report), the ratios to `none`, and checks that every
setting printed the same losses.

    .venv/bin/python bench/recompute_memory.py [--layers 4 --hidden 256 --heads 8
        --vocab 8192 --batch 8 --seq 256 --microbatches 4 --steps 4]

Results are recorded in docs/perf-training.md.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
sys.path.insert(0, os.path.join(ROOT, "test", "models"))

from gpt2_model import add_model_args, export_training_run  # noqa: E402


def compile_and_run(work, onnx_path, setting, args):
    artifact = os.path.join(work, "%s.parc" % setting.split()[0].split("=")[0])
    command = [os.path.join(BIN, "parc-compile"), onnx_path, "--train", "--optimizer=sgd",
               "--lr=1e-4", "--pp=2", "--microbatches=%d" % args.microbatches,
               "--recompute=" + setting.split()[0], "--report", "-o", artifact]
    command += setting.split()[1:]
    report = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    stages = {int(s): (float(kept), float(arena), float(flops)) for s, kept, arena, flops in
              re.findall(r"stage (\d+) recompute=\w+: kept activations (\d+) bytes, peak arena "
                         r"(\d+) bytes, recomputed (\d+) FLOPs", report)}
    run = subprocess.run(
        [os.path.join(BIN, "parc-run"), artifact, "--steps", str(args.steps), "--threads", "1",
         "--input", "input_ids=" + os.path.join(work, "ids.npy"),
         "--input", "labels=" + os.path.join(work, "labels.npy"),
         "--output-dir", os.path.join(work, "out"), "--report", "--timeout", "600"],
        check=True, capture_output=True, text=True).stdout
    ranks = {int(r): (statistics.median([float(v) for v in ms.split()][1:]), float(rss))
             for r, ms, rss in re.findall(r"rank (\d+): load [\d.]+ ms, run ms:([\d. ]+), "
                                          r"peak RSS ([\d.]+) MiB", run)}
    losses = re.findall(r"loss=(\S+)", run)
    return stages, ranks, losses


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(parser)
    parser.set_defaults(layers=4, hidden=256, heads=8, vocab=8192, batch=8, seq=256)
    parser.add_argument("--microbatches", type=int, default=4)
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work:
        _, _, _, onnx_path = export_training_run(args, args.steps, work)
        results = {}
        for setting in ("none", "selective", "full"):
            results[setting] = compile_and_run(work, onnx_path, setting, args)
        busiest = max(kept for kept, _, _ in results["none"][0].values())
        auto = "auto --memory-budget=%d" % (busiest // 2)
        results[auto] = compile_and_run(work, onnx_path, auto, args)

    print("GPT-2 training step, recompute settings: %d layers, hidden %d, heads %d, vocab %d, "
          "batch %d x %d tokens in %d microbatches, pp=2 (1F1B), one thread per rank"
          % (args.layers, args.hidden, args.heads, args.vocab, args.batch, args.seq,
             args.microbatches))
    base_stages, base_ranks, base_losses = results["none"]
    for setting, (stages, ranks, losses) in results.items():
        print("  --recompute=%s" % setting)
        for stage in sorted(stages):
            kept, arena, flops = stages[stage]
            ms, rss = ranks[stage]
            print("    stage %d: kept activations %7.1f MiB (%.2fx none), peak arena %7.1f MiB "
                  "(%.2fx), recomputed %6.2f GFLOP/step, step %7.1f ms (%.2fx), peak RSS "
                  "%6.1f MiB (%.2fx)"
                  % (stage, kept / 2**20, kept / max(1.0, base_stages[stage][0]), arena / 2**20,
                     arena / base_stages[stage][1], flops / 1e9, ms, ms / base_ranks[stage][0],
                     rss, rss / base_ranks[stage][1]))
        print("    losses %s (%s)" % (" ".join(losses[:3]),
                                      "identical to none" if losses == base_losses else
                                      "DIFFERENT from none"))


if __name__ == "__main__":
    main()
