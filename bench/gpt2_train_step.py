"""Benchmark: one training step of a GPT-2-style model on one CPU rank, parc vs PyTorch.

Exports GPT-2 (transformers' architecture, random weights, dropout off) for training,
compiles it with `parc-compile --train` (cross-entropy, SGD), runs `--steps` steps with
`parc-run --report` and times the same steps in PyTorch eager (forward, backward,
optimizer step) on the same thread count, in one run; prints the median step times, their
ratio, both peak memories, and checks that both saw the same losses.

    .venv/bin/python bench/gpt2_train_step.py [--layers 12 --hidden 768 --heads 12
        --vocab 50257 --batch 1 --seq 128 --threads 2 --steps 6]

Target (issue 6): parc's step <= 1.5x PyTorch's. Results are recorded in
docs/perf-training.md.
"""

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
sys.path.insert(0, os.path.join(ROOT, "test", "models"))

from gpt2_model import add_model_args, export_training_run  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(parser)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--lr", type=float, default=1e-4)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as work:
        model, ids, labels, onnx_path = export_training_run(args, args.steps, work)
        artifact = os.path.join(work, "train.parc")
        subprocess.run([os.path.join(BIN, "parc-compile"), onnx_path, "--train",
                        "--optimizer=sgd", "--lr=%g" % args.lr, "-o", artifact], check=True)
        run = subprocess.run(
            [os.path.join(BIN, "parc-run"), artifact, "--steps", str(args.steps),
             "--threads", str(args.threads), "--input", "input_ids=" + os.path.join(work, "ids.npy"),
             "--input", "labels=" + os.path.join(work, "labels.npy"),
             "--output-dir", os.path.join(work, "out"), "--report"],
            check=True, capture_output=True, text=True)
        parc_losses = [float(v) for v in re.findall(r"loss=(\S+)", run.stdout)]
        report = re.search(r"run ms:([\d. ]+), peak RSS ([\d.]+) MiB", run.stdout)
        parc_steps = [float(v) for v in report.group(1).split()]
        parc_rss = float(report.group(2))

    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    torch_steps, torch_losses = [], []
    for step in range(args.steps):
        batch = slice(step * args.batch, (step + 1) * args.batch)
        start = time.perf_counter()
        optimizer.zero_grad()
        logits = model(ids[batch])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, args.vocab),
                                                 labels[batch].reshape(-1))
        loss.backward()
        optimizer.step()
        torch_steps.append((time.perf_counter() - start) * 1e3)
        torch_losses.append(loss.item())
    torch_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    # The first step of each warms caches; the median of the rest is reported.
    parc_ms = statistics.median(parc_steps[1:])
    torch_ms = statistics.median(torch_steps[1:])
    worst = max(abs(a - b) / abs(b) for a, b in zip(parc_losses, torch_losses))
    print("GPT-2 training step: %d layers, hidden %d, vocab %d, batch %d x %d tokens, "
          "%d threads" % (args.layers, args.hidden, args.vocab, args.batch, args.seq,
                          args.threads))
    print("  parc     %8.1f ms per step (median of %d), peak RSS %.0f MiB"
          % (parc_ms, args.steps - 1, parc_rss))
    print("  PyTorch  %8.1f ms per step (median of %d), peak RSS %.0f MiB (whole process)"
          % (torch_ms, args.steps - 1, torch_rss))
    print("  ratio parc / PyTorch: %.2fx (target <= 1.5x)" % (parc_ms / torch_ms))
    print("  losses agree to %.1e relative (parc %s..., PyTorch %s...)"
          % (worst, " ".join("%.4f" % l for l in parc_losses[:3]),
             " ".join("%.4f" % l for l in torch_losses[:3])))


if __name__ == "__main__":
    main()
