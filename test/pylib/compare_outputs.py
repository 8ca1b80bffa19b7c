"""Compares the .npy outputs parc-run wrote with reference .npy files.

    python compare_outputs.py ACTUAL_DIR REFERENCE_DIR [--max-rel-l2 1e-5] [--names a,b]

For every reference file (or the named ones) the actual file must exist with the same dtype
and shape; floating-point outputs must have a relative L2 error ||a - r|| / ||r|| at most
--max-rel-l2, integer and boolean outputs must be equal. Prints one line per output and
exits 1 on any mismatch.
"""

import argparse
import os
import sys

import numpy as np


def relative_l2(actual, reference):
    actual = actual.astype(np.float64)
    reference = reference.astype(np.float64)
    norm = np.linalg.norm(reference)
    diff = np.linalg.norm(actual - reference)
    return diff / norm if norm > 0 else diff


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("actual")
    parser.add_argument("reference")
    parser.add_argument("--max-rel-l2", type=float, default=1e-5)
    parser.add_argument("--names", default=None, help="comma-separated output names")
    args = parser.parse_args()

    names = args.names.split(",") if args.names else sorted(
        f[:-4] for f in os.listdir(args.reference) if f.endswith(".npy")
    )
    ok = True
    for name in names:
        reference = np.load(os.path.join(args.reference, name + ".npy"))
        path = os.path.join(args.actual, name + ".npy")
        if not os.path.exists(path):
            print("%s: MISSING (%s)" % (name, path))
            ok = False
            continue
        actual = np.load(path)
        if actual.dtype != reference.dtype or actual.shape != reference.shape:
            print("%s: MISMATCH %s %s vs reference %s %s"
                  % (name, actual.dtype, actual.shape, reference.dtype, reference.shape))
            ok = False
            continue
        if np.issubdtype(reference.dtype, np.floating):
            error = relative_l2(actual, reference)
            passed = bool(np.isfinite(error)) and error <= args.max_rel_l2
            print("%s: relative L2 error %.3e (limit %.0e) %s"
                  % (name, error, args.max_rel_l2, "ok" if passed else "TOO LARGE"))
        else:
            passed = bool(np.array_equal(actual, reference))
            print("%s: %s" % (name, "equal" if passed else "DIFFERENT"))
        ok &= passed
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
