"""Compares the weights a parc training run saved with PyTorch's, parameter by parameter.

    python compare_weights.py CHECKPOINT REFERENCE [--initial DIR] [--max-rel 1e-4]
    python compare_weights.py CHECKPOINT GRADIENTS --sgd-gradient --initial DIR --lr F
        [--weight-decay F] [--max-rel 1e-4]

CHECKPOINT is what `parc-run --save` wrote after some steps; REFERENCE is train_reference.py's
weights-<K> folder after as many steps, and every parameter in it must be in the checkpoint
with its dtype and shape. With --initial (train_reference.py's initial/ folder) the error is
that of the update each parameter received, ||a - r|| / ||r - w0||: comparing whole weights
would hide a wrong update behind the unchanged bulk of the weight. Without it, it is
||a - r|| / ||r||.

--sgd-gradient reads a checkpoint saved after one SGD step and recovers each parameter's
gradient, and compares it with GRADIENTS (train_reference.py's gradients/ folder: PyTorch's
gradient of the first step), printing both gradient norms and the global norm of each. With
momentum the step's momentum buffer holds the update direction, g + weight_decay * w0, as
parc computed it (a ZeRO-1 checkpoint holds it flattened and padded). Without, the gradient
comes from the update, g = (w0 - w1) / lr - weight_decay * w0, whose inputs are f32: w1 is
rounded to half an ulp, so the limit of that parameter grows by the bound this puts on the
recovered gradient, ||2^-24 (|w0| + |w1|) / lr|| / ||g|| (an LN weight of ones with a
gradient of norm 5e-3 gets 2e-3 more, for example).

Prints one line per parameter and a summary; exits 1 on a missing parameter, a dtype or
shape mismatch, or an error beyond --max-rel.
"""

import argparse
import os
import sys

import numpy as np


def load_folder(path):
    return {f[:-4]: os.path.join(path, f) for f in sorted(os.listdir(path)) if f.endswith(".npy")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("reference")
    parser.add_argument("--initial")
    parser.add_argument("--max-rel", type=float, default=1e-4)
    parser.add_argument("--sgd-gradient", action="store_true")
    parser.add_argument("--lr", type=float)
    parser.add_argument("--weight-decay", type=float, default=0.0)
    args = parser.parse_args()
    if args.sgd_gradient and (args.initial is None or args.lr is None):
        parser.error("--sgd-gradient needs --initial and --lr")

    reference = load_folder(args.reference)
    if not reference:
        sys.exit("%s: no .npy files" % args.reference)
    ok, worst, squares = True, 0.0, [0.0, 0.0]
    for name, reference_path in reference.items():
        path = os.path.join(args.checkpoint, name + ".npy")
        if not os.path.exists(path):
            print("%s: MISSING from %s" % (name, args.checkpoint))
            ok = False
            continue
        actual = np.load(path)
        expected = np.load(reference_path)
        if actual.dtype != expected.dtype or actual.shape != expected.shape:
            print("%s: MISMATCH %s %s vs reference %s %s"
                  % (name, actual.dtype, actual.shape, expected.dtype, expected.shape))
            ok = False
            continue
        actual = actual.astype(np.float64)
        expected = expected.astype(np.float64)
        initial = (np.load(os.path.join(args.initial, name + ".npy")).astype(np.float64)
                   if args.initial else None)
        limit = args.max_rel
        if args.sgd_gradient:
            buffer_path = os.path.join(args.checkpoint, name + ".momentum_buffer.npy")
            scale = np.linalg.norm(expected)
            if os.path.exists(buffer_path):
                direction = np.load(buffer_path).astype(np.float64).reshape(-1)
                direction = direction[:initial.size].reshape(initial.shape)
                actual = direction - args.weight_decay * initial
            else:
                rounding = np.linalg.norm(2.0 ** -24 * (np.abs(initial) + np.abs(actual)) / args.lr)
                limit += rounding / scale if scale > 0 else rounding
                actual = (initial - actual) / args.lr - args.weight_decay * initial
            squares[0] += float(np.sum(actual ** 2))
            squares[1] += float(np.sum(expected ** 2))
            what = "gradient norm %.6g vs %.6g" % (np.linalg.norm(actual), scale)
        elif initial is not None:
            scale = np.linalg.norm(expected - initial)
            what = "update norm %.6g vs %.6g" % (np.linalg.norm(actual - initial), scale)
        else:
            scale = np.linalg.norm(expected)
            what = "norm %.6g vs %.6g" % (np.linalg.norm(actual), scale)
        difference = np.linalg.norm(actual - expected)
        error = difference / scale if scale > 0 else difference
        passed = bool(np.isfinite(error)) and error <= limit
        worst = max(worst, error / limit * args.max_rel) if np.isfinite(error) else float("inf")
        print("%s: %s, relative error %.2e%s %s"
              % (name, what, error, "" if limit == args.max_rel else " (limit %.1e)" % limit,
                 "ok" if passed else "TOO LARGE"))
        ok &= passed
    if args.sgd_gradient:
        print("global gradient norm %.6g vs %.6g" % (np.sqrt(squares[0]), np.sqrt(squares[1])))
    print("%d parameters, worst relative error %.2e (limit %.0e%s): %s"
          % (len(reference), worst, args.max_rel,
             ", scaled to it" if args.sgd_gradient else "", "ok" if ok else "FAILED"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
