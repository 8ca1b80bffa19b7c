"""Prints an ONNX model's cross-entropy loss on one step's batch, run with onnxruntime.

    python onnx_loss.py MODEL.onnx --input NAME=FILE.npy ... --labels LABELS.npy
                        --batch B --step K [--reference LOSSES.txt --max-rel 1e-4]

Each file holds batches stacked along dim 0 (what parc-run --steps reads); step K's rows
are K*B .. (K+1)*B - 1. The loss is the mean over all positions of -log_softmax(logits)
[label] of the first output (torch.nn.functional.cross_entropy). With --reference, it is
compared with line K of the reference losses (train_reference.py's losses.txt) and the
script exits 1 beyond the tolerance.
"""

import argparse
import sys

import numpy as np
import onnxruntime


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--input", action="append", default=[])
    parser.add_argument("--labels", required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--step", type=int, required=True)
    parser.add_argument("--reference")
    parser.add_argument("--max-rel", type=float, default=1e-4)
    args = parser.parse_args()
    rows = slice(args.step * args.batch, (args.step + 1) * args.batch)
    feeds = {}
    for entry in args.input:
        name, path = entry.split("=", 1)
        feeds[name] = np.load(path)[rows]
    labels = np.load(args.labels)[rows]
    session = onnxruntime.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    logits = session.run(None, feeds)[0].astype(np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probabilities, labels[..., None], axis=-1)
    loss = float(-picked.mean())
    print("loss=%.7g" % loss)
    if args.reference:
        with open(args.reference) as file:
            expected = float([line for line in file if line.strip()][args.step])
        error = abs(loss - expected) / abs(expected)
        verdict = "ok" if error <= args.max_rel else "FAIL"
        print("step %d: %.7g vs %.7g, relative error %.1e %s"
              % (args.step, loss, expected, error, verdict))
        if verdict != "ok":
            sys.exit(1)


if __name__ == "__main__":
    main()
