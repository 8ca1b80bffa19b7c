"""Checks a parc-run --profile-json file.

    python check_profile_json.py PROFILE.json --instructions-at-least N --gemms-at-least G

Every instruction must have a label, an op, a non-negative time and byte count; GEMM
instructions (matmul, fused "gemm") must carry their m, n, k, batch and dtype. Prints a
summary line; exits 1 on a violation.
"""

import argparse
import json
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile")
    parser.add_argument("--instructions-at-least", type=int, default=1)
    parser.add_argument("--gemms-at-least", type=int, default=0)
    args = parser.parse_args()
    with open(args.profile) as f:
        profile = json.load(f)
    instructions = profile["instructions"]
    problems = []
    gemms = 0
    for inst in instructions:
        if not inst["label"] or not inst["op"] or inst["ms"] < 0 or inst["bytes"] <= 0:
            problems.append(f"instruction {inst['index']} is incomplete: {inst}")
        is_gemm = inst["op"] == "matmul" or inst["kind"] == "gemm"
        if is_gemm:
            gemm = inst.get("gemm", {})
            if not all(gemm.get(key, 0) > 0 for key in ("m", "n", "k", "batch")) or not gemm.get("dtype"):
                problems.append(f"GEMM instruction {inst['index']} lacks its shape: {inst}")
            gemms += 1
    if len(instructions) < args.instructions_at_least:
        problems.append(f"{len(instructions)} instructions, expected at least {args.instructions_at_least}")
    if gemms < args.gemms_at_least:
        problems.append(f"{gemms} GEMMs, expected at least {args.gemms_at_least}")
    for problem in problems:
        print(problem)
    print(f"profile: {len(instructions)} instructions, {gemms} GEMMs, device '{profile['device']}', "
          f"{profile['runs']} runs: {'ok' if not problems else 'BAD'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
