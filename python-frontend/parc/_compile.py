"""parc.compile: export (when given a module) and compile."""

import json
import os
import tempfile

from parc._artifact import Artifact
from parc._tools import ParcError, run_tool

# The opset torch.onnx.export is asked for.
EXPORT_OPSET = 17


def _graph_names(onnx_path):
    """The graph's input names (initializers excluded) and output names."""
    try:
        import onnx
    except ImportError as error:
        raise ParcError("reading the model's input and output names needs the onnx "
                        "package (pip install onnx)") from error
    model = onnx.load(onnx_path, load_external_data=False)
    initializers = {tensor.name for tensor in model.graph.initializer}
    inputs = [value.name for value in model.graph.input if value.name not in initializers]
    outputs = [value.name for value in model.graph.output]
    return inputs, outputs


def _positional_names(module, count):
    """Names for `count` positional inputs: the parameters of forward, else input<i>."""
    import inspect

    try:
        parameters = [p.name for p in inspect.signature(module.forward).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        parameters = []
    if len(parameters) >= count:
        return parameters[:count]
    return ["input%d" % i for i in range(count)]


def _output_names(outputs):
    """Names for what forward returned: "output" for one tensor, output<i> for a tuple or
    list, the keys of a dict (torch.onnx.export flattens them in that order)."""
    if isinstance(outputs, dict):
        return [str(key) for key in outputs]
    if isinstance(outputs, (tuple, list)):
        return ["output%d" % i for i in range(len(outputs))]
    return ["output"]


def _export(module, example_inputs, path, training=False):
    """Exports `module` with torch.onnx.export (TorchScript exporter, opset 17).

    `example_inputs` is a dict (its keys become the graph input names and are passed as
    keyword arguments), a tuple of positional arguments (named after forward's
    parameters), or one tensor. Outputs are named "output" (or output0, output1, ...).
    For training, the module is exported in training mode without constant folding, which
    keeps every parameter distinct and tied weights tied (dropout must be off).
    """
    import torch

    if isinstance(example_inputs, dict):
        args, kwargs = (), dict(example_inputs)
        names = list(example_inputs)
    else:
        args = example_inputs if isinstance(example_inputs, tuple) else (example_inputs,)
        kwargs, names = {}, _positional_names(module, len(args))
    module.train(training)
    mode = torch.onnx.TrainingMode.TRAINING if training else torch.onnx.TrainingMode.EVAL
    with torch.no_grad():
        outputs = module(*args, **kwargs)
        torch.onnx.export(module, args, path, kwargs=kwargs or None, input_names=names,
                          output_names=_output_names(outputs), opset_version=EXPORT_OPSET,
                          dynamo=False, training=mode, do_constant_folding=not training)


def _flag(name, value):
    """A parc-compile flag from a keyword option: schedule="gpipe" -> --schedule=gpipe,
    virtual_stages=2 -> --virtual-stages=2, report=True -> --report."""
    flag = "--" + name.replace("_", "-")
    if value is True:
        return [flag]
    if value is False or value is None:
        return []
    return ["%s=%s" % (flag, value)]


def compile(module_or_onnx_path, example_inputs=None, tp=None, pp=None, dp=None,
            microbatches=None, target="cpu", output=None, devices=None, cluster=None,
            **options):
    """Compiles a torch.nn.Module or an ONNX file into a parc Artifact.

    A module is exported with torch.onnx.export (opset 17) on `example_inputs` (a dict of
    name -> tensor, whose names become the graph inputs; a tuple; or one tensor). `tp`, `pp`
    and `microbatches` are parc-compile's --tp, --pp and --microbatches (default 1); other
    keyword options become flags (dp is --dp; schedule="gpipe" -> --schedule=gpipe,
    virtual_stages=2 -> --virtual-stages=2, memory_limit="2GB",
    input_shape="input_ids=2x128"; train=True, loss="cross_entropy", optimizer="adamw",
    lr=1e-3 for a training step). With `devices=N`, parc-compile --devices=N chooses the
    layout (on `cluster`, default cpu-local): the degrees left unset are searched, those
    given are kept, and the Artifact's `plan` holds the plan JSON (chosen layout and
    candidates). The artifact goes to `output` (a .parc path) or a temporary folder that
    lives as long as the Artifact. Raises ParcError with parc-compile's message when
    compiling fails.
    """
    degrees = {"dp": dp, "tp": tp, "pp": pp, "microbatches": microbatches}
    for name, value in degrees.items():
        if value is None:
            degrees[name] = "auto" if devices is not None else 1
        elif value != "auto" and (not isinstance(value, int) or value < 1):
            raise ParcError("%s=%r: expected a positive integer" % (name, value))
        elif value == "auto" and devices is None:
            raise ParcError("%s='auto' needs devices=N" % name)
    if devices is not None and (not isinstance(devices, int) or devices < 1):
        raise ParcError("devices=%r: expected a positive integer" % (devices,))
    keep_alive = None
    if output is None:
        keep_alive = tempfile.TemporaryDirectory(prefix="parc-")
        output = os.path.join(keep_alive.name, "model.parc")
    if isinstance(module_or_onnx_path, (str, os.PathLike)):
        onnx_path = os.fspath(module_or_onnx_path)
        if not os.path.exists(onnx_path):
            raise ParcError("%s: no such file" % onnx_path)
    else:
        if example_inputs is None:
            raise ParcError("compiling a module needs example_inputs to export it with")
        export_dir = keep_alive.name if keep_alive else os.path.dirname(os.path.abspath(output))
        onnx_path = os.path.join(export_dir, os.path.splitext(os.path.basename(output))[0]
                                 + ".onnx")
        _export(module_or_onnx_path, example_inputs, onnx_path,
                training=bool(options.get("train")))

    arguments = [onnx_path, "-o", output, "--target=%s" % target, "--report"]
    arguments += ["--%s=%s" % (name, value) for name, value in degrees.items()]
    plan_path = None
    if devices is not None:
        plan_path = output + ".plan.json"
        arguments += ["--devices=%d" % devices, "--plan-json=%s" % plan_path]
        if cluster is not None:
            arguments.append("--cluster=%s" % cluster)
    for name, value in options.items():
        arguments += _flag(name, value)
    report = run_tool("parc-compile", arguments)
    plan = None
    if plan_path is not None:
        with open(plan_path) as f:
            plan = json.load(f)
        os.remove(plan_path)
        degrees = {name: plan[name] for name in ("dp", "tp", "pp", "microbatches")}
    dp, pp, tp = degrees["dp"], degrees["pp"], degrees["tp"]
    inputs, outputs = _graph_names(onnx_path)
    if options.get("train"):
        # A training step takes the labels too and returns the loss.
        inputs, outputs = inputs + ["labels"], ["loss"]
    artifact = Artifact(output, inputs, outputs, {"dp": dp, "pp": pp, "tp": tp}, report,
                        keep_alive, training=bool(options.get("train")))
    artifact.plan = plan
    return artifact
