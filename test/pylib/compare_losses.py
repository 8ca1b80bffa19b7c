"""Compares the `step=<i> loss=<value>` lines parc-run printed with reference losses.

    python compare_losses.py PARC_OUTPUT REFERENCE [--max-rel 1e-4] [--exact] [--first-step K]

REFERENCE holds one loss per line (train_reference.py's losses.txt, or another parc-run's
output). Step i of PARC_OUTPUT is compared with line i - K of the reference. --exact asks
for identical printed values (a resumed run against an uninterrupted one). Prints one line
per step and exits 1 on any difference beyond the tolerance or a missing step.
"""

import argparse
import re
import sys


def read_losses(path):
    losses = {}
    with open(path) as file:
        for line in file:
            match = re.match(r"step=(\d+) loss=(\S+)", line.strip())
            if match:
                losses[int(match.group(1))] = match.group(2)
    return losses


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("actual")
    parser.add_argument("reference")
    parser.add_argument("--max-rel", type=float, default=1e-4)
    parser.add_argument("--exact", action="store_true")
    parser.add_argument("--first-step", type=int, default=0)
    args = parser.parse_args()
    actual = read_losses(args.actual)
    reference = read_losses(args.reference)
    if not reference:
        with open(args.reference) as file:
            reference = {i: line.strip() for i, line in enumerate(file) if line.strip()}
    if not actual:
        print("no step=<i> loss=<value> lines in %s" % args.actual)
        sys.exit(1)
    ok = True
    for step in sorted(actual):
        expected = reference.get(step - args.first_step)
        if expected is None:
            print("step %d: no reference" % step)
            ok = False
            continue
        if args.exact:
            passed = actual[step] == expected
            print("step %d: %s vs %s %s" % (step, actual[step], expected,
                                            "identical" if passed else "DIFFERENT"))
        else:
            a, r = float(actual[step]), float(expected)
            error = abs(a - r) / max(abs(r), 1e-12)
            passed = error <= args.max_rel
            print("step %d: loss %s vs %s, relative error %.1e %s"
                  % (step, actual[step], expected, error, "ok" if passed else "TOO LARGE"))
        ok &= passed
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
