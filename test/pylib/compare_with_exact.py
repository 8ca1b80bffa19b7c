"""Holds a low-precision model run to the error that rounding at its precision costs.

    python compare_with_exact.py ACTUAL_DIR EXACT_DIR PEER_DIR --names a,b [--slack 1.1]

EXACT_DIR holds the model's outputs computed in float64 from the same f16/bf16 weights and
inputs (make_model.py --exact-reference); PEER_DIR the outputs of PyTorch's own forward at
the low precision (make_model.py --reference), which rounds to nearest even after every op.
A whole model's rounding error has no useful closed-form bound, but the arithmetic being
checked is exactly that: round to nearest even at the type's precision, f32 inside the ops.
PyTorch's error against the exact outputs is what that arithmetic costs on this model, so
parc's error against them, ||a - x|| / ||x||, must be at most --slack times PyTorch's (the
summation orders differ; parc's fused kernels keep f32 between ops and round less often)
and, so that the limit is not slack, at least half of it. Prints one line per output and
exits 1 on any failed check.
"""

import argparse
import os
import sys

import numpy as np

from compare_outputs import relative_l2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("actual")
    parser.add_argument("exact")
    parser.add_argument("peer")
    parser.add_argument("--names", required=True)
    parser.add_argument("--slack", type=float, default=1.1)
    args = parser.parse_args()
    ok = True
    for name in args.names.split(","):
        exact = np.load(os.path.join(args.exact, name + ".npy"))
        actual = np.load(os.path.join(args.actual, name + ".npy"))
        peer = np.load(os.path.join(args.peer, name + ".npy"))
        if actual.shape != exact.shape or peer.shape != exact.shape:
            print("%s: shapes %s (parc), %s (PyTorch), %s (exact)"
                  % (name, actual.shape, peer.shape, exact.shape))
            ok = False
            continue
        error, peer_error = relative_l2(actual, exact), relative_l2(peer, exact)
        limit = args.slack * peer_error
        passed = 0.5 * limit <= error <= limit
        print("%s: relative L2 error against float64 %.3e, PyTorch's %.3e, limit %.3e "
              "(%.2f of it) %s" % (name, error, peer_error, limit, error / limit,
                                  "ok" if passed else "OUT OF [0.5, 1] OF THE LIMIT"))
        ok &= passed
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
