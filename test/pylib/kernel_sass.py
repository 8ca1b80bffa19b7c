"""Checks the machine code (SASS) of GPT-2 small's generated kernels.

    python kernel_sass.py DIR --dtype float32 --nvcc PATH --cuobjdump PATH [--arch sm_90]
                              [--layers 1] [--parc-compile PATH]

Exports GPT-2 small (hidden 768, 12 heads, vocabulary 50257; --layers of them: every layer
has the same kernels) in --dtype, compiles it with `parc-compile --target=cuda --emit=cuda`
for batch 8 x sequence 1024, and compiles each elementwise and row kernel with
`nvcc -cubin -Xptxas -v`. From ptxas's report and `cuobjdump -sass` it requires, of each:

  * every global load (LDG) 128 bits wide, and at least one;
  * no spill stores or loads.

Data-movement kernels (gathers, slices, transposes: one element through an index map) are
listed and not checked. Prints one line per kernel with its loads and stores by width and
its registers; exits 1 when a kernel fails.
"""

import argparse
import collections
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GPT2_SMALL = {"hidden": 768, "heads": 12, "vocab": 50257, "batch": 8, "seq": 1024}


def width(instruction):
    """The width in bits of an LDG/STG from its modifiers (32 when none says)."""
    modifiers = instruction.split(".")[1:]
    for modifier, bits in (("128", 128), ("64", 64), ("U16", 16), ("S16", 16), ("U8", 8),
                           ("S8", 8)):
        if modifier in modifiers:
            return bits
    return 32


def check_kernel(name, source, args):
    """(ok, line) for one kernel."""
    path = os.path.join(args.dir, name + ".cu")
    with open(path, "w") as file:
        file.write(source)
    cubin = os.path.join(args.dir, name + ".cubin")
    compiled = subprocess.run([args.nvcc, "-cubin", "-arch=" + args.arch, "-Xptxas", "-v",
                               "-o", cubin, path], capture_output=True, text=True)
    if compiled.returncode != 0:
        return False, f"nvcc failed: {compiled.stderr.strip()[-400:]}"
    report = compiled.stdout + compiled.stderr
    spills = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", report)
    registers = re.search(r"Used (\d+) registers", report)
    sass = subprocess.run([args.cuobjdump, "-sass", cubin], capture_output=True, text=True,
                          check=True).stdout
    loads = collections.Counter(width(m) for m in re.findall(r"\bLDG(?:\.[A-Z0-9_]+)*", sass))
    stores = collections.Counter(width(m) for m in re.findall(r"\bSTG(?:\.[A-Z0-9_]+)*", sass))
    spilled = spills is None or spills.group(1) != "0" or spills.group(2) != "0"
    narrow = sum(count for bits, count in loads.items() if bits != 128)
    ok = loads[128] > 0 and narrow == 0 and not spilled

    def widths(counter):
        return ", ".join(f"{counter[bits]} x {bits}-bit" for bits in sorted(counter)) or "none"

    spill_text = f"{spills.group(1)}/{spills.group(2)} bytes spilled" if spills else "no report"
    return ok, (f"global loads {widths(loads)}; stores {widths(stores)}; "
                f"{registers.group(1) if registers else '?'} registers, {spill_text}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    parser.add_argument("--nvcc", required=True)
    parser.add_argument("--cuobjdump", required=True)
    parser.add_argument("--arch", default="sm_90")
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--parc-compile", default="parc-compile")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import cuda_bench

    config = dict(GPT2_SMALL, layers=args.layers)
    onnx_path = os.path.join(args.dir, "gpt2.onnx")
    cuda_bench.export_onnx(config, args.dtype, onnx_path)
    kernels_path = os.path.join(args.dir, "kernels.cu")
    subprocess.run([args.parc_compile, onnx_path,
                    f"--input-shape=input_ids={config['batch']}x{config['seq']}",
                    "--target=cuda", f"--cuda-arch={args.arch}", "--emit=cuda",
                    "-o", kernels_path], check=True)
    os.remove(onnx_path)
    text = open(kernels_path).read()
    pieces = re.split(r"^// (parc_kernel_\d+): (\w+), (.*)$", text, flags=re.M)
    failures = checked = 0
    for name, kind, shape, source in zip(pieces[1::4], pieces[2::4], pieces[3::4],
                                         pieces[4::4]):
        if kind not in ("elementwise", "row"):
            print(f"{name} ({kind}, {shape}): data movement, not checked")
            continue
        checked += 1
        ok, line = check_kernel(name, source, args)
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'} {name} ({kind}, {shape}): {line}")
    print(f"kernel_sass: {checked - failures} of {checked} elementwise and row kernels of "
          f"GPT-2 small in {args.dtype} load 128 bits at a time and spill nothing ({args.arch})")
    return 1 if failures or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
