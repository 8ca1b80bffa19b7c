"""Runs a command that must fail within a time limit and leave no process behind.

    python run_bounded.py --within SECONDS --marker TEXT -- COMMAND...

Runs COMMAND (its stderr goes to this script's stdout, for FileCheck), requires a non-zero
exit within SECONDS, prints "exited with code N after S s", and then requires that no
process whose command line contains TEXT is left (a stopped rank the launcher forgot, say).
Exits 1 if any requirement fails.
"""

import argparse
import os
import subprocess
import sys
import time

from processes import processes_with


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--within", type=float, required=True)
    parser.add_argument("--marker", required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    start = time.monotonic()
    try:
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, timeout=args.within + 30)
    except subprocess.TimeoutExpired:
        print("still running after %.0f s" % (args.within + 30))
        sys.exit(1)
    elapsed = time.monotonic() - start
    sys.stdout.write(result.stderr)
    print("exited with code %d after %.1f s (limit %g s)" % (result.returncode, elapsed,
                                                             args.within))
    ok = result.returncode != 0 and elapsed <= args.within
    time.sleep(0.2)
    left = processes_with(args.marker, ignore=["run_bounded.py"])
    for pid, command in left:
        print("LEFT BEHIND: %d: %s" % (pid, command))
    sys.exit(0 if ok and not left else 1)


if __name__ == "__main__":
    main()
