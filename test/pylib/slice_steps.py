"""Keeps the batches of some steps of a --steps input file (B rows per step).

    python slice_steps.py IN.npy OUT.npy --batch B --first FIRST [--count N]

Writes the rows of steps FIRST .. FIRST + N - 1 (all remaining steps without --count).
"""

import argparse

import numpy as np

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("input")
parser.add_argument("output")
parser.add_argument("--batch", type=int, required=True)
parser.add_argument("--first", type=int, required=True)
parser.add_argument("--count", type=int)
args = parser.parse_args()
rows = np.load(args.input)[args.first * args.batch:]
if args.count is not None:
    rows = rows[:args.count * args.batch]
np.save(args.output, rows)
