"""parc's cost model and layout search against Megatron's published plans.

For every row of Narayanan et al. 2021 (arXiv 2104.04473), Table 1 (GPT, vocabulary
51,200, sequence 2048, f16 mixed precision, Adam, on Selene's DGX A100 nodes), this
writes the GPT as ONNX with absent external weights (test/models/megatron_gpt.py) and runs
parc-compile --plan-only on the built-in `dgx-a100` profile twice:

  published: --devices=GPUs --tp=t --pp=p --recompute=full (the paper's layout; parc
             chooses the microbatches and the schedule), and
  search:    --devices=GPUs alone (parc chooses everything).

It prints, side by side, the published TFLOP/s per GPU, parc's prediction for the
published layout and its ratio to the published figure, then the layout parc's search
picks, its prediction, its peak memory and the search's wall time. TFLOP/s are counted as
the paper counts them, 96 B s l h^2 (1 + s/6h + V/16lh) per step over the step time,
whatever the layout recomputes, so that predictions compare as step times do.

  python bench/megatron_table1.py [--bin build/bin] [--rows 1.7,3.6] [--json out.json]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "test", "models"))
from megatron_gpt import write_gpt  # noqa: E402

SEQ, VOCAB = 2048, 51200
# params (B), heads, hidden, layers, t, p, GPUs, global batch, published TFLOP/s per GPU
TABLE1 = [
    ("1.7", 24, 2304, 24, 1, 1, 32, 512, 137),
    ("3.6", 32, 3072, 30, 2, 1, 64, 512, 138),
    ("7.5", 32, 4096, 36, 4, 1, 128, 512, 142),
    ("18.4", 48, 6144, 40, 8, 1, 256, 1024, 135),
    ("39.1", 64, 8192, 48, 8, 2, 512, 1536, 138),
    ("76.1", 80, 10240, 60, 8, 4, 1024, 1792, 140),
    ("145.6", 96, 12288, 80, 8, 8, 1536, 2304, 148),
    ("310.1", 128, 16384, 96, 8, 16, 1920, 2160, 155),
    ("529.6", 128, 20480, 105, 8, 35, 2520, 2520, 163),
    ("1008.0", 160, 25600, 128, 8, 64, 3072, 3072, 163),
]


def iteration_flops(batch, layers, hidden):
    """The paper's FLOPs of one iteration with full recomputation."""
    return 96 * batch * SEQ * layers * hidden**2 * (
        1 + SEQ / (6 * hidden) + VOCAB / (16 * layers * hidden))


def plan(binary, model, batch, devices, extra, json_path):
    command = [binary, model, f"--input-shape=input_ids={batch}x{SEQ}",
               f"--devices={devices}", "--train", "--optimizer=adamw",
               "--mixed-precision=f16", "--cluster=dgx-a100", "--plan-only",
               f"--plan-json={json_path}"] + extra
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    with open(json_path) as f:
        return json.load(f), seconds


def layout(p):
    text = f"t={p['tp']} p={p['pp']} d={p['dp']} m={p['microbatches']}"
    if p["virtual_stages"] > 1:
        text += f" v={p['virtual_stages']}"
    elif p["schedule"] == "gpipe":
        text += " gpipe"
    return text + f" rc={p['recompute']} z={p['zero']}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--bin", default=os.path.join(root, "build", "bin"))
    parser.add_argument("--rows", help="comma-separated parameter counts (default: all)")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    binary = os.path.join(args.bin, "parc-compile")
    rows = [r for r in TABLE1 if not args.rows or r[0] in args.rows.split(",")]

    print(f"{'params':>7} {'GPUs':>5} {'published':>9} | {'parc, published layout':>34} "
          f"{'ratio':>5} | {'parc search picks':<44} {'TFLOP/s':>7} {'peak GB':>7} {'s':>5}")
    results, worst = [], 0.0
    with tempfile.TemporaryDirectory() as work:
        for name, heads, hidden, layers, t, p, gpus, batch, published in rows:
            model = os.path.join(work, f"gpt-{name}.onnx")
            write_gpt(model, layers, hidden, heads, VOCAB, SEQ)
            flops = iteration_flops(batch, layers, hidden)
            given, _ = plan(binary, model, batch, gpus,
                            [f"--tp={t}", f"--pp={p}", "--recompute=full"],
                            os.path.join(work, "given.json"))
            searched, seconds = plan(binary, model, batch, gpus, [],
                                     os.path.join(work, "search.json"))
            given_tflops = flops / (given["predicted_step_seconds"] * gpus) / 1e12
            search_tflops = flops / (searched["predicted_step_seconds"] * gpus) / 1e12
            ratio = given_tflops / published
            worst = max(worst, abs(ratio - 1))
            print(f"{name:>7} {gpus:>5} {published:>9} | {layout(given):>26} {given_tflops:7.1f} "
                  f"{ratio:5.2f} | {layout(searched):<44} {search_tflops:7.1f} "
                  f"{searched['peak_memory_bytes'] / 1e9:7.1f} {seconds:5.1f}", flush=True)
            results.append({
                "params_billion": float(name), "gpus": gpus, "published_tflops": published,
                "published_layout": {"tp": t, "pp": p, "dp": gpus // (t * p)},
                "predicted_published_layout": given, "predicted_tflops": given_tflops,
                "ratio": ratio, "search": searched, "search_tflops": search_tflops,
                "search_seconds": seconds,
                "search_at_least_published": searched["predicted_step_seconds"]
                <= given["predicted_step_seconds"] * (1 + 1e-9),
                "search_fits_80GB": searched["peak_memory_bytes"] <= 80e9,
            })
    print(f"largest |predicted / published - 1| over the rows: {worst:.3f} (target 0.15)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
