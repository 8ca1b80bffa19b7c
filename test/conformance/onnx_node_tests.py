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

Every case's outcome is pinned in expected_results.txt: `CASE pass`, `CASE unsupported`, or
`CASE fail CATEGORY`, where a category (`category NAME: error|output PATTERN  # reason`)
names why it fails and the fnmatch pattern its failure must match: `error` patterns match
the first line of parc's error, `output` patterns the comparison's message. The run fails
when any case's outcome differs from its pin (a passing case that fails or becomes
unsupported, a listed failure that passes or fails for another reason, a case not pinned
or pinned but gone), so the pass count is asserted case by case. --docs FILE also checks
that the totals line written in FILE (docs/conformance.md) is this run's. After a change
that should move cases, --update rewrites the pins (keeping the categories) for review in
the diff. A per-operator table and totals are printed, and written to --summary when given.

    python onnx_node_tests.py --bin build/bin [--jobs 2] [--filter 'test_add*'] [--summary F]
        [--docs docs/conformance.md] [--update]
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
    "ReduceSum": {1}, "ReduceMean": {1}, "ReduceMax": {1}, "CumSum": {1},
    "Tile": {1}, "OneHot": {1}, "TopK": {1},
}


class Pins:
    """expected_results.txt: failure categories and each case's pinned outcome."""

    def __init__(self, path):
        self.path = path
        self.header = []        # the comment and category lines, kept by --update
        self.categories = {}    # name -> (kind, pattern, reason)
        self.cases = {}         # case -> "pass" | "unsupported" | "fail CATEGORY"
        with open(path) as f:
            for number, line in enumerate(f, 1):
                text = line.strip()
                where = "%s:%d" % (path, number)
                if not text or text.startswith("#"):
                    if not self.cases:
                        self.header.append(line.rstrip("\n"))
                    continue
                if text.startswith("category "):
                    entry, _, reason = text.partition("#")
                    name, _, rule = entry[len("category "):].partition(":")
                    kind, _, pattern = rule.strip().partition(" ")
                    if kind not in ("error", "output") or not pattern.strip() or not reason.strip():
                        sys.exit("%s: expected `category NAME: error|output PATTERN  # reason`"
                                 % where)
                    self.categories[name.strip()] = (kind, pattern.strip(), reason.strip())
                    self.header.append(line.rstrip("\n"))
                    continue
                fields = text.split()
                if (len(fields) == 2 and fields[1] in ("pass", "unsupported")) or (
                        len(fields) == 3 and fields[1] == "fail"):
                    if len(fields) == 3 and fields[2] not in self.categories:
                        sys.exit("%s: no category '%s'" % (where, fields[2]))
                    self.cases[fields[0]] = " ".join(fields[1:])
                else:
                    sys.exit("%s: expected `CASE pass`, `CASE unsupported` or "
                             "`CASE fail CATEGORY`" % where)

    def outcome(self, status, detail):
        """A case's outcome as pinned: pass, unsupported, or fail with its category."""
        if status != "failed":
            return "pass" if status == "passed" else "unsupported"
        kind = "output" if detail.startswith("output ") else "error"
        for name, (category_kind, pattern, _) in self.categories.items():
            if category_kind == kind and fnmatch.fnmatchcase(detail, pattern):
                return "fail " + name
        return "fail ?"

    def reason(self, outcome):
        return self.categories[outcome.split()[1]][2] if outcome.startswith("fail ") and \
            outcome.split()[1] in self.categories else ""

    def write(self, outcomes):
        with open(self.path, "w") as f:
            f.write("\n".join(self.header) + "\n")
            for name in sorted(outcomes):
                f.write("%s %s\n" % (name, outcomes[name]))


def documented_totals(path):
    """The `cases: ...` totals line of the results block in `path`."""
    with open(path) as f:
        for line in f:
            if line.startswith("cases: "):
                return line.strip()
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
    parser.add_argument("--expected-results", default=os.path.join(HERE, "expected_results.txt"))
    parser.add_argument("--summary", help="also write the summary to this file")
    parser.add_argument("--docs", help="a page whose `cases: ...` line must be this run's totals")
    parser.add_argument("--update", action="store_true",
                        help="rewrite the pinned outcomes from this run (after review)")
    parser.add_argument("--verbose", action="store_true", help="print every case")
    args = parser.parse_args()

    supported = set(subprocess.run(
        [os.path.join(args.bin, "parc-compile"), "--print-supported-ops"],
        capture_output=True, text=True, check=True).stdout.split())
    pins = Pins(args.expected_results)
    all_cases = collect_cases()
    cases = [c for c in all_cases if fnmatch.fnmatchcase(c.name, args.filter)]
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
    outcomes, changed, lines = {}, [], []
    for name in sorted(results):
        status, detail = results[name]
        outcome = pins.outcome(status, detail)
        outcomes[name] = outcome
        pinned = pins.cases.get(name)
        op = ops[name]
        column = {"pass": "passed", "unsupported": "unsupported"}.get(outcome, "expected-failure")
        if pinned != outcome:
            changed.append("%s (%s): pinned %s, now %s%s" % (
                name, op, pinned or "nothing (a new case)", outcome,
                ": " + detail if detail and outcome != "pass" else ""))
            if outcome.startswith("fail"):
                column = "failed"
        table[op][column] += 1
        if args.verbose or outcome.startswith("fail"):
            lines.append("  %-60s %-16s %s" % (name, outcome, pins.reason(outcome) or detail))
    if args.filter == "*":
        collected = {c.name for c in all_cases}
        for name in sorted(set(pins.cases) - collected):
            changed.append("%s: pinned %s, but the onnx package has no such case"
                           % (name, pins.cases[name]))

    out = ["ONNX backend node tests through parc (onnx %s)" % onnx.__version__,
           "%-24s %7s %9s %12s" % ("operator", "passed", "expected", "unsupported")]
    claimed = sorted(op for op in table if table[op]["passed"] + table[op]["expected-failure"]
                     + table[op]["failed"] > 0)
    for op in claimed:
        t = table[op]
        out.append("%-24s %7d %9d %12d" % (op, t["passed"], t["expected-failure"] + t["failed"],
                                           t["unsupported"]))
    totals = collections.Counter(outcome.split()[0] for outcome in outcomes.values())
    pinned_totals = collections.Counter(
        pins.cases[name].split()[0] for name in outcomes if name in pins.cases)
    out.append("operators with runnable cases: %d; operators only unsupported: %d"
               % (len(claimed), len(table) - len(claimed)))
    totals_line = ("cases: %d passed, %d expected failures, %d unsupported"
                   % (totals["pass"], totals["fail"], totals["unsupported"]))
    out.append(totals_line)
    out.append("pinned: %d passed, %d expected failures, %d unsupported; %d outcomes changed"
               % (pinned_totals["pass"], pinned_totals["fail"], pinned_totals["unsupported"],
                  len(changed)))
    out.extend(lines)
    for problem in changed:
        out.append("CHANGED: " + problem)
    failed = bool(changed)
    if args.docs and args.filter == "*":
        documented = documented_totals(args.docs)
        if documented != totals_line:
            out.append("DOCS: %s says `%s`, this run `%s`" % (args.docs, documented, totals_line))
            failed = True
    if args.update:
        unknown = [name for name, outcome in outcomes.items() if outcome == "fail ?"]
        if unknown:
            out.append("--update: no category matches the failures of %s; add one"
                       % ", ".join(unknown))
        elif args.filter != "*":
            out.append("--update needs the whole run (no --filter)")
        else:
            pins.write(outcomes)
            out.append("--update: wrote %d pinned outcomes to %s" % (len(outcomes), pins.path))
            failed = False
    text = "\n".join(out)
    print(text)
    if args.summary:
        with open(args.summary, "w") as f:
            f.write(text + "\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
