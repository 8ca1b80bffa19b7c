"""Compiles every kernel of `parc-compile --target=cuda --emit=cuda` with nvcc.

    python compile_kernels.py KERNELS.cu --nvcc PATH --arch sm_90 --out DIR

The file holds one self-contained kernel after each `// parc_kernel_<n>: ...` line; each is
written to DIR/parc_kernel_<n>.cu and compiled to a cubin (nvcc -cubin -arch). Prints one
line per kernel with its cubin's size; exits 1 when nvcc fails (its errors are shown).
"""

import argparse
import os
import re
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kernels")
    parser.add_argument("--nvcc", required=True)
    parser.add_argument("--arch", default="sm_90")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    text = open(args.kernels).read()
    pieces = re.split(r"^// (parc_kernel_\d+):.*$", text, flags=re.M)
    kernels = list(zip(pieces[1::2], pieces[2::2]))
    if not kernels:
        print("no kernels in %s" % args.kernels)
        sys.exit(1)
    for name, source in kernels:
        path = os.path.join(args.out, name + ".cu")
        with open(path, "w") as file:
            file.write(source)
        cubin = os.path.join(args.out, name + ".cubin")
        result = subprocess.run([args.nvcc, "-cubin", "-arch=" + args.arch, "-o", cubin, path],
                                capture_output=True, text=True)
        if result.returncode != 0:
            print("FAIL: nvcc %s:\n%s" % (path, result.stderr))
            sys.exit(1)
        print("%s: cubin of %d bytes" % (name, os.path.getsize(cubin)))
    print("%d kernels compiled for %s" % (len(kernels), args.arch))


if __name__ == "__main__":
    main()
