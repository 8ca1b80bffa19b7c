"""Benchmark: one forward pass of a GPT-2-style model on one CPU rank.

Times parc (parc-compile + parc-run) against onnxruntime and PyTorch eager on the same
inputs and the same thread count, in one run, and prints the ratios. Also prints parc-run's
peak memory against the weights plus the planned activation bytes parc-compile reports, and,
with --big-compile, how long parc-compile takes on a model with about 1 GB of weights and
its peak memory against the weight bytes.

    .venv/bin/python bench/gpt2_cpu_forward.py [--layers 12 --hidden 768 --heads 12
        --vocab 50257 --batch 1 --seq 128 --threads 2 --runs 10] [--big-compile]

Targets (issue 3): parc <= 1.5x onnxruntime, <= 1.0x PyTorch eager; peak memory <= 1.2x
(weights + planned activations); a 1 GB model compiles in under 10 s without holding a second
copy of the weights. Results are recorded in docs/perf-cpu.md.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
sys.path.insert(0, os.path.join(ROOT, "test", "models"))

from gpt2_model import add_model_args, gpt2_logits_model  # noqa: E402


def export_gpt2(args, path):
    import torch

    wrapper = gpt2_logits_model(args).eval()
    ids = torch.randint(0, args.vocab, (args.batch, args.seq), generator=torch.Generator().manual_seed(1))
    from make_model import _without_packed_sequence_detection

    with torch.no_grad(), _without_packed_sequence_detection():
        torch.onnx.export(wrapper, (ids,), path, input_names=["input_ids"], output_names=["logits"],
                          opset_version=17, dynamo=False)
    return wrapper, ids


def time_torch(model, ids, args):
    import torch

    torch.set_num_threads(args.threads)
    times = []
    with torch.no_grad():
        model(ids)
        for _ in range(args.runs):
            start = time.perf_counter()
            out = model(ids)
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), out.numpy()


def time_onnxruntime(path, ids, args):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feeds = {"input_ids": ids}
    session.run(None, feeds)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        out = session.run(None, feeds)[0]
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), out


def run_parc(path, ids, work, args):
    artifact = os.path.join(work, "model.parc")
    start = time.perf_counter()
    report = subprocess.run([os.path.join(BIN, "parc-compile"), path, "-o", artifact, "--report"],
                            check=True, capture_output=True, text=True).stdout
    compile_s = time.perf_counter() - start
    weights = int(re.search(r"weights (\d+) bytes", report).group(1))
    arena = int(re.search(r"peak activations (\d+) bytes", report).group(1))
    ids_path = os.path.join(work, "ids.npy")
    np.save(ids_path, ids)
    out_dir = os.path.join(work, "out")
    ran = subprocess.run(
        [os.path.join(BIN, "parc-run"), artifact, "--input", "input_ids=" + ids_path,
         "--output-dir", out_dir, "--threads", str(args.threads), "--repeat", str(args.runs + 1),
         "--report"], check=True, capture_output=True, text=True).stdout
    line = re.search(r"run ms:([\d. ]+), peak RSS ([\d.]+) MiB", ran)
    times = [float(t) for t in line.group(1).split()][1:]  # the first run warms up
    rss = float(line.group(2)) * 2**20
    return statistics.median(times), np.load(os.path.join(out_dir, "logits.npy")), compile_s, weights, arena, rss


def big_compile(work):
    """parc-compile on an MLP with about 1 GB of f32 weights: time and peak memory."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    width, depth = 4096, 16  # 16 x 4096 x 4096 x 4 bytes = 1.07 GB
    nodes, inits = [], []
    previous = "x"
    rng = np.random.default_rng(0)
    for i in range(depth):
        w = rng.standard_normal((width, width), dtype=np.float32)
        inits.append(numpy_helper.from_array(w, "w%d" % i))
        nodes.append(helper.make_node("MatMul", [previous, "w%d" % i], ["h%d" % i]))
        previous = "h%d" % i
    graph = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, width])],
                              [helper.make_tensor_value_info(previous, TensorProto.FLOAT, [1, width])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = os.path.join(work, "big.onnx")
    onnx.save(model, path)
    del model, graph, inits
    weight_bytes = depth * width * width * 4
    start = time.perf_counter()
    report = subprocess.run([os.path.join(BIN, "parc-compile"), path, "-o", os.path.join(work, "big.parc"),
                             "--report"], check=True, capture_output=True, text=True).stdout
    seconds = time.perf_counter() - start
    # parc-compile's own peak (a forked child's rusage would count this Python's pages too).
    peak = int(re.search(r"parc-compile peak RSS: (\d+) bytes", report).group(1))
    return weight_bytes, seconds, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(parser)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--big-compile", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="parc-bench-") as work:
        if args.big_compile:
            weight_bytes, seconds, peak = big_compile(work)
            print("1 GB compile: %.2f GB of weights compiled in %.2f s (target < 10 s), "
                  "peak RSS %.2f GB = %.2fx the weights (one copy: about 1x)"
                  % (weight_bytes / 1e9, seconds, peak / 1e9, peak / weight_bytes))
            return
        path = os.path.join(work, "gpt2.onnx")
        model, ids = export_gpt2(args, path)
        ids_np = ids.numpy()
        torch_ms, torch_out = time_torch(model, ids, args)
        ort_ms, ort_out = time_onnxruntime(path, ids_np, args)
        parc_ms, parc_out, compile_s, weights, arena, rss = run_parc(path, ids_np, work, args)
        error = np.linalg.norm(parc_out - torch_out) / np.linalg.norm(torch_out)
        print("GPT-2-style forward: %d layers, hidden %d, %d heads, vocab %d, batch %d, seq %d, "
              "%d threads, median of %d runs" % (args.layers, args.hidden, args.heads, args.vocab,
                                                  args.batch, args.seq, args.threads, args.runs))
        print("  parc           %8.2f ms" % parc_ms)
        print("  onnxruntime    %8.2f ms   parc / onnxruntime   = %.2f (target <= 1.5)" % (ort_ms, parc_ms / ort_ms))
        print("  PyTorch eager  %8.2f ms   parc / PyTorch eager = %.2f (target <= 1.0)" % (torch_ms, parc_ms / torch_ms))
        print("  parc vs PyTorch output: relative L2 error %.2e" % error)
        print("  parc-compile: %.2f s; weights %.1f MiB, planned activations %.1f MiB"
              % (compile_s, weights / 2**20, arena / 2**20))
        print("  parc-run peak RSS %.1f MiB = %.2fx (weights + planned activations) (target <= 1.2)"
              % (rss / 2**20, rss / (weights + arena)))


if __name__ == "__main__":
    sys.exit(main())
