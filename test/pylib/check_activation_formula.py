"""Checks parc-compile --report's kept activations of a GPT-2 training step against the
per-layer formula of docs/training.md.

    python check_activation_formula.py REPORT --recompute none|selective|full
        --batch B --seq S --hidden H --heads A --layers L --vocab V --pp P --microbatches M

B is one microbatch's batch. Under 1F1B stage s holds min(M, P - s) microbatches in
flight; the report's kept bytes of each stage divided by that is what one microbatch keeps
there, and over all stages that must be, in f32 bytes,

    none:       4 [L (30 b s h + 4 b s + a b s^2) + 3 b s h + 2 b s + 2 b s V]
    selective:  none - 4 L a b s^2          (the attention scores are recomputed)
    full:       at most the bytes each stage receives (its inputs), under a tenth of none

Prints the numbers and exits 1 when they differ. With --recompute auto --budget BYTES
--full FULL_REPORT it checks instead that every stage keeps at most the budget while
recomputing no more FLOPs than --recompute=full does there.
"""

import argparse
import re
import sys


def stage_numbers(text):
    """Per stage: (kept bytes, recomputed FLOPs) from a report."""
    return {int(s): (float(kept), float(flops)) for s, kept, flops in re.findall(
        r"stage (\d+) recompute=\w+: kept activations (\d+) bytes, .* recomputed (\d+) FLOPs",
        text)}


def check_auto(text, budget, full_text):
    auto, full = stage_numbers(text), stage_numbers(full_text)
    ok = bool(auto) and sorted(auto) == sorted(full)
    for stage, (kept, flops) in sorted(auto.items()):
        fits = kept <= budget and flops <= full[stage][1]
        ok &= fits
        print("stage %d: keeps %d <= budget %d, recomputes %d <= full's %d FLOPs: %s"
              % (stage, kept, budget, flops, full[stage][1], "ok" if fits else "FAIL"))
    if not ok:
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report")
    parser.add_argument("--recompute", required=True,
                        choices=("none", "selective", "full", "auto"))
    for name in ("batch", "seq", "hidden", "heads", "layers", "vocab", "pp", "microbatches"):
        parser.add_argument("--" + name, type=int)
    parser.add_argument("--budget", type=int)
    parser.add_argument("--full")
    args = parser.parse_args()
    text = open(args.report).read()
    if args.recompute == "auto":
        check_auto(text, args.budget, open(args.full).read())
        return
    kept = {int(s): float(v) for s, v in re.findall(
        r"stage (\d+) recompute=\w+: kept activations (\d+) bytes", text)}
    receives = {int(c) % args.pp: float(v) for c, v in re.findall(
        r"chunk (\d+) on stage \d+: .* receives (\d+) bytes", text)}
    if sorted(kept) != list(range(args.pp)):
        print("FAIL: the report has no kept activations for every stage")
        sys.exit(1)
    b, s, h, a, L, V = (args.batch, args.seq, args.hidden, args.heads, args.layers,
                        args.vocab)
    per_microbatch = 0.0
    for stage, value in kept.items():
        per_microbatch += value / min(args.microbatches, args.pp - stage)
    none = 4 * (L * (30 * b * s * h + 4 * b * s + a * b * s * s) + 3 * b * s * h + 2 * b * s
                + 2 * b * s * V)
    if args.recompute == "none":
        expected, ok = none, per_microbatch == none
    elif args.recompute == "selective":
        expected = none - 4 * L * a * b * s * s
        ok = per_microbatch == expected
    else:
        expected = sum(receives.values())
        # What a stage receives depends on where the cut falls (a cut inside a layer
        # sends a few hidden-sized tensors); a tenth of none is the sanity bound.
        ok = per_microbatch <= expected and per_microbatch < 0.1 * none
    print("recompute=%s: one microbatch keeps %d bytes over all stages, formula %d: %s"
          % (args.recompute, per_microbatch, expected, "ok" if ok else "FAIL"))
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
