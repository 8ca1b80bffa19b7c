"""Checks parc's f16 and bf16 results against error bounds derived from the arithmetic.

    python check_rounding.py --work DIR [--target cpu|cuda] [--dtypes float16,bfloat16]

For each low-precision type and each case below, a one-node ONNX graph takes f32 inputs
holding values exactly representable in the type, casts them to it (exact) and applies the
op in the type; the result, in the type, is the graph's output (parc-run writes bf16 as f32,
exactly). It is compiled for --target (cuda: run on parc-run's CUDA emulator,
PARC_CUDA_EMULATOR=1) and every output element is checked against the float64 value y of
the same op on the same inputs:

    |y_parc - y| <= u |y| + eta / 2 + f32 term

where u is the type's unit roundoff (f16 2^-11, bf16 2^-8: round to nearest even is
within half an ulp), eta the spacing of its subnormals (f16 2^-24, bf16 2^-133: below the
smallest normal the error is absolute), and the f32 term bounds the arithmetic done in f32
before the one final rounding (Higham, Accuracy and Stability of Numerical Algorithms, 2002,
section 3.1, with gamma_n = n 2^-24 / (1 - n 2^-24)):

    mul        x * w                    products of two 11- or 8-bit significands are exact in
                                        f32: no f32 term, the bound is u |y| alone
    add        x + w                    one f32 rounding: 2^-24 |y|
    reduce_sum sum of n = 1000 per row  gamma_(n-1) sum |x_i| (any summation order)
    matmul     K = 768 contraction      gamma_K sum_k |a_ik| |b_kj| (f32 accumulation)
    softmax    rows of n = 1000         (gamma_n + 8 2^-24) |y|: the row's max and sum in f32,
                                        exp within 4 f32 ulps (runtime/lib/cpu/FastMath.h)
    cast       f32 -> type -> f32       of any f32 value: the round trip is the rounding, so
                                        even inside a fused kernel it must round: u |x| alone

Each case prints the largest ratio of the error to its bound, which must be at most 1; for
mul, add and cast, where the final rounding is the whole error, it must also be at least 0.5,
so that the bound is not slack (a rounding that truncates instead of going to nearest even
reaches up to twice the bound). Exits 1 on any failed check. parc-compile and parc-run come
from PATH.
"""

import argparse
import os
import subprocess
import sys

import ml_dtypes
import numpy as np
import onnx
from onnx import TensorProto, helper

UNIT_ROUNDOFF = {"float16": 2.0 ** -11, "bfloat16": 2.0 ** -8}
SUBNORMAL_SPACING = {"float16": 2.0 ** -24, "bfloat16": 2.0 ** -133}
NUMPY_TYPE = {"float16": np.float16, "bfloat16": ml_dtypes.bfloat16}
ONNX_TYPE = {"float16": TensorProto.FLOAT16, "bfloat16": TensorProto.BFLOAT16}
F32_UNIT = 2.0 ** -24


def gamma(n):
    return n * F32_UNIT / (1 - n * F32_UNIT)


def representable(rng, shape, dtype, low=-2.0, high=2.0):
    """Random f32 values that the low-precision type holds exactly."""
    values = rng.uniform(low, high, shape).astype(np.float32)
    return values.astype(NUMPY_TYPE[dtype]).astype(np.float32)


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def cases(rng, dtype):
    """name: (onnx op, attributes, inputs {name: f32 array}, exact y, f32 term, tight)."""
    anything = rng.uniform(-3.0, 3.0, (8, 300)).astype(np.float32)
    x = representable(rng, (8, 300), dtype)
    w = representable(rng, (8, 300), dtype)
    rows = representable(rng, (6, 1000), dtype)
    a = representable(rng, (7, 768), dtype, -1.0, 1.0)
    b = representable(rng, (768, 33), dtype, -1.0, 1.0)
    logits = representable(rng, (5, 1000), dtype, -4.0, 4.0)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    r64, a64, b64 = rows.astype(np.float64), a.astype(np.float64), b.astype(np.float64)
    s64 = softmax(logits.astype(np.float64))
    return {
        "mul": ("Mul", {}, {"x": x, "w": w}, x64 * w64, 0.0 * x64, True),
        "add": ("Add", {}, {"x": x, "w": w}, x64 + w64, F32_UNIT * np.abs(x64 + w64), True),
        "reduce_sum": ("ReduceSum", {"keepdims": 0}, {"x": rows}, r64.sum(axis=1),
                       gamma(999) * np.abs(r64).sum(axis=1), False),
        "matmul": ("MatMul", {}, {"x": a, "w": b}, a64 @ b64, gamma(768) * (np.abs(a64) @ np.abs(b64)),
                   False),
        "softmax": ("Softmax", {"axis": -1}, {"x": logits}, s64,
                    (gamma(1000) + 8 * F32_UNIT) * s64, False),
        "cast": ("Cast", {"to": TensorProto.FLOAT}, {"x": anything},
                 anything.astype(np.float64), 0.0 * anything, True),
    }


def build_model(op, attributes, inputs, dtype, path):
    """Inputs cast to the type, then the op; a Cast case is the round trip to f32."""
    nodes, graph_inputs = [], []
    for name, value in inputs.items():
        graph_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, value.shape))
        nodes.append(helper.make_node("Cast", [name], [name + "_lo"], to=ONNX_TYPE[dtype]))
    operands = [name + "_lo" for name in inputs]
    if op == "ReduceSum":
        axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
        nodes.append(helper.make_node("Constant", [], ["axes"], value=axes))
        operands.append("axes")
    nodes.append(helper.make_node(op, operands, ["y"], **attributes))
    output_type = TensorProto.FLOAT if op == "Cast" else ONNX_TYPE[dtype]
    graph = helper.make_graph(nodes, op.lower(), graph_inputs,
                              [helper.make_tensor_value_info("y", output_type, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    onnx.save(model, path)


def run_case(name, case, dtype, target, work):
    op, attributes, inputs, exact, f32_term, tight = case
    folder = os.path.join(work, "%s-%s-%s" % (target, dtype, name))
    os.makedirs(folder, exist_ok=True)
    model = os.path.join(folder, "model.onnx")
    build_model(op, attributes, inputs, dtype, model)
    artifact = os.path.join(folder, "model.parc")
    command = ["parc-compile", model, "-o", artifact]
    if target == "cuda":
        command.append("--target=cuda")
    run = ["parc-run", artifact, "--output-dir", os.path.join(folder, "out")]
    for input_name, value in inputs.items():
        path = os.path.join(folder, input_name + ".npy")
        np.save(path, value)
        run += ["--input", "%s=%s" % (input_name, path)]
    env = dict(os.environ, PARC_CUDA_EMULATOR="1") if target == "cuda" else None
    for step in (command, run):
        result = subprocess.run(step, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            return False, "%s failed: %s" % (step[0], result.stderr.strip()[:300])
    actual = np.load(os.path.join(folder, "out", "y.npy")).astype(np.float64)
    if actual.shape != exact.shape:
        return False, "output shape %s, expected %s" % (actual.shape, exact.shape)
    bound = UNIT_ROUNDOFF[dtype] * np.abs(exact) + SUBNORMAL_SPACING[dtype] / 2 + f32_term
    ratio = float(np.max(np.abs(actual - exact) / np.maximum(bound, 1e-300)))
    passed = ratio <= 1.0 and (not tight or ratio >= 0.5)
    return passed, "largest error / bound %.3f%s" % (ratio, " (tight: must be >= 0.5)" if tight else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", required=True)
    parser.add_argument("--target", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--dtypes", default="float16,bfloat16")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    failures = 0
    for dtype in args.dtypes.split(","):
        rng = np.random.default_rng(5)
        for name, case in cases(rng, dtype).items():
            passed, detail = run_case(name, case, dtype, args.target, args.work)
            print("%s %s %s: %s %s" % (args.target, dtype, name, detail, "ok" if passed else "FAILED"))
            failures += not passed
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
