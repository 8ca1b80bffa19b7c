#!/usr/bin/env python3
"""Sanity-check the ONNX test models that make_model.py exports.

For each model/exporter combination this script runs make_model.py exactly as
a user would (a subprocess, with --reference), then checks that:

  * the export succeeded and left nothing but the .onnx file beside it;
  * onnx.checker accepts the model (full check, with shape inference);
  * the graph has the expected single input and output, with static shapes,
    or with dims 0 and 1 named "batch" and "sequence" under --dynamic;
  * onnxruntime, run on the reference inputs, matches PyTorch's reference
    output; for dynamic models also at a second (batch, sequence) shape.

It prints one line per combination and exits non-zero if any check failed.

Usage:
  python check_models.py [--models NAME...] [--exporters NAME...]
                         [--all-dynamic] [--keep DIR] [--ops] [--atol TOL]
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime

import make_model

SCRIPT = Path(__file__).resolve().parent / "make_model.py"
# The second shape at which dynamic models are run; it differs from the
# export shape in both dims.
DYNAMIC_CHECK_BATCH = 3
DYNAMIC_CHECK_SEQ = 7
DEFAULT_ATOL = 1e-4


@dataclasses.dataclass(frozen=True)
class Case:
    """One make_model.py invocation: a model, an exporter and a shape mode."""

    model: str
    exporter: str
    dynamic: bool = False

    @property
    def label(self) -> str:
        suffix = "-dynamic" if self.dynamic else ""
        return f"{self.model}-{self.exporter}{suffix}"


@dataclasses.dataclass
class Result:
    """What check_case found; `message` says why a failed case failed."""

    case: Case
    ok: bool = False
    message: str = ""
    opset: str = ""
    max_abs_diff: float | None = None
    dynamic_max_abs_diff: float | None = None
    export_seconds: float | None = None
    wall_seconds: float = 0.0
    ops: dict[str, int] = dataclasses.field(default_factory=dict)


def default_cases(
    models: list[str], exporters: list[str], all_dynamic: bool = False
) -> list[Case]:
    """Every model with every exporter with static shapes, then dynamic cases.

    The dynamic cases are gpt2 and mlp with the TorchScript exporter, or every
    model with every exporter when `all_dynamic` is set, less those that
    make_model.py refuses (make_model.TORCHSCRIPT_DYNAMIC_PROBLEMS).
    """
    cases = [Case(model, exporter) for model in models for exporter in exporters]
    for model in models:
        for exporter in exporters:
            if exporter == "torchscript" and (
                model in make_model.TORCHSCRIPT_DYNAMIC_PROBLEMS
            ):
                continue
            if all_dynamic or (model in ("gpt2", "mlp") and exporter == "torchscript"):
                cases.append(Case(model, exporter, dynamic=True))
    return cases


def _run_onnxruntime(
    path: Path, inputs: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(
        str(path), options, providers=["CPUExecutionProvider"]
    )
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(names, inputs)))


def _max_abs_diff(
    expected: dict[str, np.ndarray], actual: dict[str, np.ndarray]
) -> float:
    diff = 0.0
    for name, value in expected.items():
        if name not in actual:
            raise AssertionError(f"onnxruntime produced no output '{name}'")
        if actual[name].shape != value.shape:
            raise AssertionError(
                f"output '{name}' has shape {actual[name].shape}, "
                f"expected {value.shape}"
            )
        diff = max(diff, float(np.max(np.abs(actual[name] - value))))
    return diff


def _check_signature(
    model: onnx.ModelProto, spec: make_model.ModelSpec, dynamic: bool
) -> None:
    """Checks the graph's input/output names and the shape of their dims."""
    for values, name in (
        (model.graph.input, spec.input_name),
        (model.graph.output, spec.output_name),
    ):
        names = [value.name for value in values]
        if names != [name]:
            raise AssertionError(f"expected [{name}], got {names}")
        dims = values[0].type.tensor_type.shape.dim
        leading = [dim.dim_param or dim.dim_value for dim in dims[:2]]
        if dynamic and leading != [make_model.BATCH_DIM, make_model.SEQUENCE_DIM]:
            raise AssertionError(
                f"'{name}' has leading dims {leading}, expected "
                f"symbolic batch and sequence"
            )
        if not dynamic and any(not dim.HasField("dim_value") for dim in dims):
            raise AssertionError(f"'{name}' has symbolic dims in a static export")


def check_case(case: Case, work_dir: Path, atol: float) -> Result:
    """Exports `case` into `work_dir` and checks it; never raises."""
    result = Result(case)
    model_dir = work_dir / case.label
    model_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = model_dir / "model.onnx"
    reference_dir = model_dir / "reference"
    command = [
        sys.executable,
        str(SCRIPT),
        case.model,
        str(onnx_path),
        "--exporter",
        case.exporter,
        "--reference",
        str(reference_dir),
    ]
    if case.dynamic:
        command.append("--dynamic")

    start = time.perf_counter()
    process = subprocess.run(command, capture_output=True, text=True, check=False)
    result.wall_seconds = time.perf_counter() - start
    if process.returncode != 0:
        output = (process.stderr or process.stdout).strip().splitlines()
        result.message = output[-1] if output else f"exit {process.returncode}"
        return result
    match = re.search(r" in ([0-9.]+) s", process.stdout)
    if match:
        result.export_seconds = float(match.group(1))

    try:
        leftovers = sorted(
            path.name
            for path in model_dir.iterdir()
            if path not in (onnx_path, reference_dir)
        )
        if leftovers:
            raise AssertionError(f"stray files beside the model: {leftovers}")
        onnx.checker.check_model(str(onnx_path), full_check=True)
        model = onnx.load(str(onnx_path))
        result.opset = ", ".join(
            f"{entry.domain or 'ai.onnx'} {entry.version}"
            for entry in model.opset_import
        )
        result.ops = dict(sorted(make_model.op_histogram(model).items()))
        spec = make_model.build_model(case.model)
        _check_signature(model, spec, case.dynamic)

        inputs = {spec.input_name: np.load(reference_dir / f"{spec.input_name}.npy")}
        expected = {
            spec.output_name: np.load(reference_dir / f"{spec.output_name}.npy")
        }
        result.max_abs_diff = _max_abs_diff(
            expected, _run_onnxruntime(onnx_path, inputs)
        )
        if result.max_abs_diff > atol:
            raise AssertionError(
                f"max abs diff {result.max_abs_diff:.3g} exceeds {atol:g}"
            )

        if case.dynamic:
            torch_inputs = make_model.make_inputs(
                spec, DYNAMIC_CHECK_BATCH, DYNAMIC_CHECK_SEQ, seed=99
            )
            expected = make_model.run_torch(spec, torch_inputs)
            inputs = {name: value.numpy() for name, value in torch_inputs.items()}
            result.dynamic_max_abs_diff = _max_abs_diff(
                expected, _run_onnxruntime(onnx_path, inputs)
            )
            if result.dynamic_max_abs_diff > atol:
                raise AssertionError(
                    f"at shape ({DYNAMIC_CHECK_BATCH}, {DYNAMIC_CHECK_SEQ}) max abs "
                    f"diff {result.dynamic_max_abs_diff:.3g} exceeds {atol:g}"
                )
    except Exception as error:  # pylint: disable=broad-except
        result.message = f"{type(error).__name__}: {error}".splitlines()[0]
        return result
    result.ok = True
    return result


def _format(result: Result, show_ops: bool) -> str:
    status = "PASS" if result.ok else "FAIL"
    line = f"{status} {result.case.label:<36}"
    if result.opset:
        line += f" opset [{result.opset}]"
    if result.max_abs_diff is not None:
        line += f" max|diff| {result.max_abs_diff:.2e}"
    if result.dynamic_max_abs_diff is not None:
        line += (
            f" (at {DYNAMIC_CHECK_BATCH}x{DYNAMIC_CHECK_SEQ}: "
            f"{result.dynamic_max_abs_diff:.2e})"
        )
    if result.export_seconds is not None:
        line += f" export {result.export_seconds:.1f} s"
    line += f" (wall {result.wall_seconds:.1f} s)"
    if result.message:
        line += f"\n     {result.message}"
    if show_ops and result.ops:
        line += "\n     " + " ".join(f"{op}:{n}" for op, n in result.ops.items())
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models",
        nargs="+",
        choices=make_model.MODEL_NAMES,
        default=list(make_model.MODEL_NAMES),
    )
    parser.add_argument(
        "--exporters",
        nargs="+",
        choices=make_model.EXPORTERS,
        default=list(make_model.EXPORTERS),
    )
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="export into DIR and keep the files"
    )
    parser.add_argument(
        "--ops", action="store_true", help="print each model's op types with counts"
    )
    parser.add_argument(
        "--all-dynamic",
        action="store_true",
        help="check dynamic shapes for every model and exporter",
    )
    parser.add_argument(
        "--atol",
        type=float,
        default=DEFAULT_ATOL,
        help="largest allowed |onnxruntime - torch| (default: %(default)g)",
    )
    args = parser.parse_args(argv)

    cases = default_cases(args.models, args.exporters, args.all_dynamic)
    with tempfile.TemporaryDirectory(prefix="parc-models-") as scratch:
        work_dir = args.keep if args.keep is not None else Path(scratch)
        failures = 0
        for case in cases:
            result = check_case(case, work_dir, args.atol)
            failures += not result.ok
            print(_format(result, args.ops), flush=True)
    print(f"{len(cases) - failures} of {len(cases)} passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
