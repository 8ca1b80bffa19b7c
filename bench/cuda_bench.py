"""Benchmark of the CUDA backend: fused kernels, GEMMs and one GPT-2-style forward.

    python bench/cuda_bench.py prepare DIR [--arch sm_90] [--dtype float32 bfloat16] [--tiny]
        (here: exports the model and compiles it; parc-compile cannot travel)
    python bench/cuda_bench.py run DIR [--parc-run PATH] [--runs 20] [--emulate]
        (on the GPU machine: needs PyTorch with CUDA)

`prepare` exports transformers' GPT-2 small (12 layers, hidden 768, 12 heads, vocabulary
50257; random weights) for batch 8 x sequence 1024 and compiles it with --target=cuda
--random-weights (weights are made up by parc-run: the model's 650 MB cannot be carried);
DIR/config.json records the model. `run` prints, in one run on one GPU:

  * the device's copy bandwidth (torch: a 1 GiB device-to-device copy, bytes read +
    written), and each fused kernel's achieved bandwidth (the bytes it reads and writes
    over its GPU time in parc-run --profile-json) as a fraction of it;
  * each GEMM's TFLOP/s in parc (cuBLASLt, with its epilogue) against torch.matmul on the
    same shapes and type;
  * the whole forward pass: parc-run's median time, also replaying a CUDA graph, against
    PyTorch eager and torch.compile on the same model, as ratios.

`prepare --tiny` and `run --emulate` check this script without a GPU: a 2-layer model,
parc-run's CUDA emulator and PyTorch on the CPU (the numbers mean nothing).
Results go in docs/perf.md.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.join(ROOT, "test", "models"))

GPT2_SMALL = {"layers": 12, "hidden": 768, "heads": 12, "vocab": 50257, "batch": 8, "seq": 1024}
TINY = {"layers": 2, "hidden": 64, "heads": 4, "vocab": 512, "batch": 2, "seq": 32}
DTYPES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}


def model_args(config):
    return argparse.Namespace(threads=os.cpu_count(), **config)


def export_onnx(config, dtype, onnx_path):
    """Writes the GPT-2 of `config` in `dtype` to onnx_path, with symbolic batch and
    sequence dims (parc-compile --input-shape binds them)."""
    import torch

    from gpt2_model import gpt2_logits_model
    from make_model import _without_packed_sequence_detection

    model = gpt2_logits_model(model_args(config)).eval().to(getattr(torch, dtype))
    # Traced on a small example with symbolic batch and sequence dims, bound by
    # parc-compile (the tracer runs the model once on the CPU: bf16 at full size takes
    # many minutes there).
    ids = torch.randint(0, config["vocab"], (2, 16), generator=torch.Generator().manual_seed(1))
    with torch.no_grad(), _without_packed_sequence_detection():
        torch.onnx.export(model, (ids,), onnx_path, input_names=["input_ids"],
                          output_names=["logits"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                        "logits": {0: "batch", 1: "sequence"}})


def prepare(args):
    config = TINY if args.tiny else GPT2_SMALL
    os.makedirs(args.dir, exist_ok=True)
    with open(os.path.join(args.dir, "config.json"), "w") as f:
        json.dump(config, f)
    for dtype in args.dtype:
        with tempfile.TemporaryDirectory(prefix="parc-cuda-bench-") as work:
            onnx_path = os.path.join(work, "gpt2.onnx")
            export_onnx(config, dtype, onnx_path)
            artifact = os.path.join(args.dir, f"gpt2-{dtype}.parc")
            subprocess.run([os.path.join(ROOT, "build", "bin", "parc-compile"), onnx_path,
                            f"--input-shape=input_ids={config['batch']}x{config['seq']}",
                            "--target=cuda", f"--cuda-arch={args.arch}", "--random-weights",
                            "-o", artifact, "--report"], check=True)
        print(f"cuda_bench: wrote {artifact}")


class Device:
    """Where PyTorch runs and how it is timed: CUDA events on a GPU, the wall clock on the
    CPU (--emulate)."""

    def __init__(self, torch, emulate):
        self.torch = torch
        self.name = "cpu" if emulate else "cuda"

    def time(self, fn, runs):
        """Median milliseconds of fn() over `runs` runs after 3 warm-ups."""
        torch = self.torch
        for _ in range(3):
            fn()
        times = []
        for _ in range(runs):
            if self.name == "cpu":
                start = time.perf_counter()
                fn()
                times.append((time.perf_counter() - start) * 1e3)
                continue
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end))
        return statistics.median(times)

    def copy_bandwidth(self):
        """Bytes read + written per second of a device-to-device copy (1 GiB on a GPU)."""
        elements = 2**28 if self.name == "cuda" else 2**24
        source = self.torch.empty(elements, dtype=self.torch.float32, device=self.name)
        target = self.torch.empty_like(source)
        ms = self.time(lambda: target.copy_(source), 20)
        return 2 * elements * 4 / (ms / 1e3)

    def matmul_tflops(self, gemm, runs):
        torch = self.torch
        dtype = getattr(torch, DTYPES[gemm["dtype"]])
        a = torch.randn(gemm["batch"], gemm["m"], gemm["k"], device=self.name, dtype=dtype)
        rhs_shape = (gemm["k"], gemm["n"])
        if gemm.get("rhs_batch", 1) > 1:
            rhs_shape = (gemm["rhs_batch"],) + rhs_shape
        b = torch.randn(*rhs_shape, device=self.name, dtype=dtype)
        ms = self.time(lambda: torch.matmul(a, b), runs)
        return 2 * gemm["batch"] * gemm["m"] * gemm["n"] * gemm["k"] / (ms / 1e3) / 1e12


def run_parc(args, artifact, ids_path, work, extra):
    env = dict(os.environ)
    if args.emulate:
        env["PARC_CUDA_EMULATOR"] = "1"
    return subprocess.run([args.parc_run, artifact, "--input", "input_ids=" + ids_path,
                           "--output-dir", os.path.join(work, "out"), *extra],
                          check=True, capture_output=True, text=True, env=env).stdout


def run_times(report, skip):
    """The run times parc-run --report printed, without the first `skip` (warm-up)."""
    return [float(t) for t in re.search(r"run ms:([\d. ]+)", report).group(1).split()][skip:]


def print_kernels(profile, bandwidth):
    print("fused kernels (achieved bandwidth / device copy bandwidth):")
    kernels = {}
    for inst in profile["instructions"]:
        if inst["op"] == "fused" and inst["kind"] in ("row", "elementwise") and inst["ms"] > 0:
            kernels.setdefault((inst["kernel"], inst["kind"], inst["bytes"]), []).append(inst["ms"])
    for (kernel, kind, nbytes), ms in sorted(kernels.items()):
        achieved = nbytes / (statistics.median(ms) / 1e3)
        print(f"  parc_kernel_{kernel:<4} {kind:<12} {nbytes / 2**20:8.2f} MiB "
              f"{statistics.median(ms) * 1e3:9.1f} us  {achieved / 1e9:7.1f} GB/s  "
              f"{achieved / bandwidth:5.2f} of copy  (x{len(ms)})")


def print_gemms(profile, device, runs):
    print("GEMMs (parc cuBLASLt vs torch.matmul, same shape and type):")
    seen = {}
    for inst in profile["instructions"]:
        gemm = inst.get("gemm")
        if gemm and inst["ms"] > 0:
            key = tuple(gemm[k] for k in ("batch", "rhs_batch", "m", "n", "k", "dtype", "epilogue"))
            seen.setdefault(key, (gemm, []))[1].append(inst["ms"])
    for _, (gemm, ms) in sorted(seen.items()):
        flops = 2 * gemm["batch"] * gemm["m"] * gemm["n"] * gemm["k"]
        parc_tflops = flops / (statistics.median(ms) / 1e3) / 1e12
        torch_tflops = device.matmul_tflops(gemm, runs)
        print(f"  {gemm['batch']}x[{gemm['m']}x{gemm['k']}] x {gemm['rhs_batch']}x[{gemm['k']}x"
              f"{gemm['n']}] {gemm['dtype']} +{gemm['epilogue']}: parc {parc_tflops:7.2f} TFLOP/s, "
              f"torch {torch_tflops:7.2f} TFLOP/s, ratio {parc_tflops / torch_tflops:5.2f} (x{len(ms)})")


def run(args):
    import numpy as np
    import torch

    from gpt2_model import gpt2_logits_model

    with open(os.path.join(args.dir, "config.json")) as f:
        config = json.load(f)
    device = Device(torch, args.emulate)
    if device.name == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False  # parc's f32 GEMMs are full f32
        print(f"cuda_bench: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    else:
        print(f"cuda_bench: --emulate: parc-run's CUDA emulator and PyTorch on the CPU "
              f"(checks the script; the numbers mean nothing), torch {torch.__version__}")
    bandwidth = device.copy_bandwidth()
    print(f"device copy bandwidth (torch, read + write): {bandwidth / 1e9:.0f} GB/s")
    runs = 3 if args.emulate else args.runs
    for name in sorted(f for f in os.listdir(args.dir) if f.endswith(".parc")):
        dtype = name[len("gpt2-"):-len(".parc")]
        artifact = os.path.join(args.dir, name)
        ids = np.random.default_rng(1).integers(0, config["vocab"], (config["batch"], config["seq"]),
                                                dtype=np.int64)
        with tempfile.TemporaryDirectory(prefix="parc-cuda-bench-") as work:
            ids_path = os.path.join(work, "ids.npy")
            np.save(ids_path, ids)
            # Per instruction: GPU time from events (--profile-json).
            profile_path = os.path.join(work, "profile.json")
            run_parc(args, artifact, ids_path, work, ["--repeat", "3", "--profile-json", profile_path])
            with open(profile_path) as f:
                profile = json.load(f)
            # The whole forward pass, without per-instruction events; then replaying a CUDA
            # graph (runs 1 and 2 warm up and capture).
            plain = run_parc(args, artifact, ids_path, work, ["--repeat", str(runs + 1), "--report"])
            graph = run_parc(args, artifact, ids_path, work,
                             ["--repeat", str(runs + 2), "--report", "--cuda-graphs"])
        parc_ms = statistics.median(run_times(plain, 1))
        graph_ms = statistics.median(run_times(graph, 2))
        print(f"\n== GPT-2 {config['layers']} layers, hidden {config['hidden']}, {dtype}, batch "
              f"{config['batch']} x seq {config['seq']}: {profile['device']}")
        print_kernels(profile, bandwidth)
        print_gemms(profile, device, runs)
        model = gpt2_logits_model(model_args(config)).eval().to(device.name, getattr(torch, dtype))
        tokens = torch.from_numpy(ids).to(device.name)
        with torch.inference_mode():
            eager_ms = device.time(lambda: model(tokens), runs)
            compiled = torch.compile(model)
            compiled_ms = device.time(lambda: compiled(tokens), runs)
        print(f"forward: parc {parc_ms:.2f} ms ({graph_ms:.2f} ms replaying a CUDA graph), "
              f"PyTorch eager {eager_ms:.2f} ms (parc / eager = {parc_ms / eager_ms:.2f}, "
              f"with the graph {graph_ms / eager_ms:.2f}), torch.compile {compiled_ms:.2f} ms "
              f"(parc / compile = {parc_ms / compiled_ms:.2f}, with the graph "
              f"{graph_ms / compiled_ms:.2f})")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["prepare", "run"])
    parser.add_argument("dir")
    parser.add_argument("--arch", default="sm_90")
    parser.add_argument("--dtype", nargs="+", default=["float32", "bfloat16"],
                        choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--tiny", action="store_true", help="a 2-layer model (with --emulate)")
    parser.add_argument("--parc-run", default=os.path.join(ROOT, "build", "bin", "parc-run"))
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--emulate", action="store_true",
                        help="parc-run's CUDA emulator and PyTorch on the CPU")
    args = parser.parse_args()
    return prepare(args) if args.mode == "prepare" else run(args)


if __name__ == "__main__":
    sys.exit(main())
