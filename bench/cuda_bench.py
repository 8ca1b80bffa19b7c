"""Benchmark of the CUDA backend: fused kernels, GEMMs and one GPT-2-style forward.

    python bench/cuda_bench.py prepare DIR [--arch sm_90] [--dtype float32|bfloat16 ...]
        (here: exports GPT-2 small and compiles it; parc-compile cannot travel)
    python bench/cuda_bench.py run DIR [--parc-run PATH] [--runs 20]
        (on the GPU machine: needs PyTorch with CUDA)

`prepare` exports transformers' GPT-2 (12 layers, hidden 768, 12 heads, vocabulary 50257;
random weights) for batch 8 x sequence 1024 and compiles it with --target=cuda
--random-weights (weights are made up by parc-run: the model's 500 MB cannot be carried).
`run` prints, in one run on one GPU:

  * the device's copy bandwidth (torch: a 1 GiB device-to-device copy, bytes read +
    written), and each fused kernel's achieved bandwidth (the bytes it reads and writes
    over its GPU time in parc-run --profile-json) as a fraction of it;
  * each GEMM's TFLOP/s in parc (cuBLASLt, with its epilogue) against torch.matmul on the
    same shapes and type;
  * the whole forward pass: parc-run's median time against PyTorch eager and
    torch.compile on the same model, as ratios.

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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.join(ROOT, "test", "models"))

BATCH, SEQ = 8, 1024


def model_args(dtype):
    return argparse.Namespace(layers=12, hidden=768, heads=12, vocab=50257, batch=BATCH,
                              seq=SEQ, threads=os.cpu_count(), dtype=dtype)


def prepare(args):
    import torch

    from gpt2_model import gpt2_logits_model
    from make_model import _without_packed_sequence_detection

    os.makedirs(args.dir, exist_ok=True)
    for dtype in args.dtype:
        model = gpt2_logits_model(model_args(dtype)).eval().to(getattr(torch, dtype))
        # Traced on a small example with symbolic batch and sequence dims, bound to 8 x 1024
        # by parc-compile (the tracer runs the model once on the CPU: bf16 at full size takes
        # many minutes there).
        ids = torch.randint(0, 50257, (2, 16), generator=torch.Generator().manual_seed(1))
        with tempfile.TemporaryDirectory(prefix="parc-cuda-bench-") as work:
            onnx_path = os.path.join(work, "gpt2.onnx")
            with torch.no_grad(), _without_packed_sequence_detection():
                torch.onnx.export(model, (ids,), onnx_path, input_names=["input_ids"],
                                  output_names=["logits"], opset_version=17, dynamo=False,
                                  dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                                "logits": {0: "batch", 1: "sequence"}})
            artifact = os.path.join(args.dir, f"gpt2-small-{dtype}.parc")
            subprocess.run([os.path.join(ROOT, "build", "bin", "parc-compile"), onnx_path,
                            f"--input-shape=input_ids={BATCH}x{SEQ}",
                            "--target=cuda", f"--cuda-arch={args.arch}", "--random-weights",
                            "-o", artifact, "--report"], check=True)
        print(f"cuda_bench: wrote {artifact}")


def copy_bandwidth(torch):
    """Bytes read + written per second of a 1 GiB device-to-device copy."""
    source = torch.empty(2**28, dtype=torch.float32, device="cuda")
    target = torch.empty_like(source)
    for _ in range(3):
        target.copy_(source)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(20):
        target.copy_(source)
    end.record()
    torch.cuda.synchronize()
    return 2 * source.numel() * 4 * 20 / (start.elapsed_time(end) / 1e3)


def time_cuda(torch, fn, runs):
    """Median milliseconds of fn() over `runs` runs after 3 warm-ups (CUDA events)."""
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def torch_matmul_tflops(torch, gemm, runs):
    dtype = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[gemm["dtype"]]
    a = torch.randn(gemm["batch"], gemm["m"], gemm["k"], device="cuda", dtype=dtype)
    b = torch.randn(gemm["k"], gemm["n"], device="cuda", dtype=dtype)
    ms = time_cuda(torch, lambda: torch.matmul(a, b), runs)
    return 2 * gemm["batch"] * gemm["m"] * gemm["n"] * gemm["k"] / (ms / 1e3) / 1e12


def run_parc(args, artifact, ids_path, work, extra):
    return subprocess.run([args.parc_run, artifact, "--input", "input_ids=" + ids_path,
                           "--output-dir", os.path.join(work, "out"), *extra],
                          check=True, capture_output=True, text=True).stdout


def run(args):
    import numpy as np
    import torch

    from gpt2_model import gpt2_logits_model

    torch.backends.cuda.matmul.allow_tf32 = False  # parc's f32 GEMMs are full f32
    print(f"cuda_bench: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    bandwidth = copy_bandwidth(torch)
    print(f"device copy bandwidth (torch, 1 GiB, read + write): {bandwidth / 1e9:.0f} GB/s")
    artifacts = sorted(f for f in os.listdir(args.dir) if f.endswith(".parc"))
    for name in artifacts:
        dtype = name[len("gpt2-small-"):-len(".parc")]
        artifact = os.path.join(args.dir, name)
        with tempfile.TemporaryDirectory(prefix="parc-cuda-bench-") as work:
            ids = np.random.default_rng(1).integers(0, 50257, (BATCH, SEQ), dtype=np.int64)
            ids_path = os.path.join(work, "ids.npy")
            np.save(ids_path, ids)
            # Per instruction: GPU time from events (--profile-json).
            profile_path = os.path.join(work, "profile.json")
            run_parc(args, artifact, ids_path, work, ["--repeat", "5", "--profile-json", profile_path])
            with open(profile_path) as f:
                profile = json.load(f)
            # The whole forward pass, without per-instruction events; then replaying a CUDA
            # graph (runs 1 and 2 warm up and capture).
            report = run_parc(args, artifact, ids_path, work, ["--repeat", str(args.runs + 1), "--report"])
            graph_report = run_parc(args, artifact, ids_path, work,
                                    ["--repeat", str(args.runs + 2), "--report", "--cuda-graphs"])
        times = [float(t) for t in re.search(r"run ms:([\d. ]+)", report).group(1).split()][1:]
        parc_ms = statistics.median(times)
        graph_times = [float(t) for t in re.search(r"run ms:([\d. ]+)", graph_report).group(1).split()][2:]
        graph_ms = statistics.median(graph_times)
        print(f"\n== GPT-2 small, {dtype}, batch {BATCH} x seq {SEQ}: {profile['device']}")
        print("fused kernels (achieved bandwidth / device copy bandwidth):")
        kernels = {}
        for inst in profile["instructions"]:
            if inst["op"] == "fused" and inst["kind"] in ("row", "elementwise") and inst["ms"] > 0:
                entry = kernels.setdefault((inst["kernel"], inst["kind"], inst["bytes"]), [])
                entry.append(inst["ms"])
        for (kernel, kind, nbytes), ms in sorted(kernels.items()):
            achieved = nbytes / (statistics.median(ms) / 1e3)
            print(f"  parc_kernel_{kernel:<4} {kind:<12} {nbytes / 2**20:8.1f} MiB "
                  f"{statistics.median(ms) * 1e3:8.1f} us  {achieved / 1e9:7.0f} GB/s  "
                  f"{achieved / bandwidth:5.2f} of copy  (x{len(ms)})")
        print("GEMMs (parc cuBLASLt vs torch.matmul, same shape and type):")
        seen = {}
        for inst in profile["instructions"]:
            gemm = inst.get("gemm")
            if gemm and inst["ms"] > 0:
                key = (gemm["batch"], gemm["m"], gemm["n"], gemm["k"], gemm["dtype"], gemm["epilogue"])
                seen.setdefault(key, (gemm, []))[1].append(inst["ms"])
        for key, (gemm, ms) in sorted(seen.items()):
            flops = 2 * gemm["batch"] * gemm["m"] * gemm["n"] * gemm["k"]
            parc_tflops = flops / (statistics.median(ms) / 1e3) / 1e12
            torch_tflops = torch_matmul_tflops(torch, gemm, args.runs)
            print(f"  {gemm['batch']}x[{gemm['m']}x{gemm['k']}]x[{gemm['k']}x{gemm['n']}] "
                  f"{gemm['dtype']} +{gemm['epilogue']}: parc {parc_tflops:6.1f} TFLOP/s, "
                  f"torch {torch_tflops:6.1f} TFLOP/s, ratio {parc_tflops / torch_tflops:4.2f} "
                  f"(x{len(ms)})")
        model = gpt2_logits_model(model_args(dtype)).eval().to("cuda", getattr(torch, dtype))
        tokens = torch.from_numpy(ids).to("cuda")
        with torch.inference_mode():
            eager_ms = time_cuda(torch, lambda: model(tokens), args.runs)
            compiled = torch.compile(model)
            compiled_ms = time_cuda(torch, lambda: compiled(tokens), args.runs)
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
    parser.add_argument("--parc-run", default=os.path.join(ROOT, "build", "bin", "parc-run"))
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    return prepare(args) if args.mode == "prepare" else run(args)


if __name__ == "__main__":
    sys.exit(main())
