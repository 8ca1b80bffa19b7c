"""Runs ONNX's own backend node tests through parc-compile and parc-run.

The test cases come from the pinned onnx package (onnx.backend.test.case.node): each is a small
model plus input and expected output tensors. A case whose operators parc does not import is
"unsupported". Every other case is compiled and run, and its outputs are compared with ONNX's
tolerances (|actual - expected| <= atol + rtol * |expected|, rtol 1e-3, atol 1e-7 unless the
case sets its own) and must have the expected dtype and shape.

parc compiles static programs: a shape, axes, starts, split sizes and the like are fixed at
compile time. Where a node test feeds such a parameter as a graph input (Reshape's shape,
Slice's bounds, the axes of reductions, ...), the harness binds it as an initializer holding
the test's value (when every data set uses the same value); all other inputs stay run-time
inputs. The operator's semantics are then checked as usual.

Cases of supported operators that are known not to pass are listed, with the reason, in
expected_failures.txt: `test: PATTERN  # reason` matches case names, `error: PATTERN  # reason`
matches the first line of parc's error (fnmatch patterns both). The run fails on any failure
that is not listed and on any listed case that passes (so the list stays true). A
per-operator table and totals are printed, and written to --summary when given.

    python onnx_node_tests.py --bin build/bin [--jobs 2] [--filter 'test_add*'] [--summary F]
"""

import argparse
import collections
import concurrent.futures
import fnmatch
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


# Inputs that parc needs at compile time: (operator, input index).
COMPILE_TIME_INPUTS = {
    "Reshape": {1}, "Expand": {1}, "ConstantOfShape": {0}, "Range": {0, 1, 2},
    "Slice": {1, 2, 3, 4}, "Split": {1}, "Squeeze": {1}, "Unsqueeze": {1}, "Trilu": {1},
    "ReduceSum": {1}, "ReduceMean": {1}, "ReduceMax": {1},
}


def load_expected_failures(path):
    """(kind, pattern) -> reason, from lines `test: PATTERN  # reason` / `error: PATTERN  # reason`."""
    failures = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            entry, _, reason = line.partition("#")
            kind, _, pattern = entry.partition(":")
            if kind.strip() not in ("test", "error") or not pattern.strip() or not reason.strip():
                sys.exit("%s:%d: expected `test: PATTERN  # reason` or `error: PATTERN  # reason`"
                         % (path, number))
            failures[(kind.strip(), pattern.strip())] = reason.strip()
    return failures


def expected_reason(name, detail, expected):
    for (kind, pattern), reason in expected.items():
        subject = name if kind == "test" else detail
        if fnmatch.fnmatchcase(subject, pattern):
            return reason
    return None


def bind_compile_time_inputs(case):
    """A copy of the case's model with compile-time parameter inputs made initializers."""
    model = onnx.ModelProto()
    model.CopyFrom(case.model)
    inputs = [i.name for i in model.graph.input]
    slots = {node.input[i] for node in model.graph.node
             for i in COMPILE_TIME_INPUTS.get(node.op_type, ()) if i < len(node.input)}
    bound = set()
    for position, name in enumerate(inputs):
        if name not in slots:
            continue
        values = [to_numpy(inputs_of_set[position]) for inputs_of_set, _ in case.data_sets]
        if any(not np.array_equal(values[0], v) for v in values[1:]):
            continue
        model.graph.initializer.append(numpy_helper.from_array(values[0], name))
        bound.add(position)
    kept = [i for p, i in enumerate(model.graph.input) if p not in bound]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    return model, bound


def collect_cases():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from onnx.backend.test.case import node

        return node.collect_testcases()


def primary_ops(cases):
    """The operator each case tests: its single node's type, or that of its unexpanded twin."""
    first = {c.name: c.model.graph.node[-1].op_type for c in cases if c.model.graph.node}
    ops = {}
    for case in cases:
        base = case.name
        for suffix in ("_expanded_ver18", "_expanded"):
            if base.endswith(suffix):
                base = base[: -len(suffix)]
        ops[case.name] = first.get(base, first.get(case.name, "?"))
    return ops


def to_numpy(value):
    if isinstance(value, (np.ndarray, np.generic)):
        return np.asarray(value)
    return numpy_helper.to_array(value)


def run_case(case, binaries, work_root):
    """Returns (status, detail): status is passed, failed or unsupported."""
    work = tempfile.mkdtemp(prefix=case.name + "-", dir=work_root)
    model_path = os.path.join(work, "model.onnx")
    model, bound = bind_compile_time_inputs(case)
    with open(model_path, "wb") as f:
        f.write(model.SerializeToString())
    artifact = os.path.join(work, "model.parc")
    compiled = subprocess.run(
        [os.path.join(binaries, "parc-compile"), model_path, "-o", artifact],
        capture_output=True, text=True, timeout=120,
    )
    if compiled.returncode != 0:
        return "failed", "compile: " + (compiled.stderr.strip().splitlines() or ["?"])[0]
    outputs = [o.name for o in case.model.graph.output]
    for index, (input_values, output_values) in enumerate(case.data_sets):
        args = [os.path.join(binaries, "parc-run"), artifact]
        runtime_inputs = [(i.name, v) for p, (i, v) in
                          enumerate(zip(case.model.graph.input, input_values)) if p not in bound]
        for name, value in runtime_inputs:
            path = os.path.join(work, "in%d_%s.npy" % (index, len(args)))
            np.save(path, to_numpy(value))
            args += ["--input", "%s=%s" % (name, path)]
        out_dir = os.path.join(work, "out%d" % index)
        args += ["--output-dir", out_dir, "--threads", "1", "--timeout", "120"]
        ran = subprocess.run(args, capture_output=True, text=True, timeout=180)
        if ran.returncode != 0:
            return "failed", "run: " + (ran.stderr.strip().splitlines() or ["?"])[-1]
        for name, expected in zip(outputs, output_values):
            expected = to_numpy(expected)
            actual = np.load(os.path.join(out_dir, name.replace("/", "_") + ".npy"))
            if actual.dtype != expected.dtype or actual.shape != expected.shape:
                return "failed", "output %s: got %s %s, expected %s %s" % (
                    name, actual.dtype, actual.shape, expected.dtype, expected.shape)
            if expected.dtype.kind in "fc":
                close = np.isclose(actual, expected, rtol=case.rtol, atol=case.atol,
                                   equal_nan=True)
                if not close.all():
                    worst = np.max(np.abs(actual.astype(np.float64) - expected))
                    return "failed", "output %s: %d of %d values differ (max abs diff %.3g)" % (
                        name, int((~close).sum()), close.size, worst)
            elif not np.array_equal(actual, expected):
                return "failed", "output %s: values differ" % name
    return "passed", ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="folder with parc-compile and parc-run")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--filter", default="*")
    parser.add_argument("--expected-failures", default=os.path.join(HERE, "expected_failures.txt"))
    parser.add_argument("--summary", help="also write the summary to this file")
    parser.add_argument("--verbose", action="store_true", help="print every case")
    args = parser.parse_args()

    supported = set(subprocess.run(
        [os.path.join(args.bin, "parc-compile"), "--print-supported-ops"],
        capture_output=True, text=True, check=True).stdout.split())
    expected = load_expected_failures(args.expected_failures)
    cases = [c for c in collect_cases() if fnmatch.fnmatchcase(c.name, args.filter)]
    ops = primary_ops(cases)

    results = {}
    runnable = []
    for case in cases:
        used = {n.op_type if n.domain in ("", "ai.onnx") else n.domain + "." + n.op_type
                for n in case.model.graph.node}
        missing = sorted(used - supported)
        if missing:
            results[case.name] = ("unsupported", "needs " + ", ".join(missing))
        else:
            runnable.append(case)
    with tempfile.TemporaryDirectory(prefix="parc-onnx-node-") as work:
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = {pool.submit(run_case, c, args.bin, work): c for c in runnable}
            for future in concurrent.futures.as_completed(futures):
                case = futures[future]
                try:
                    results[case.name] = future.result()
                except Exception as error:  # a timeout or an unreadable output
                    results[case.name] = ("failed", "harness: %s" % error)

    table = collections.defaultdict(collections.Counter)
    unexpected, stale, lines = [], [], []
    for name in sorted(results):
        status, detail = results[name]
        reason = expected_reason(name, detail, expected)
        op = ops[name]
        if status == "failed" and reason:
            status, detail = "expected-failure", reason
        elif status == "failed":
            unexpected.append("%s (%s): %s" % (name, op, detail))
        elif status == "passed" and reason:
            stale.append("%s (%s) passes but is listed as failing: %s" % (name, op, reason))
        table[op][status] += 1
        if args.verbose or status in ("failed", "expected-failure"):
            lines.append("  %-60s %-16s %s" % (name, status, detail))

    out = ["ONNX backend node tests through parc (onnx %s)" % onnx.__version__,
           "%-24s %7s %9s %12s" % ("operator", "passed", "expected", "unsupported")]
    claimed = sorted(op for op in table if table[op]["passed"] + table[op]["expected-failure"]
                     + table[op]["failed"] > 0)
    for op in claimed:
        t = table[op]
        out.append("%-24s %7d %9d %12d" % (op, t["passed"], t["expected-failure"] + t["failed"],
                                           t["unsupported"]))
    totals = collections.Counter()
    for t in table.values():
        totals.update(t)
    out.append("operators with runnable cases: %d; operators only unsupported: %d"
               % (len(claimed), len(table) - len(claimed)))
    out.append("cases: %d passed, %d listed expected failures, %d unsupported, "
               "%d unexpected failures, %d stale expectations"
               % (totals["passed"], totals["expected-failure"], totals["unsupported"],
                  len(unexpected), len(stale)))
    out.extend(lines)
    for problem in unexpected:
        out.append("UNEXPECTED FAILURE: " + problem)
    for problem in stale:
        out.append("STALE EXPECTATION: " + problem)
    text = "\n".join(out)
    print(text)
    if args.summary:
        with open(args.summary, "w") as f:
            f.write(text + "\n")
    sys.exit(1 if unexpected or stale else 0)


if __name__ == "__main__":
    main()
