"""End-to-end model checks of the CUDA backend, for scripts/gpu-check.sh.

    python gpu_models.py prepare DIR [--arch sm_90] [--emulate]   (here: needs parc-compile)
    python gpu_models.py run DIR [--parc-run PATH] [--emulate]    (on the GPU machine)

`prepare` exports each test model (test/models/make_model.py), compiles it for the CPU and,
for every layout below, for --target=cuda, runs the CPU backend and keeps its outputs: the
reference. `run` runs every CUDA artifact with parc-run (one rank per GPU; ranks sharing
one GPU stage their communication through the host) and compares each output with the CPU
backend's: relative L2 error at most 1e-5 (f32), 2e-3 (f16), 2e-2 (bf16) — fused kernels
keep f32 between the ops the CPU backend rounds one by one. It prints one line per case and
a summary line, and exits 1 if any case fails. --emulate runs parc-run's CUDA emulator
instead of a GPU (to check this script without one).

The compiler (MLIR) cannot travel to the GPU machine, so the artifacts are built here and
carried there with parc-run (scripts/gpu-bundle.sh).
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# (case, model, dtype, parc-compile flags, tolerance[, parc-run flags])
CASES = [
    ("gpt2-graphs", "gpt2", "float32", [], 1e-5, ["--cuda-graphs", "--repeat", "3"]),
    ("gpt2", "gpt2", "float32", [], 1e-5),
    ("gpt2-tp2", "gpt2", "float32", ["--tp=2"], 1e-5),
    ("gpt2-pp2", "gpt2", "float32", ["--pp=2"], 1e-5),
    ("gpt2-tp2-pp2", "gpt2", "float32", ["--tp=2", "--pp=2"], 1e-5),
    ("gpt2-tp2-pp4", "gpt2", "float32", ["--tp=2", "--pp=4"], 1e-5),
    ("llama-tp2", "llama", "float32", ["--tp=2"], 1e-5),
    ("bert", "bert", "float32", [], 1e-5),
    ("mlp-tp2", "mlp", "float32", ["--tp=2"], 1e-5),
    ("transformer_encoder", "transformer_encoder", "float32", [], 1e-5),
    ("gpt2-f16", "gpt2", "float16", [], 2e-3),
    ("gpt2-bf16", "gpt2", "bfloat16", [], 2e-2),
    ("llama-f16-tp2", "llama", "float16", ["--tp=2"], 2e-3),
]


def relative_l2(actual, reference):
    actual = actual.astype(np.float64)
    reference = reference.astype(np.float64)
    norm = np.linalg.norm(reference)
    return float(np.linalg.norm(actual - reference) / (norm if norm > 0 else 1.0))


def prepare(args):
    bin_dir = os.path.join(ROOT, "build", "bin")
    python = sys.executable
    os.makedirs(args.dir, exist_ok=True)
    manifest = []
    exported = {}
    for case, model, dtype, flags, tolerance, *run_flags in CASES:
        key = (model, dtype)
        folder = os.path.join(args.dir, f"{model}-{dtype}")
        if key not in exported:
            onnx_path = os.path.join(folder, "model.onnx")
            os.makedirs(folder, exist_ok=True)
            subprocess.run([python, os.path.join(ROOT, "test", "models", "make_model.py"), model,
                            onnx_path, "--batch", "2", "--dtype", dtype,
                            "--reference", os.path.join(folder, "torch")],
                           check=True, stdout=subprocess.DEVNULL)
            inputs = sorted(f[:-4] for f in os.listdir(os.path.join(folder, "torch"))
                            if f.endswith(".npy"))
            subprocess.run([os.path.join(bin_dir, "parc-compile"), onnx_path, "-o",
                            os.path.join(folder, "cpu.parc")], check=True)
            exported[key] = (onnx_path, folder)
        onnx_path, folder = exported[key]
        artifact = os.path.join(args.dir, case + ".parc")
        subprocess.run([os.path.join(bin_dir, "parc-compile"), onnx_path, "--target=cuda",
                        f"--cuda-arch={args.arch}", *flags, "-o", artifact], check=True)
        manifest.append({"case": case, "folder": os.path.relpath(folder, args.dir),
                         "artifact": case + ".parc", "tolerance": tolerance,
                         "run_flags": run_flags[0] if run_flags else []})
    # The CPU backend's outputs: the reference of every CUDA run.
    for model, dtype in exported:
        folder = exported[(model, dtype)][1]
        graph_inputs = input_flags(folder)
        subprocess.run([os.path.join(bin_dir, "parc-run"), os.path.join(folder, "cpu.parc"),
                        *graph_inputs, "--output-dir", os.path.join(folder, "cpu")], check=True)
        os.remove(os.path.join(folder, "model.onnx"))
        os.remove(os.path.join(folder, "cpu.parc"))
    with open(os.path.join(args.dir, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"gpu_models: {len(manifest)} cases prepared in {args.dir}")


def input_flags(folder):
    """--input flags for the inputs make_model.py saved (the files that are not outputs)."""
    outputs = {"logits", "last_hidden_state", "output"}
    flags = []
    for name in sorted(os.listdir(os.path.join(folder, "torch"))):
        stem = name[:-4]
        if name.endswith(".npy") and stem not in outputs:
            flags += ["--input", f"{stem}={os.path.join(folder, 'torch', name)}"]
    return flags


def run(args):
    with open(os.path.join(args.dir, "cases.json")) as f:
        cases = json.load(f)
    env = dict(os.environ)
    if args.emulate:
        env["PARC_CUDA_EMULATOR"] = "1"
    failures = 0
    for case in cases:
        folder = os.path.join(args.dir, case["folder"])
        out = os.path.join(args.dir, "out", case["case"])
        start = time.perf_counter()
        result = subprocess.run([args.parc_run, os.path.join(args.dir, case["artifact"]),
                                 *input_flags(folder), "--output-dir", out,
                                 *case.get("run_flags", [])],
                                env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        staged = "staged through host" if "staged through host" in result.stderr else "one GPU"
        if result.returncode != 0:
            failures += 1
            print(f"FAIL {case['case']}: parc-run failed: {result.stderr.strip()[-600:]}")
            continue
        worst = 0.0
        for name in os.listdir(os.path.join(folder, "cpu")):
            reference = np.load(os.path.join(folder, "cpu", name))
            actual = np.load(os.path.join(out, name))
            if actual.shape != reference.shape or actual.dtype != reference.dtype:
                worst = float("inf")
                break
            worst = max(worst, relative_l2(actual, reference))
        ok = worst <= case["tolerance"]
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'} {case['case']}: relative L2 error {worst:.2e} vs the "
              f"CPU backend (limit {case['tolerance']:.0e}; {staged}; {seconds:.1f} s)")
    print(f"gpu_models: {len(cases) - failures} of {len(cases)} cases match the CPU backend")
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["prepare", "run"])
    parser.add_argument("dir")
    parser.add_argument("--arch", default="sm_90")
    parser.add_argument("--parc-run", default=os.path.join(ROOT, "build", "bin", "parc-run"))
    parser.add_argument("--emulate", action="store_true")
    args = parser.parse_args()
    if args.mode == "prepare":
        prepare(args)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
