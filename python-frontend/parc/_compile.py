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


def _split_inputs(module, example_inputs):
    """(args, kwargs, graph input names) of `example_inputs`: a mapping (a dict, or a
    tokenizer's BatchEncoding) is passed by keyword and named by its keys; a tuple is
    passed by position and named after forward's parameters; one tensor is a 1-tuple."""
    from collections.abc import Mapping

    if isinstance(example_inputs, Mapping):  # BatchEncoding is a UserDict, a Mapping
        kwargs = {str(key): value for key, value in example_inputs.items()}
        return (), kwargs, list(kwargs)
    args = example_inputs if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    return tuple(args), {}, _positional_names(module, len(args))


def _named_tensors(outputs):
    """What forward returned as (name, tensor) pairs: a transformers ModelOutput or a dict
    by its keys (entries that are not tensors, such as an absent cache, left out), a
    tuple or list as output<i>, one tensor as "output"."""
    import torch

    if isinstance(outputs, torch.Tensor):
        return [("output", outputs)]
    if hasattr(outputs, "keys") and hasattr(outputs, "__getitem__"):
        return [(str(key), outputs[key]) for key in outputs.keys()
                if isinstance(outputs[key], torch.Tensor)]
    if isinstance(outputs, (tuple, list)):
        return [("output%d" % i, value) for i, value in enumerate(outputs)
                if isinstance(value, torch.Tensor)]
    return []


class _NoKeyValueCache:
    """Turns off a transformers model's key/value cache while exporting (its config's
    use_cache): a cache is state across calls, not part of one graph."""

    def __init__(self, module):
        self.configs = [m.config for m in module.modules()
                        if getattr(getattr(m, "config", None), "use_cache", None) is not None]
        self.saved = []

    def __enter__(self):
        self.saved = [config.use_cache for config in self.configs]
        for config in self.configs:
            config.use_cache = False

    def __exit__(self, *exc):
        for config, value in zip(self.configs, self.saved):
            config.use_cache = value


# Where in an exporter each of its errors comes from, for the one-line message.
_EXPORTER_STEPS = {
    "TorchExportError": "torch.export (capturing the graph)",
    "UnsupportedOperatorError": "translating an operator to ONNX",
    "DispatchError": "translating an operator to ONNX",
    "ConversionError": "translating the captured graph to ONNX",
    "GraphConstructionError": "building the ONNX graph",
    "OnnxExporterError": "the ONNX export",
}


def _export_error(error, exporter, module):
    """A ParcError naming the exporter step that failed and its first message line."""
    step = "the ONNX export"
    for cls in type(error).__mro__:
        if cls.__name__ in _EXPORTER_STEPS:
            step = _EXPORTER_STEPS[cls.__name__]
            break
    # The exporters wrap the error that stopped them (with a banner of advice): the
    # innermost one says what happened.
    root = error
    while root.__cause__ is not None and root.__cause__ is not root:
        root = root.__cause__
    import re

    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(root).splitlines()]
    lines = [line for line in lines if line]
    cause = "%s: %s" % (type(root).__name__, lines[0]) if lines else type(root).__name__
    return ParcError("exporting %s with the %s exporter failed in %s: %s"
                     % (type(module).__name__, exporter, step, cause[:400]))


def _optimize_keeping_parameters(model, module):
    """Runs the dynamo exporter's optimizer (onnxscript's) on a training export without
    folding what depends on a parameter: the optimizer folds nodes whose inputs are all
    initializers (GPT-2's position-embedding lookup would become a constant, its table
    never trained) and simplifies by values (GPT-2's biases start at zero: their additions
    would be dropped), but never touches a graph input without a value, so the parameters
    are such inputs while it runs."""
    import onnxscript

    # Every name of a tied parameter: the exporter may name its initializer after any.
    parameters = {name for name, _ in module.named_parameters(remove_duplicate=False)}
    graph = model.graph
    kept = [value for name, value in graph.initializers.items() if name in parameters]
    # Without their values too: rewrite rules read values (a zero bias would be dropped).
    values = [value.const_value for value in kept]
    for value in kept:
        graph.inputs.append(value)
        value.const_value = None
    try:
        onnxscript.optimizer.optimize(model)
    finally:
        for value, tensor in zip(kept, values):
            graph.inputs.remove(value)
            value.const_value = tensor


def _constants_are_not_parameters(path, module):
    """parc trains every floating-point initializer of a training graph; the dynamo
    exporter also stores computed constants as initializers (an attention mask, a position
    table). Those that are not the module's parameters become Constant nodes."""
    import onnx

    model = onnx.load(path)
    parameters = {name for name, _ in module.named_parameters(remove_duplicate=False)}
    kept, constants = [], []
    for tensor in model.graph.initializer:
        if tensor.name in parameters:
            kept.append(tensor)
        else:
            constants.append(onnx.helper.make_node("Constant", [], [tensor.name], value=tensor,
                                                   name="constant/" + tensor.name))
    if not constants:
        return
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    nodes = constants + list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx.save(model, path)


EXPORTERS = ("dynamo", "torchscript")


def _export(module, example_inputs, path, training=False, exporter="dynamo"):
    """Exports `module` to ONNX at `path`; returns the graph's output names.

    `exporter` is "dynamo" (torch.onnx.export(dynamo=True): torch.export, what works on
    models as they come) or "torchscript" (the deprecated TorchScript exporter, opset 17).
    A dynamo training export trains exactly the module's parameters (see
    _optimize_keeping_parameters and _constants_are_not_parameters).
    Inputs: see _split_inputs. Outputs are named after what forward returns (a
    transformers ModelOutput's or a dict's keys: `logits`, `last_hidden_state`, ...;
    output<i> for a tuple; "output" for one tensor); key/value caches are off. For
    training the module is exported in training mode without constant folding (TorchScript
    keeps every parameter distinct and tied weights tied; dropout must be off).
    """
    import torch

    if exporter not in EXPORTERS:
        raise ParcError("exporter=%r: expected one of %s" % (exporter, ", ".join(EXPORTERS)))
    args, kwargs, names = _split_inputs(module, example_inputs)
    module.train(training)
    with _NoKeyValueCache(module), torch.no_grad():
        named = _named_tensors(module(*args, **kwargs))
        if not named:
            raise ParcError("%s returns no tensor to export" % type(module).__name__)
        output_names = [name for name, _ in named]
        # Both exporters flatten a ModelOutput or dict in key order, the order named here.
        wrapped = module
        try:
            if exporter == "dynamo":
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    program = torch.onnx.export(wrapped, args, kwargs=kwargs or None,
                                                input_names=names, output_names=output_names,
                                                dynamo=True, verbose=False,
                                                optimize=not training)
                    if training:
                        _optimize_keeping_parameters(program.model, module)
                program.save(path, external_data=False)
                if training:
                    _constants_are_not_parameters(path, module)
            else:
                mode = (torch.onnx.TrainingMode.TRAINING if training
                        else torch.onnx.TrainingMode.EVAL)
                torch.onnx.export(wrapped, args, path, kwargs=kwargs or None, input_names=names,
                                  output_names=output_names, opset_version=EXPORT_OPSET,
                                  dynamo=False, training=mode, do_constant_folding=not training)
        except ParcError:
            raise
        except Exception as error:  # the exporters raise many kinds
            raise _export_error(error, exporter, module) from error
    return output_names


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
            exporter=None, **options):
    """Compiles a torch.nn.Module or an ONNX file into a parc Artifact.

    A module is exported with torch.onnx.export on `example_inputs` (a dict of name ->
    tensor or a tokenizer's BatchEncoding, whose names become the graph inputs; a tuple;
    or one tensor): by the dynamo exporter (torch.export) unless `exporter="torchscript"`.
    Outputs are named after what forward returns (a transformers ModelOutput's keys:
    logits, last_hidden_state, ...); key/value caches are off while exporting. `tp`, `pp`
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
        training = bool(options.get("train"))
        _export(module_or_onnx_path, example_inputs, onnx_path, training=training,
                exporter=exporter or "dynamo")

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
