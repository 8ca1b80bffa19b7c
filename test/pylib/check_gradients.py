"""Checks parc's reverse-mode gradients against PyTorch autograd, op by op.

    python check_gradients.py --work DIR

For every case, a small function loss = sum(op(inputs) * r) is written in the parc dialect,
differentiated with parc-opt -parc-differentiate=wrt=arguments, compiled and run with
parc-compile and parc-run (from PATH), and each float input's gradient is compared with
torch.autograd on the same inputs (relative L2 error at most 1e-5 in f32; r is a random
upstream gradient so that no rule is tested against ones only). Prints one line per case
and exits 1 if any differs.
"""

import argparse
import os
import subprocess
import sys

import numpy as np
import torch

from compare_outputs import relative_l2

F = torch.nn.functional

# name: (inputs {name: (shape, dtype, kind)}, body (parc ops ending in %y), result shape,
#        torch function of the inputs)
# kind: "any" (normal), "positive" (0.5 .. 2), "index:N" (int64 in [0, N)).
CASES = {
    "add (broadcast)": ({"a": ((2, 3), "f32", "any"), "b": ((3,), "f32", "any")},
                        "%y = parc.add %a, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>",
                        (2, 3), lambda a, b: a + b),
    "sub (broadcast)": ({"a": ((2, 3), "f32", "any"), "b": ((2, 1), "f32", "any")},
                        "%y = parc.sub %a, %b : tensor<2x3xf32>, tensor<2x1xf32> -> tensor<2x3xf32>",
                        (2, 3), lambda a, b: a - b),
    "mul (broadcast)": ({"a": ((2, 3), "f32", "any"), "b": ((1, 3), "f32", "any")},
                        "%y = parc.mul %a, %b : tensor<2x3xf32>, tensor<1x3xf32> -> tensor<2x3xf32>",
                        (2, 3), lambda a, b: a * b),
    "div": ({"a": ((2, 3), "f32", "any"), "b": ((2, 3), "f32", "positive")},
            "%y = parc.div %a, %b : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>",
            (2, 3), lambda a, b: a / b),
    "pow": ({"a": ((2, 3), "f32", "positive"), "b": ((), "f32", "positive")},
            "%y = parc.pow %a, %b : tensor<2x3xf32>, tensor<f32> -> tensor<2x3xf32>",
            (2, 3), lambda a, b: torch.pow(a, b)),
    "neg": ({"a": ((4,), "f32", "any")}, "%y = parc.neg %a : tensor<4xf32>", (4,),
            lambda a: -a),
    "relu": ({"a": ((6,), "f32", "any")}, "%y = parc.relu %a : tensor<6xf32>", (6,), F.relu),
    "exp": ({"a": ((4,), "f32", "any")}, "%y = parc.exp %a : tensor<4xf32>", (4,), torch.exp),
    "log": ({"a": ((4,), "f32", "positive")}, "%y = parc.log %a : tensor<4xf32>", (4,),
            torch.log),
    "sqrt": ({"a": ((4,), "f32", "positive")}, "%y = parc.sqrt %a : tensor<4xf32>", (4,),
             torch.sqrt),
    "reciprocal": ({"a": ((4,), "f32", "positive")},
                   "%y = parc.reciprocal %a : tensor<4xf32>", (4,), torch.reciprocal),
    "tanh": ({"a": ((4,), "f32", "any")}, "%y = parc.tanh %a : tensor<4xf32>", (4,),
             torch.tanh),
    "sigmoid": ({"a": ((4,), "f32", "any")}, "%y = parc.sigmoid %a : tensor<4xf32>", (4,),
                torch.sigmoid),
    "sin": ({"a": ((4,), "f32", "any")}, "%y = parc.sin %a : tensor<4xf32>", (4,), torch.sin),
    "cos": ({"a": ((4,), "f32", "any")}, "%y = parc.cos %a : tensor<4xf32>", (4,), torch.cos),
    "erf": ({"a": ((4,), "f32", "any")}, "%y = parc.erf %a : tensor<4xf32>", (4,), torch.erf),
    "gelu": ({"a": ((8,), "f32", "any")}, "%y = parc.gelu %a : tensor<8xf32>", (8,), F.gelu),
    "gelu (tanh)": ({"a": ((8,), "f32", "any")},
                    "%y = parc.gelu %a {tanh_approximation} : tensor<8xf32>", (8,),
                    lambda a: F.gelu(a, approximate="tanh")),
    "select": ({"a": ((2, 3), "f32", "any"), "b": ((2, 3), "f32", "any")},
               "%zero = parc.constant dense<0.0> : tensor<f32>\n"
               "  %c = parc.greater %a, %zero : tensor<2x3xf32>, tensor<f32> -> tensor<2x3xi1>\n"
               "  %y = parc.select %c, %a, %b : tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>",
               (2, 3), lambda a, b: torch.where(a > 0, a, b)),
    "matmul": ({"a": ((3, 4), "f32", "any"), "b": ((4, 5), "f32", "any")},
               "%y = parc.matmul %a, %b : tensor<3x4xf32>, tensor<4x5xf32> -> tensor<3x5xf32>",
               (3, 5), torch.matmul),
    "matmul (batch broadcast)": (
        {"a": ((2, 3, 4), "f32", "any"), "b": ((4, 5), "f32", "any")},
        "%y = parc.matmul %a, %b : tensor<2x3x4xf32>, tensor<4x5xf32> -> tensor<2x3x5xf32>",
        (2, 3, 5), torch.matmul),
    "matmul (batched)": (
        {"a": ((2, 3, 4), "f32", "any"), "b": ((2, 4, 5), "f32", "any")},
        "%y = parc.matmul %a, %b : tensor<2x3x4xf32>, tensor<2x4x5xf32> -> tensor<2x3x5xf32>",
        (2, 3, 5), torch.matmul),
    "reduce_sum": ({"a": ((2, 3, 4), "f32", "any")},
                   "%y = parc.reduce_sum %a {axes = array<i64: 1>} : tensor<2x3x4xf32> -> tensor<2x4xf32>",
                   (2, 4), lambda a: a.sum(1)),
    "reduce_mean (keep)": ({"a": ((2, 3, 4), "f32", "any")},
                           "%y = parc.reduce_mean %a {axes = array<i64: 0, 2>, keep_dims} : tensor<2x3x4xf32> -> tensor<1x3x1xf32>",
                           (1, 3, 1), lambda a: a.mean((0, 2), keepdim=True)),
    "cumsum": ({"a": ((3, 5), "f32", "any")},
               "%y = parc.cumsum %a {axis = 1 : i64} : tensor<3x5xf32>", (3, 5),
               lambda a: torch.cumsum(a, 1)),
    "cumsum (axis 0)": ({"a": ((4, 2, 3), "f32", "any")},
                        "%y = parc.cumsum %a {axis = 0 : i64} : tensor<4x2x3xf32>", (4, 2, 3),
                        lambda a: torch.cumsum(a, 0)),
    "softmax": ({"a": ((2, 5), "f32", "any")},
                "%y = parc.softmax %a {axis = 1 : i64} : tensor<2x5xf32>", (2, 5),
                lambda a: torch.softmax(a, 1)),
    "log_softmax": ({"a": ((3, 4), "f32", "any")},
                    "%y = parc.log_softmax %a {axis = 0 : i64} : tensor<3x4xf32>", (3, 4),
                    lambda a: torch.log_softmax(a, 0)),
    "reshape": ({"a": ((2, 6), "f32", "any")},
                "%y = parc.reshape %a : tensor<2x6xf32> -> tensor<3x4xf32>", (3, 4),
                lambda a: a.reshape(3, 4)),
    "transpose": ({"a": ((2, 3, 4), "f32", "any")},
                  "%y = parc.transpose %a, [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>",
                  (4, 2, 3), lambda a: a.permute(2, 0, 1)),
    "broadcast_to": ({"a": ((3, 1), "f32", "any")},
                     "%y = parc.broadcast_to %a : tensor<3x1xf32> -> tensor<2x3x4xf32>",
                     (2, 3, 4), lambda a: a.expand(2, 3, 4)),
    "concat": ({"a": ((2, 3), "f32", "any"), "b": ((2, 1), "f32", "any")},
               "%y = parc.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>",
               (2, 4), lambda a, b: torch.cat([a, b], 1)),
    "slice": ({"a": ((4, 6), "f32", "any")},
              "%y = parc.slice %a {start_indices = array<i64: 1, 2>, limit_indices = array<i64: 3, 5>, strides = array<i64: 1, 1>} : tensor<4x6xf32> -> tensor<2x3xf32>",
              (2, 3), lambda a: a[1:3, 2:5]),
    "gather (embedding)": ({"a": ((5, 3), "f32", "any"), "ids": ((2, 4), "i64", "index:5")},
                           "%y = parc.gather %a[%ids] {axis = 0 : i64} : tensor<5x3xf32>, tensor<2x4xi64> -> tensor<2x4x3xf32>",
                           (2, 4, 3), lambda a, ids: a[ids]),
    # Repeated indices (random in [0, 6)) accumulate their gradients.
    "gather_elements": ({"a": ((3, 6), "f32", "any"), "ids": ((3, 4), "i64", "index:6")},
                        "%y = parc.gather_elements %a[%ids] {axis = 1 : i64} : tensor<3x6xf32>, tensor<3x4xi64> -> tensor<3x4xf32>",
                        (3, 4), lambda a, ids: torch.gather(a, 1, ids)),
    "gather_elements (axis 0)": ({"a": ((5, 3), "f32", "any"), "ids": ((2, 3), "i64", "index:5")},
                                 "%y = parc.gather_elements %a[%ids] {axis = 0 : i64} : tensor<5x3xf32>, tensor<2x3xi64> -> tensor<2x3xf32>",
                                 (2, 3), lambda a, ids: torch.gather(a, 0, ids)),
    # ONNX TopK's values: the positions carry no gradient, the gathered values do.
    "top_k values": ({"a": ((4, 5), "f32", "any")},
                     "%i = parc.top_k %a {axis = 1 : i64, k = 3 : i64, largest} : tensor<4x5xf32> -> tensor<4x3xi64>\n"
                     "    %y = parc.gather_elements %a[%i] {axis = 1 : i64} : tensor<4x5xf32>, tensor<4x3xi64> -> tensor<4x3xf32>",
                     (4, 3), lambda a: torch.topk(a, 3, 1).values),
}


def mlir_type(shape, dtype):
    return "tensor<%s%s>" % ("".join("%dx" % d for d in shape), dtype)


def make_input(shape, dtype, kind, rng):
    if kind.startswith("index:"):
        return rng.integers(0, int(kind.split(":")[1]), size=shape).astype(np.int64)
    if kind == "positive":
        return rng.uniform(0.5, 2.0, size=shape).astype(np.float32)
    return rng.standard_normal(size=shape).astype(np.float32)


def check(name, case, work, rng):
    inputs, body, result_shape, function = case
    values = {n: make_input(s, d, k, rng) for n, (s, d, k) in inputs.items()}
    upstream = rng.standard_normal(size=result_shape).astype(np.float32)
    result_type = mlir_type(result_shape, "f32")
    arguments = ", ".join("%%%s: %s {parc.name = \"%s\"}" % (n, mlir_type(s, d), n)
                          for n, (s, d, _) in inputs.items())
    all_axes = ", ".join(str(i) for i in range(len(result_shape)))
    module = (
        "func.func @main(%s, %%r: %s {parc.name = \"r\"}) -> tensor<f32> {\n  %s\n"
        "  %%p = parc.mul %%y, %%r : %s, %s -> %s\n"
        "  %%loss = parc.reduce_sum %%p {axes = array<i64: %s>} : %s -> tensor<f32>\n"
        "  return %%loss : tensor<f32>\n}\n"
        % (arguments, result_type, body, result_type, result_type, result_type, all_axes,
           result_type))
    case_dir = os.path.join(work, "".join(c if c.isalnum() else "_" for c in name))
    os.makedirs(case_dir, exist_ok=True)
    source = os.path.join(case_dir, "f.mlir")
    with open(source, "w") as file:
        file.write(module)
    files = []
    for input_name, value in list(values.items()) + [("r", upstream)]:
        path = os.path.join(case_dir, input_name + ".npy")
        np.save(path, value)
        files.append("--input=%s=%s" % (input_name, path))
    out = os.path.join(case_dir, "out")
    for command in (["parc-opt", source, "-parc-differentiate=wrt=arguments", "-o",
                     os.path.join(case_dir, "grad.mlir")],
                    ["parc-compile", os.path.join(case_dir, "grad.mlir"), "-o",
                     os.path.join(case_dir, "grad.parc")],
                    ["parc-run", os.path.join(case_dir, "grad.parc"), "--output-dir", out]
                    + files):
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            return "%s failed: %s" % (command[0], result.stderr.strip()[:400])
    tensors = {n: torch.tensor(v, requires_grad=n != "ids" and v.dtype == np.float32)
               for n, v in values.items()}
    (function(*tensors.values()) * torch.tensor(upstream)).sum().backward()
    worst = 0.0
    for input_name, tensor in tensors.items():
        if not tensor.requires_grad:
            continue
        actual = np.load(os.path.join(out, "grad:%s.npy" % input_name))
        expected = tensor.grad.numpy()
        if actual.shape != expected.shape:
            return "grad:%s has shape %s, expected %s" % (input_name, actual.shape,
                                                          expected.shape)
        worst = max(worst, relative_l2(actual, expected))
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", required=True)
    parser.add_argument("--max-rel-l2", type=float, default=1e-5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    failures = 0
    for name, case in CASES.items():
        outcome = check(name, case, args.work, rng)
        if isinstance(outcome, str):
            print("%s: %s" % (name, outcome))
            failures += 1
            continue
        passed = outcome <= args.max_rel_l2
        print("%s: relative L2 error %.2e vs torch.autograd %s"
              % (name, outcome, "ok" if passed else "TOO LARGE"))
        failures += not passed
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
