"""End-to-end model checks of the CUDA backend, for scripts/gpu-check.sh.

    python gpu_models.py prepare DIR [--arch sm_90] [--cases A,B]  (here: needs parc-compile)
    python gpu_models.py run DIR [--cases A,B] [--parc-run PATH] [--emulate]   (on the GPU)
    python gpu_models.py repeat DIR --cases A,B [--times 3]   (bit for bit, run after run)
    python gpu_models.py graphs DIR [--case gpt2-graphs]       (CUDA graphs and the profile)
    python gpu_models.py sanitize DIR [--case gpt2] [--sanitizer PATH]   (compute-sanitizer)

`prepare` exports each test model (test/models/make_model.py; the two-layer-norm repro
from test/Execution/cuda_launch_shapes.py), compiles it for the CPU and, for every case
below, for --target=cuda, runs the CPU backend and keeps its outputs: the reference. `run`
runs CUDA artifacts with parc-run (one rank per GPU; ranks sharing one GPU stage their
communication through the host) and compares each output with the CPU backend's: relative
L2 error at most 1e-5 (f32), 2e-3 (f16), 2e-2 (bf16) — fused kernels keep f32 between the
ops the CPU backend rounds one by one. Every subcommand prints one line per case and ends
with a one-line summary; it exits 1 if any case fails. --emulate runs parc-run's CUDA
emulator instead of a GPU (to check this script without one).

The compiler (MLIR) cannot travel to the GPU machine, so the artifacts are built here and
carried there with parc-run (scripts/gpu-bundle.sh).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# How each model is exported: make_model.py's arguments (the dtype is added), or the
# script of a repro model (called with the .onnx path and the folder for its inputs).
MODELS = {
    "gpt2": ["gpt2", "--batch", "2"],
    "llama": ["llama", "--batch", "2"],
    "bert": ["bert", "--batch", "2"],
    "mlp": ["mlp", "--batch", "2"],
    "transformer_encoder": ["transformer_encoder", "--batch", "2"],
    # Issue 21's repros. A: GPT-2 small's hidden size, odd batch and sequence (a layer
    # norm's 1/768 was printed with six decimals).
    "gpt2-h768": ["gpt2", "--layers", "1", "--hidden", "768", "--heads", "12", "--batch", "3",
                  "--seq", "13"],
    # F: one sequence of 7 tokens, which put an f16 GEMM result 896 bytes into the arena.
    "gpt2-1x7": ["gpt2", "--batch", "1", "--seq", "7"],
    # B: layer norms over 8x64 and a 2x64 slice (one kernel source, two launch shapes).
    "norms": os.path.join(ROOT, "test", "Execution", "cuda_launch_shapes.py"),
}

# (case, model, dtype, parc-compile flags, tolerance[, parc-run flags])
CASES = [
    ("gpt2-graphs", "gpt2", "float32", [], 1e-5, ["--cuda-graphs", "--repeat", "3", "--report"]),
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
    ("repro-a-h768", "gpt2-h768", "float32", [], 1e-5),
    ("repro-b-norms", "norms", "float32", [], 1e-5),
    ("repro-f-f16-1x7", "gpt2-1x7", "float16", [], 2e-3),
]

def relative_l2(actual, reference):
    actual = actual.astype(np.float64)
    reference = reference.astype(np.float64)
    norm = np.linalg.norm(reference)
    return float(np.linalg.norm(actual - reference) / (norm if norm > 0 else 1.0))


def selected(names):
    """The CASES named in `names` (a comma-separated list), all when empty."""
    if not names:
        return CASES
    wanted = names.split(",")
    unknown = sorted(set(wanted) - {case[0] for case in CASES})
    if unknown:
        sys.exit(f"gpu_models: unknown case {', '.join(unknown)}")
    return [case for case in CASES if case[0] in wanted]


def export(model, dtype, folder):
    """Writes folder/model.onnx and the inputs (with PyTorch's outputs) to folder/torch."""
    python = sys.executable
    onnx_path = os.path.join(folder, "model.onnx")
    inputs = os.path.join(folder, "torch")
    os.makedirs(inputs, exist_ok=True)
    recipe = MODELS[model]
    if isinstance(recipe, str):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [os.path.join(ROOT, "test", "pylib")] + env.get("PYTHONPATH", "").split(os.pathsep))
        subprocess.run([python, recipe, onnx_path, inputs], check=True, env=env)
    else:
        subprocess.run([python, os.path.join(ROOT, "test", "models", "make_model.py"),
                        recipe[0], onnx_path, *recipe[1:], "--dtype", dtype,
                        "--reference", inputs], check=True, stdout=subprocess.DEVNULL)
    return onnx_path


def prepare(args):
    bin_dir = os.path.join(ROOT, "build", "bin")
    os.makedirs(args.dir, exist_ok=True)
    manifest = []
    exported = {}
    for case, model, dtype, flags, tolerance, *run_flags in selected(args.cases):
        key = (model, dtype)
        folder = os.path.join(args.dir, f"{model}-{dtype}")
        if key not in exported:
            os.makedirs(folder, exist_ok=True)
            onnx_path = export(model, dtype, folder)
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


def load_cases(args, names=None):
    with open(os.path.join(args.dir, "cases.json")) as f:
        cases = json.load(f)
    if names:
        wanted = names.split(",")
        missing = sorted(set(wanted) - {case["case"] for case in cases})
        if missing:
            sys.exit(f"gpu_models: {', '.join(missing)} not prepared in {args.dir}")
        cases = [case for case in cases if case["case"] in wanted]
    return cases


def run_case(args, case, out, extra_flags=(), prefix=()):
    """Runs one case's artifact into `out`; (the completed process, seconds)."""
    env = dict(os.environ)
    if args.emulate:
        env["PARC_CUDA_EMULATOR"] = "1"
    folder = os.path.join(args.dir, case["folder"])
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    result = subprocess.run([*prefix, args.parc_run, os.path.join(args.dir, case["artifact"]),
                             *input_flags(folder), "--output-dir", out,
                             *case.get("run_flags", []), *extra_flags],
                            env=env, capture_output=True, text=True)
    return result, time.perf_counter() - start


def worst_error(args, case, out):
    """The largest relative L2 error of the case's outputs against the CPU backend's."""
    folder = os.path.join(args.dir, case["folder"])
    worst = 0.0
    for name in os.listdir(os.path.join(folder, "cpu")):
        reference = np.load(os.path.join(folder, "cpu", name))
        actual_path = os.path.join(out, name)
        if not os.path.exists(actual_path):
            return float("inf")
        actual = np.load(actual_path)
        if actual.shape != reference.shape or actual.dtype != reference.dtype:
            return float("inf")
        worst = max(worst, relative_l2(actual, reference))
    return worst


def failure_text(result):
    return result.stderr.strip().replace("\n", " | ")[-600:]


def run(args):
    cases = load_cases(args, args.cases)
    failures = 0
    for case in cases:
        out = os.path.join(args.dir, "out", case["case"])
        result, seconds = run_case(args, case, out)
        staged = "staged through host" if "staged through host" in result.stderr else "one GPU"
        if result.returncode != 0:
            failures += 1
            print(f"FAIL {case['case']}: parc-run failed: {failure_text(result)}")
            continue
        worst = worst_error(args, case, out)
        ok = worst <= case["tolerance"]
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'} {case['case']}: relative L2 error {worst:.2e} vs the "
              f"CPU backend (limit {case['tolerance']:.0e}; {staged}; {seconds:.1f} s)")
    print(f"gpu_models: {len(cases) - failures} of {len(cases)} cases match the CPU backend")
    return 1 if failures else 0


def repeat(args):
    """Runs each case --times times: every run's outputs must equal the first's bit for bit
    (host-staged collectives and transfers, cuBLASLt's algorithm choice and the kernels
    must be deterministic) and match the CPU backend."""
    cases = load_cases(args, args.cases)
    failures, lines = 0, []
    for case in cases:
        first, verdict = None, None
        for attempt in range(args.times):
            out = os.path.join(args.dir, "out", f"{case['case']}-run{attempt}")
            result, _ = run_case(args, case, out)
            if result.returncode != 0:
                verdict = f"run {attempt + 1} failed: {failure_text(result)}"
                break
            outputs = {name: np.load(os.path.join(out, name)) for name in sorted(os.listdir(out))}
            if first is None:
                first = outputs
                if worst_error(args, case, out) > case["tolerance"]:
                    verdict = "differs from the CPU backend"
                    break
            elif any(outputs[name].tobytes() != first[name].tobytes() for name in first):
                verdict = f"run {attempt + 1} differs from run 1"
                break
        ok = verdict is None
        failures += not ok
        lines.append(f"{case['case']} {args.times} runs identical" if ok
                     else f"{case['case']} FAIL: {verdict}")
        print(f"{'PASS' if ok else 'FAIL'} {lines[-1]}")
    print(f"gpu_models: {'; '.join(lines)}")
    return 1 if failures else 0


def graphs(args):
    """A --cuda-graphs run (3 runs: one warm-up, one captured, one replayed) that must say
    it replayed and match the CPU backend, then a profiled run whose JSON must list every
    instruction with a time."""
    case = load_cases(args, args.case)[0]
    out = os.path.join(args.dir, "out", case["case"] + "-graphs")
    flags = ["--cuda-graphs", "--repeat", "3", "--report"]
    case = dict(case, run_flags=[])
    result, _ = run_case(args, case, out, flags)
    if result.returncode != 0:
        print(f"gpu_models: FAIL --cuda-graphs run failed: {failure_text(result)}")
        return 1
    replayed = re.findall(r"\d+ runs? replayed a CUDA graph", result.stdout + result.stderr)
    worst = worst_error(args, case, out)
    summary = (f"graphs: {replayed[0] if replayed else 'NO run replayed a CUDA graph'} of 3, "
               f"error {worst:.1e}")
    ok = bool(replayed) and worst <= case["tolerance"]
    profile_path = os.path.join(args.dir, "out", case["case"] + "-profile.json")
    result, _ = run_case(args, dict(case, run_flags=[]), out + "-profile",
                         ["--profile-json", profile_path])
    try:
        with open(profile_path) as f:
            profile = json.load(f)
        entries = profile.get("instructions", profile) if isinstance(profile, dict) else profile
        summary += f"; profile: {len(entries)} instructions"
        ok = ok and result.returncode == 0 and len(entries) > 0
    except (OSError, ValueError) as error:
        summary += f"; profile FAILED ({error}; {failure_text(result)})"
        ok = False
    print(f"gpu_models: {'' if ok else 'FAIL '}{summary}")
    return 0 if ok else 1


def sanitize(args):
    """One rank of the case under compute-sanitizer's memcheck: no error, and the outputs
    match the CPU backend."""
    sanitizer = args.sanitizer or shutil.which("compute-sanitizer")
    if not sanitizer and os.path.exists("/usr/local/cuda/bin/compute-sanitizer"):
        sanitizer = "/usr/local/cuda/bin/compute-sanitizer"
    if not sanitizer:
        print("skipped: compute-sanitizer is not installed")
        return 0
    if not os.access(sanitizer, os.X_OK):
        print(f"gpu_models: FAIL {sanitizer} is not an executable")
        return 1
    case = load_cases(args, args.case)[0]
    out = os.path.join(args.dir, "out", case["case"] + "-memcheck")
    result, seconds = run_case(args, dict(case, run_flags=[]), out, prefix=(
        sanitizer, "--tool", "memcheck", "--error-exitcode", "99", "--print-limit", "10"))
    errors = [line for line in (result.stdout + result.stderr).splitlines()
              if "ERROR SUMMARY" in line]
    worst = worst_error(args, case, out) if result.returncode == 0 else float("inf")
    ok = result.returncode == 0 and worst <= case["tolerance"]
    detail = errors[-1].strip("= ") if errors else failure_text(result)
    print(f"gpu_models: {'' if ok else 'FAIL '}memcheck {case['case']}: {detail}, "
          f"error {worst:.1e} ({seconds:.0f} s)")
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["prepare", "run", "repeat", "graphs", "sanitize"])
    parser.add_argument("dir")
    parser.add_argument("--arch", default="sm_90")
    parser.add_argument("--cases", default="", help="comma-separated cases (default: all)")
    parser.add_argument("--case", default="gpt2", help="the case of graphs and sanitize")
    parser.add_argument("--times", type=int, default=3)
    parser.add_argument("--sanitizer", default="")
    parser.add_argument("--parc-run", default=os.path.join(ROOT, "build", "bin", "parc-run"))
    parser.add_argument("--emulate", action="store_true")
    args = parser.parse_args()
    if args.mode == "prepare":
        prepare(args)
        return 0
    return {"run": run, "repeat": repeat, "graphs": graphs, "sanitize": sanitize}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
