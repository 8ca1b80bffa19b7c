"""Benchmark: tensor-parallel planning of a GPT-2-XL-sized graph.

Writes a parc module shaped like GPT-2 XL (48 layers, hidden 1600, 25 heads, MLP 6400,
vocabulary 50257, batch 1, sequence 1024; about 1.5 billion parameters) whose weights are
splat placeholders (no bytes), then times `parc-compile --tp=8 --emit=partitioned` on it and
prints the planning time, the layouts chosen, and the per-rank weight bytes against the
sharded share plus the replicated parts. With 25 heads, tp=8 divides no head count.

    .venv/bin/python bench/tp_scale.py [--layers 48 --hidden 1600 --heads 25 --tp 8]

Target (issue 4): planning and rewriting in under 10 s.
"""

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")


def t(*shape):
    return "tensor<%sxf32>" % "x".join(str(d) for d in shape)


def build(args):
    b, s, h, nh, v = 1, args.seq, args.hidden, args.heads, args.vocab
    hd, f = h // nh, 4 * h
    lines, weights = [], []
    counter = [0]

    def val():
        counter[0] += 1
        return "%%v%d" % counter[0]

    def weight(name, *shape):
        weights.append('  parc.weight @%s = dense<0.0> : %s' % (name, t(*shape)))
        v_ = val()
        lines.append("    %s = parc.load_weight @%s : %s" % (v_, name, t(*shape)))
        return v_

    def op(text, result_type):
        v_ = val()
        lines.append("    %s = %s -> %s" % (v_, text, result_type) if "->" not in text
                     else "    %s = %s" % (v_, text))
        return v_

    def binary(kind, x, y, tx, ty, tr):
        v_ = val()
        lines.append("    %s = parc.%s %s, %s : %s, %s -> %s" % (v_, kind, x, y, tx, ty, tr))
        return v_

    def matmul(x, w, tx, tw, tr):
        v_ = val()
        lines.append("    %s = parc.matmul %s, %s : %s, %s -> %s" % (v_, x, w, tx, tw, tr))
        return v_

    def unary(kind, x, tx, attrs=""):
        v_ = val()
        lines.append("    %s = parc.%s %s %s: %s" % (v_, kind, x, attrs, tx))
        return v_

    def reshape(x, tx, tr):
        v_ = val()
        lines.append("    %s = parc.reshape %s : %s -> %s" % (v_, x, tx, tr))
        return v_

    def transpose(x, perm, tx, tr):
        v_ = val()
        lines.append("    %s = parc.transpose %s, [%s] : %s -> %s" % (v_, x, ", ".join(map(str, perm)), tx, tr))
        return v_

    def layer_norm(x, name):
        g = weight(name + "_g", h)
        bb = weight(name + "_b", h)
        v_ = val()
        lines.append("    %s = parc.reduce_mean %s {axes = array<i64: 2>, keep_dims} : %s -> %s" % (v_, x, t(b, s, h), t(b, s, 1)))
        c = binary("sub", x, v_, t(b, s, h), t(b, s, 1), t(b, s, h))
        sq = binary("mul", c, c, t(b, s, h), t(b, s, h), t(b, s, h))
        var = val()
        lines.append("    %s = parc.reduce_mean %s {axes = array<i64: 2>, keep_dims} : %s -> %s" % (var, sq, t(b, s, h), t(b, s, 1)))
        sd = unary("sqrt", var, t(b, s, 1))
        inv = unary("reciprocal", sd, t(b, s, 1))
        n = binary("mul", c, inv, t(b, s, h), t(b, s, 1), t(b, s, h))
        n = binary("mul", n, g, t(b, s, h), t(h), t(b, s, h))
        return binary("add", n, bb, t(b, s, h), t(h), t(b, s, h))

    ids = "%arg0"
    wte = weight("wte", v, h)
    x = val()
    lines.append("    %s = parc.gather %s[%s] {axis = 0 : i64} : %s, tensor<%dx%dxi64> -> %s" % (x, wte, ids, t(v, h), b, s, t(b, s, h)))
    for layer in range(args.layers):
        p = "h%d_" % layer
        n1 = layer_norm(x, p + "ln1")
        wqkv = weight(p + "qkv", h, 3 * h)
        qkv = matmul(n1, wqkv, t(b, s, h), t(h, 3 * h), t(b, s, 3 * h))
        bqkv = weight(p + "qkv_b", 3 * h)
        qkv = binary("add", qkv, bqkv, t(b, s, 3 * h), t(3 * h), t(b, s, 3 * h))
        heads = []
        for i in range(3):
            sl = val()
            lines.append("    %s = parc.slice %s {start_indices = array<i64: 0, 0, %d>, limit_indices = array<i64: %d, %d, %d>, strides = array<i64: 1, 1, 1>} : %s -> %s" % (sl, qkv, i * h, b, s, (i + 1) * h, t(b, s, 3 * h), t(b, s, h)))
            r = reshape(sl, t(b, s, h), t(b, s, nh, hd))
            perm = [0, 2, 3, 1] if i == 1 else [0, 2, 1, 3]
            shape = (b, nh, hd, s) if i == 1 else (b, nh, s, hd)
            heads.append((transpose(r, perm, t(b, s, nh, hd), t(*shape)), shape))
        (q, _), (k, _), (vv, _) = heads
        sc = matmul(q, k, t(b, nh, s, hd), t(b, nh, hd, s), t(b, nh, s, s))
        pr = unary("softmax", sc, t(b, nh, s, s), "{axis = 3 : i64} ")
        o = matmul(pr, vv, t(b, nh, s, s), t(b, nh, s, hd), t(b, nh, s, hd))
        o = transpose(o, [0, 2, 1, 3], t(b, nh, s, hd), t(b, s, nh, hd))
        o = reshape(o, t(b, s, nh, hd), t(b, s, h))
        wo = weight(p + "proj", h, h)
        o = matmul(o, wo, t(b, s, h), t(h, h), t(b, s, h))
        bo = weight(p + "proj_b", h)
        o = binary("add", o, bo, t(b, s, h), t(h), t(b, s, h))
        x = binary("add", x, o, t(b, s, h), t(b, s, h), t(b, s, h))
        n2 = layer_norm(x, p + "ln2")
        w1 = weight(p + "fc", h, f)
        m = matmul(n2, w1, t(b, s, h), t(h, f), t(b, s, f))
        b1 = weight(p + "fc_b", f)
        m = binary("add", m, b1, t(b, s, f), t(f), t(b, s, f))
        m = unary("gelu", m, t(b, s, f))
        w2 = weight(p + "fc2", f, h)
        m = matmul(m, w2, t(b, s, f), t(f, h), t(b, s, h))
        b2 = weight(p + "fc2_b", h)
        m = binary("add", m, b2, t(b, s, h), t(h), t(b, s, h))
        x = binary("add", x, m, t(b, s, h), t(b, s, h), t(b, s, h))
    x = layer_norm(x, "lnf")
    head = weight("lm_head", h, v)
    logits = matmul(x, head, t(b, s, h), t(h, v), t(b, s, v))
    text = ["module {"] + weights + [
        "  func.func @main(%%arg0: tensor<%dx%dxi64>) -> %s {" % (b, s, t(b, s, v))] + lines + [
        "    return %s : %s" % (logits, t(b, s, v)), "  }", "}"]
    return "\n".join(text) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=48)
    parser.add_argument("--hidden", type=int, default=1600)
    parser.add_argument("--heads", type=int, default=25)
    parser.add_argument("--vocab", type=int, default=50257)
    parser.add_argument("--seq", type=int, default=1024)
    parser.add_argument("--tp", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="parc-tp-scale-") as work:
        path = os.path.join(work, "gpt2xl.mlir")
        with open(path, "w") as f:
            f.write(build(args))
        start = time.perf_counter()
        out = subprocess.run([os.path.join(BIN, "parc-compile"), path, "--tp=%d" % args.tp,
                              "--emit=partitioned", "-o", os.path.join(work, "out.mlir")],
                             capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if out.returncode != 0:
            sys.exit(out.stderr)
        text = open(os.path.join(work, "out.mlir")).read()
    layouts = collections.Counter(re.findall(r"sharding = #parc.sharding<([^>]*)>", text))
    weights = re.findall(r"parc.weight @(\S+) = dense<[^>]*> : tensor<([0-9x]+)xf32>( \{sharding = #parc.sharding<split)?", text)
    total = split = 0
    for _, shape, is_split in weights:
        n = 1
        for d in shape.split("x"):
            n *= int(d)
        total += 4 * n
        split += 4 * n if is_split else 0
    per_rank = split / args.tp + (total - split)
    collectives = collections.Counter(re.findall(r"parc\.(all_reduce|all_gather|reduce_scatter)", text))
    print("GPT-2-XL-shaped graph: %d layers, hidden %d, %d heads, %d weights (%.2f GB f32), tp=%d"
          % (args.layers, args.hidden, args.heads, len(weights), total / 1e9, args.tp))
    print("  plan + SPMD rewrite (parc-compile --emit=partitioned, incl. parse and print): %.2f s (target < 10 s)" % seconds)
    print("  layouts: %s" % dict(layouts))
    print("  collectives: %s" % dict(collectives))
    print("  weight bytes per rank: %.3f GB = split share %.3f GB + replicated %.3f GB (of %.2f GB)"
          % (per_rank / 1e9, split / args.tp / 1e9, (total - split) / 1e9, total / 1e9))


if __name__ == "__main__":
    main()
