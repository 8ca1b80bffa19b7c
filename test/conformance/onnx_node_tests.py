"""Runs ONNX's own backend node tests through parc-compile and parc-run.

The test cases come from the pinned onnx package (onnx.backend.test.case.node): each is a small
model plus input and expected output tensors. A case whose operators parc does not import is
"unsupported". Every other case is compiled and run, and its outputs are compared with ONNX's
tolerances (|actual - expected| <= atol + rtol * |expected|, rtol 1e-3, atol 1e-7 unless the
case sets its own) and must have the expected dtype and shape.

Cases of supported operators that are known not to pass are listed, with the reason, in
expected_failures.txt (fnmatch patterns). The run fails on any failure that is not listed and on
any listed case that passes (so the list stays true). A per-operator table and totals are
printed, and written to --summary when given.

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


def load_expected_failures(path):
    """Pattern -> reason, from lines `pattern  # reason`."""
    failures = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            pattern, _, reason = line.partition("#")
            failures[pattern.strip()] = reason.strip()
    return failures


def expected_reason(name, expected):
    for pattern, reason in expected.items():
        if fnmatch.fnmatchcase(name, pattern):
            return reason
    return None


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
    return value if isinstance(value, np.ndarray) else numpy_helper.to_array(value)


def run_case(case, binaries, work_root):
    """Returns (status, detail): status is passed, failed or unsupported."""
    work = tempfile.mkdtemp(prefix=case.name + "-", dir=work_root)
    model_path = os.path.join(work, "model.onnx")
    with open(model_path, "wb") as f:
        f.write(case.model.SerializeToString())
    artifact = os.path.join(work, "model.parc")
    compiled = subprocess.run(
        [os.path.join(binaries, "parc-compile"), model_path, "-o", artifact],
        capture_output=True, text=True, timeout=120,
    )
    if compiled.returncode != 0:
        return "failed", "compile: " + (compiled.stderr.strip().splitlines() or ["?"])[0]
    initializers = {t.name for t in case.model.graph.initializer}
    inputs = [i.name for i in case.model.graph.input if i.name not in initializers]
    outputs = [o.name for o in case.model.graph.output]
    for index, (input_values, output_values) in enumerate(case.data_sets):
        args = [os.path.join(binaries, "parc-run"), artifact]
        for name, value in zip(inputs, input_values):
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
        reason = expected_reason(name, expected)
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
