#!/usr/bin/env python3
"""Export the small ONNX models that parc's tests compile.

Every model is built from a tiny configuration with random weights (the
machine that runs the tests has no network, so no pretrained weights are ever
downloaded) and exported with one of PyTorch's two ONNX exporters:

  * ``torchscript``: the legacy tracing exporter (``dynamo=False``), opset 17.
  * ``dynamo``: the ``torch.export`` based exporter (``dynamo=True``) at its
    default opset, with its default onnxscript optimizer.

Each exported graph has exactly one input and one output with stable names:

  =====================  ================  =====================
  model                  input             output
  =====================  ================  =====================
  gpt2                   input_ids int64   logits
  llama                  input_ids int64   logits
  bert                   input_ids int64   last_hidden_state
  transformer_encoder    input float32     last_hidden_state
  mlp                    input float32     output
  roberta                input_ids int64   last_hidden_state
  opt                    input_ids int64   logits
  falcon                 input_ids int64   logits
  vit                    pixel_values f32  last_hidden_state
  =====================  ================  =====================

Token inputs have shape [batch, sequence]; float inputs have shape
[batch, sequence, HIDDEN_SIZE]; ViT's pixel values have shape
[batch, NUM_CHANNELS, IMAGE_SIZE, IMAGE_SIZE] (``--seq`` does not apply).  Shapes are static unless ``--dynamic`` is
given, in which case the batch and sequence dimensions of the input and the
output are symbolic, named "batch" and "sequence".

``--reference DIR`` writes deterministic inputs and PyTorch's outputs for them
as ``DIR/<name>.npy`` so that a test can compare a compiled model against
PyTorch without importing torch.  ``--print-ops`` prints the imported opsets,
a table of the op types in the graph and a summary of its initializers.

Usage:
  python make_model.py NAME OUT.onnx [--exporter torchscript|dynamo]
                       [--dynamic] [--batch B] [--seq S] [--layers N]
                       [--vocab V] [--opset N] [--reference DIR]
                       [--print-ops]

The module can also be imported: ``build_model``, ``make_inputs``,
``export_model`` and ``op_histogram`` are what check_models.py uses.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import io
import math
import os
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path
from typing import Callable, ContextManager, Iterator

import numpy as np
import onnx
import torch

# Sizes shared by every model.  Kept tiny so that an export takes seconds.
VOCAB_SIZE = 256
HIDDEN_SIZE = 64
NUM_LAYERS = 2
NUM_HEADS = 4
# Llama uses grouped-query attention: two query heads share each KV head.
NUM_KV_HEADS = 2
INTERMEDIATE_SIZE = 128
MAX_POSITIONS = 64
# ViT: 32x32 RGB images cut into 8x8 patches give 16 patches plus the CLS token.
IMAGE_SIZE = 32
PATCH_SIZE = 8
NUM_CHANNELS = 3

DEFAULT_BATCH = 2
DEFAULT_SEQ = 16
# Opset used by the TorchScript exporter.  The dynamo exporter is left at its
# own default on purpose: that is what users of it get.
TORCHSCRIPT_OPSET = 17
WEIGHT_SEED = 0
INPUT_SEED = 1234

EXPORTERS = ("torchscript", "dynamo")
BATCH_DIM = "batch"
SEQUENCE_DIM = "sequence"


class ExportError(RuntimeError):
    """An export failed or produced something unusable."""


@dataclasses.dataclass
class ModelSpec:
    """A model ready to export together with its input/output convention."""

    name: str
    module: torch.nn.Module
    input_name: str
    output_name: str
    # True when the input is a [batch, sequence] tensor of int64 token ids,
    # False when it is a [batch, sequence, HIDDEN_SIZE] float32 tensor.
    takes_token_ids: bool
    # True when the input is [batch, NUM_CHANNELS, IMAGE_SIZE, IMAGE_SIZE]
    # float32 pixels (takes_token_ids is then False).
    takes_images: bool = False
    # Entered around the export only; see _without_packed_sequence_detection
    # and _without_mha_fast_path.
    export_context: Callable[[], ContextManager[None]] = contextlib.nullcontext


class _FirstOutput(torch.nn.Module):
    """Calls a transformers model on token ids alone; returns its first output.

    This keeps the exported graph to one input (no attention mask, no token
    type ids, no position ids) and one output (logits or last hidden state; no
    KV cache, no pooler output, no attentions).  The name of the ``forward``
    argument is the name of the graph input, and the dynamo exporter keys its
    dynamic shapes by it.
    """

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, use_cache=False, return_dict=False)[0]


class _BertFirstOutput(_FirstOutput):
    """``_FirstOutput`` for BERT: passes all-zero token type ids explicitly.

    Zeros are what BERT uses when given no token type ids, but it then gathers
    them from a registered buffer with ``torch.gather`` (a GatherElements in
    ONNX, plus Expand/Where shape arithmetic with the TorchScript exporter).
    Passing them explicitly computes the same result with plain ops.
    """

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model(
            input_ids=input_ids,
            token_type_ids=torch.zeros_like(input_ids),
            use_cache=False,
            return_dict=False,
        )[0]


class _FloatInputModule(torch.nn.Module):
    """Wraps a module so that its ``forward`` argument is named ``input``."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input: torch.Tensor) -> torch.Tensor:  # noqa: A002
        return self.model(input)


@contextlib.contextmanager
def _without_packed_sequence_detection() -> Iterator[None]:
    """Stops transformers from looking for packed sequences while exporting.

    With no attention mask, transformers' mask creation checks whether the
    position ids hold several sequences packed into one row (torch.diff then
    cumsum on the position ids).  The position ids of these models are always
    ``arange(sequence)``, for which that check finds nothing, so skipping it
    changes no result.  Left in, it puts ``aten::diff`` in the trace, which the
    TorchScript exporter cannot convert, and adds a CumSum-based mask
    computation to dynamic-shape dynamo exports.
    """
    from transformers import masking_utils

    original = masking_utils.find_packed_sequence_indices
    masking_utils.find_packed_sequence_indices = lambda position_ids: None
    try:
        yield
    finally:
        masking_utils.find_packed_sequence_indices = original


@contextlib.contextmanager
def _without_mha_fast_path() -> Iterator[None]:
    """Keeps nn.TransformerEncoderLayer off its fused inference kernel.

    In eval mode without gradients the layer calls the fused
    ``aten::_transformer_encoder_layer_fwd``, which has no ONNX conversion; the
    regular path exports as ordinary ops.
    """
    enabled = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        torch.backends.mha.set_fastpath_enabled(enabled)


def _build_gpt2() -> ModelSpec:
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        vocab_size=VOCAB_SIZE,
        n_positions=MAX_POSITIONS,
        n_embd=HIDDEN_SIZE,
        n_layer=NUM_LAYERS,
        n_head=NUM_HEADS,
        n_inner=4 * HIDDEN_SIZE,
        # The defaults (50256) lie outside the tiny vocabulary.
        bos_token_id=VOCAB_SIZE - 1,
        eos_token_id=VOCAB_SIZE - 1,
        use_cache=False,
        attn_implementation="eager",
    )
    return ModelSpec(
        "gpt2",
        _FirstOutput(GPT2LMHeadModel(config)),
        "input_ids",
        "logits",
        takes_token_ids=True,
        export_context=_without_packed_sequence_detection,
    )


def _build_llama() -> ModelSpec:
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=HIDDEN_SIZE,
        intermediate_size=INTERMEDIATE_SIZE,
        num_hidden_layers=NUM_LAYERS,
        num_attention_heads=NUM_HEADS,
        num_key_value_heads=NUM_KV_HEADS,
        max_position_embeddings=MAX_POSITIONS,
        use_cache=False,
        attn_implementation="eager",
    )
    return ModelSpec(
        "llama",
        _FirstOutput(LlamaForCausalLM(config)),
        "input_ids",
        "logits",
        takes_token_ids=True,
        export_context=_without_packed_sequence_detection,
    )


def _build_bert() -> ModelSpec:
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=HIDDEN_SIZE,
        num_hidden_layers=NUM_LAYERS,
        num_attention_heads=NUM_HEADS,
        intermediate_size=INTERMEDIATE_SIZE,
        max_position_embeddings=MAX_POSITIONS,
        use_cache=False,
        attn_implementation="eager",
    )
    # No pooler: the graph's only output is the last hidden state.
    model = BertModel(config, add_pooling_layer=False)
    return ModelSpec(
        "bert",
        _BertFirstOutput(model),
        "input_ids",
        "last_hidden_state",
        takes_token_ids=True,
    )


def _build_transformer_encoder() -> ModelSpec:
    layer = torch.nn.TransformerEncoderLayer(
        d_model=HIDDEN_SIZE,
        nhead=NUM_HEADS,
        dim_feedforward=INTERMEDIATE_SIZE,
        dropout=0.0,
        batch_first=True,
    )
    # Nested tensors only matter with a padding mask; turning them off also
    # silences the warning about them.
    encoder = torch.nn.TransformerEncoder(
        layer, num_layers=NUM_LAYERS, enable_nested_tensor=False
    )
    return ModelSpec(
        "transformer_encoder",
        _FloatInputModule(encoder),
        "input",
        "last_hidden_state",
        takes_token_ids=False,
        export_context=_without_mha_fast_path,
    )


def _build_mlp() -> ModelSpec:
    widths = [HIDDEN_SIZE, 128, 256, 256, 128, 128, HIDDEN_SIZE]
    layers: list[torch.nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(widths, widths[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i + 2 < len(widths):  # No activation after the last layer.
            layers.append(torch.nn.GELU() if i % 2 == 0 else torch.nn.ReLU())
    return ModelSpec(
        "mlp",
        _FloatInputModule(torch.nn.Sequential(*layers)),
        "input",
        "output",
        takes_token_ids=False,
    )


def _build_roberta() -> ModelSpec:
    from transformers import RobertaConfig, RobertaModel

    config = RobertaConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=HIDDEN_SIZE,
        num_hidden_layers=NUM_LAYERS,
        num_attention_heads=NUM_HEADS,
        intermediate_size=INTERMEDIATE_SIZE,
        # RoBERTa's positions start after the padding index (1).
        max_position_embeddings=MAX_POSITIONS + 2,
        use_cache=False,
        attn_implementation="eager",
    )
    # RoBERTa derives its position ids from the token ids with a CumSum over
    # the non-padding mask: the op this model was added to exercise.
    model = RobertaModel(config, add_pooling_layer=False)
    return ModelSpec(
        "roberta",
        _BertFirstOutput(model),
        "input_ids",
        "last_hidden_state",
        takes_token_ids=True,
    )


class _OptFirstOutput(_FirstOutput):
    """``_FirstOutput`` for OPT: passes an all-ones attention mask explicitly.

    OPT computes its position ids from the attention mask with a CumSum, which
    is what this model is here to exercise; given no mask it builds an all-ones
    one itself, so the result is the same.
    """

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model(
            input_ids=input_ids,
            attention_mask=torch.ones_like(input_ids),
            use_cache=False,
            return_dict=False,
        )[0]


def _build_opt() -> ModelSpec:
    from transformers import OPTConfig, OPTForCausalLM

    config = OPTConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=HIDDEN_SIZE,
        num_hidden_layers=NUM_LAYERS,
        num_attention_heads=NUM_HEADS,
        ffn_dim=INTERMEDIATE_SIZE,
        word_embed_proj_dim=HIDDEN_SIZE,
        max_position_embeddings=MAX_POSITIONS,
        bos_token_id=VOCAB_SIZE - 1,
        eos_token_id=VOCAB_SIZE - 1,
        pad_token_id=VOCAB_SIZE - 2,
        # OPT applies dropout functionally (no nn.Dropout module a trainer could zero).
        dropout=0.0,
        attention_dropout=0.0,
        activation_dropout=0.0,
        use_cache=False,
        attn_implementation="eager",
    )
    return ModelSpec(
        "opt",
        _OptFirstOutput(OPTForCausalLM(config)),
        "input_ids",
        "logits",
        takes_token_ids=True,
        export_context=_without_packed_sequence_detection,
    )


def _build_falcon() -> ModelSpec:
    from transformers import FalconConfig, FalconForCausalLM

    config = FalconConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=HIDDEN_SIZE,
        num_hidden_layers=NUM_LAYERS,
        num_attention_heads=NUM_HEADS,
        # Falcon-7B's layout: multi-query attention, attention and MLP in
        # parallel off one layer norm, rotary positions.
        multi_query=True,
        parallel_attn=True,
        new_decoder_architecture=False,
        alibi=False,
        bias=False,
        max_position_embeddings=MAX_POSITIONS,
        bos_token_id=VOCAB_SIZE - 1,
        eos_token_id=VOCAB_SIZE - 1,
        use_cache=False,
        attn_implementation="eager",
    )
    return ModelSpec(
        "falcon",
        _FirstOutput(FalconForCausalLM(config)),
        "input_ids",
        "logits",
        takes_token_ids=True,
        export_context=_without_packed_sequence_detection,
    )


class _VitFirstOutput(torch.nn.Module):
    """Calls a ViT model on pixel values alone; returns its last hidden state."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model(pixel_values=pixel_values, return_dict=False)[0]


def _build_vit() -> ModelSpec:
    from transformers import ViTConfig, ViTModel

    config = ViTConfig(
        hidden_size=HIDDEN_SIZE,
        num_hidden_layers=NUM_LAYERS,
        num_attention_heads=NUM_HEADS,
        intermediate_size=INTERMEDIATE_SIZE,
        image_size=IMAGE_SIZE,
        patch_size=PATCH_SIZE,
        num_channels=NUM_CHANNELS,
        attn_implementation="eager",
    )
    # The patch embedding is a stride-PATCH_SIZE Conv 2-D.
    model = ViTModel(config, add_pooling_layer=False)
    return ModelSpec(
        "vit",
        _VitFirstOutput(model),
        "pixel_values",
        "last_hidden_state",
        takes_token_ids=False,
        takes_images=True,
    )


_BUILDERS: dict[str, Callable[[], ModelSpec]] = {
    "gpt2": _build_gpt2,
    "llama": _build_llama,
    "bert": _build_bert,
    "transformer_encoder": _build_transformer_encoder,
    "mlp": _build_mlp,
    "roberta": _build_roberta,
    "opt": _build_opt,
    "falcon": _build_falcon,
    "vit": _build_vit,
}
MODEL_NAMES = tuple(_BUILDERS)

# Models that the TorchScript exporter cannot export with dynamic shapes: the
# export "succeeds" but the graph only runs at the example shape.
TORCHSCRIPT_DYNAMIC_PROBLEMS = {
    "transformer_encoder": (
        "the TorchScript tracer bakes the example sequence length into "
        "nn.MultiheadAttention's reshapes, so the graph fails at any other "
        "length; use --exporter dynamo"
    ),
}


def build_model(name: str) -> ModelSpec:
    """Returns the named model in eval mode, its weights seeded by WEIGHT_SEED.

    Building the same model twice gives the same weights.
    """
    if name not in _BUILDERS:
        raise ValueError(
            f"unknown model '{name}'; expected one of {', '.join(MODEL_NAMES)}"
        )
    torch.manual_seed(WEIGHT_SEED)
    with _quiet():
        spec = _BUILDERS[name]()
    spec.module.eval()
    for parameter in spec.module.parameters():
        parameter.requires_grad_(False)
    return spec


def make_inputs(
    spec: ModelSpec, batch: int, seq: int, seed: int = INPUT_SEED
) -> dict[str, torch.Tensor]:
    """Returns deterministic inputs for `spec`, keyed by graph input name."""
    generator = torch.Generator().manual_seed(seed)
    if spec.takes_token_ids:
        value = torch.randint(
            0, VOCAB_SIZE, (batch, seq), dtype=torch.int64, generator=generator
        )
    elif spec.takes_images:
        value = torch.randn(
            (batch, NUM_CHANNELS, IMAGE_SIZE, IMAGE_SIZE),
            dtype=torch.float32,
            generator=generator,
        )
    else:
        value = torch.randn(
            (batch, seq, HIDDEN_SIZE), dtype=torch.float32, generator=generator
        )
    return {spec.input_name: value}


DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def cast_model(
    spec: ModelSpec, inputs: dict[str, torch.Tensor], dtype: torch.dtype
) -> tuple[ModelSpec, dict[str, torch.Tensor]]:
    """Casts the weights and the float inputs of `spec` to `dtype`."""
    spec.module.to(dtype)
    cast = {
        name: value.to(dtype) if value.is_floating_point() else value
        for name, value in inputs.items()
    }
    return spec, cast


def run_torch(
    spec: ModelSpec, inputs: dict[str, torch.Tensor]
) -> dict[str, np.ndarray]:
    """Runs `spec` in PyTorch; returns its output keyed by graph output name.

    numpy has no bfloat16: a bfloat16 output is returned as float32 (exactly), as
    parc-run writes it.
    """
    with torch.inference_mode():
        output = spec.module(*inputs.values())
    if output.dtype == torch.bfloat16:
        output = output.float()
    return {spec.output_name: output.detach().cpu().numpy()}


@contextlib.contextmanager
def _quiet(enabled: bool = True) -> Iterator[None]:
    """Hides the warnings and chatter that the exporters print on success."""
    if not enabled:
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            yield


def _export_torchscript(
    spec: ModelSpec, inputs: dict[str, torch.Tensor], dynamic: bool, path: Path
) -> None:
    dynamic_axes = None
    if dynamic:
        axes = {0: BATCH_DIM, 1: SEQUENCE_DIM}
        dynamic_axes = {spec.input_name: axes, spec.output_name: axes}
    torch.onnx.export(
        spec.module,
        tuple(inputs.values()),
        str(path),
        dynamo=False,
        opset_version=TORCHSCRIPT_OPSET,
        input_names=[spec.input_name],
        output_names=[spec.output_name],
        dynamic_axes=dynamic_axes,
        do_constant_folding=True,
    )


def _export_dynamo(
    spec: ModelSpec, inputs: dict[str, torch.Tensor], dynamic: bool, path: Path
) -> None:
    dynamic_shapes = None
    if dynamic:
        dims = {
            0: torch.export.Dim(BATCH_DIM),
            1: torch.export.Dim(SEQUENCE_DIM, max=MAX_POSITIONS),
        }
        dynamic_shapes = {spec.input_name: dims}
    program = torch.onnx.export(
        spec.module,
        tuple(inputs.values()),
        dynamo=True,
        input_names=[spec.input_name],
        output_names=[spec.output_name],
        dynamic_shapes=dynamic_shapes,
    )
    if program is None:
        raise ExportError("torch.onnx.export(dynamo=True) returned no program")
    program.save(str(path), external_data=False)


def _name_dynamic_dims(model: onnx.ModelProto, spec: ModelSpec) -> None:
    """Names dims 0 and 1 of the graph input and output "batch"/"sequence".

    The exporters derive symbolic dim names from their own symbols (the dynamo
    exporter may name the output's dims after the expressions that compute
    them), so the names are set here to give tests one fixed convention.
    """
    for value in (*model.graph.input, *model.graph.output):
        if value.name not in (spec.input_name, spec.output_name):
            continue
        dims = value.type.tensor_type.shape.dim
        for index, dim_name in ((0, BATCH_DIM), (1, SEQUENCE_DIM)):
            if dims[index].HasField("dim_value"):
                raise ExportError(
                    f"dim {index} of '{value.name}' is static "
                    f"({dims[index].dim_value}) despite --dynamic"
                )
            dims[index].dim_param = dim_name


def export_model(
    spec: ModelSpec,
    inputs: dict[str, torch.Tensor],
    exporter: str,
    out_path: os.PathLike | str,
    dynamic: bool = False,
    quiet: bool = True,
) -> onnx.ModelProto:
    """Exports `spec` to the single self-contained file `out_path`.

    The export happens in a scratch directory and only the finished .onnx file
    is moved into place, so a failed export leaves nothing behind and exporter
    side files (external weights, reports) never appear beside `out_path`.
    Raises ExportError (or whatever the exporter raised) on failure.
    """
    if exporter not in EXPORTERS:
        raise ValueError(
            f"unknown exporter '{exporter}'; expected one of {', '.join(EXPORTERS)}"
        )
    if (
        dynamic
        and exporter == "torchscript"
        and spec.name in TORCHSCRIPT_DYNAMIC_PROBLEMS
    ):
        raise ExportError(
            f"cannot export '{spec.name}' with dynamic shapes: "
            f"{TORCHSCRIPT_DYNAMIC_PROBLEMS[spec.name]}"
        )
    out_path = Path(out_path)
    export = _export_torchscript if exporter == "torchscript" else _export_dynamo
    with tempfile.TemporaryDirectory(prefix="parc-export-") as scratch:
        scratch_path = Path(scratch) / "model.onnx"
        # Some exporters write artifacts to the working directory.
        with _quiet(quiet), contextlib.chdir(scratch), spec.export_context():
            export(spec, inputs, dynamic, scratch_path)
        if not scratch_path.is_file():
            raise ExportError("the exporter wrote no model file")
        # load_external_data folds any external weights back into the proto, so
        # the saved model is self-contained whatever the exporter chose.
        model = onnx.load(str(scratch_path), load_external_data=True)
        if dynamic:
            _name_dynamic_dims(model, spec)
        _check_io_names(model, spec)
        onnx.save(model, str(scratch_path), save_as_external_data=False)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(scratch_path), str(out_path))
    return model


def _check_io_names(model: onnx.ModelProto, spec: ModelSpec) -> None:
    inputs = [value.name for value in model.graph.input]
    outputs = [value.name for value in model.graph.output]
    if inputs != [spec.input_name] or outputs != [spec.output_name]:
        raise ExportError(
            f"expected graph inputs [{spec.input_name}] and outputs "
            f"[{spec.output_name}], got inputs {inputs} and outputs {outputs}"
        )


def _iter_graph_nodes(graph: onnx.GraphProto) -> Iterator[onnx.NodeProto]:
    """Yields the nodes of `graph`, including those of nested subgraphs."""
    for node in graph.node:
        yield node
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                yield from _iter_graph_nodes(attribute.g)
            elif attribute.type == onnx.AttributeProto.GRAPHS:
                for subgraph in attribute.graphs:
                    yield from _iter_graph_nodes(subgraph)


def _qualified_op(node: onnx.NodeProto) -> str:
    if node.domain in ("", "ai.onnx"):
        return node.op_type
    return f"{node.domain}::{node.op_type}"


def op_histogram(model: onnx.ModelProto) -> collections.Counter[str]:
    """Counts op types in the main graph, its subgraphs and local functions.

    Ops outside the default ONNX domain are reported as "domain::OpType".
    Calls to model-local functions are counted too, under the function's name.
    """
    counts: collections.Counter[str] = collections.Counter()
    for node in _iter_graph_nodes(model.graph):
        counts[_qualified_op(node)] += 1
    for function in model.functions:
        for node in function.node:
            counts[_qualified_op(node)] += 1
    return counts


def _print_ops(model: onnx.ModelProto) -> None:
    opsets = ", ".join(
        f"{entry.domain or 'ai.onnx'} v{entry.version}" for entry in model.opset_import
    )
    print(f"opset imports: {opsets}")
    if model.functions:
        names = ", ".join(
            f"{function.domain}::{function.name}" for function in model.functions
        )
        print(
            f"model-local functions ({len(model.functions)}), whose ops are "
            f"included in the table below: {names}"
        )
    else:
        print("model-local functions: none")
    counts = op_histogram(model)
    width = max(len(op) for op in counts) if counts else 7
    print(f"{'op type':<{width}}  count")
    for op, count in sorted(counts.items()):
        print(f"{op:<{width}}  {count:5d}")
    print(f"{'total':<{width}}  {sum(counts.values()):5d}")

    by_type: dict[str, list[onnx.TensorProto]] = collections.defaultdict(list)
    for initializer in model.graph.initializer:
        by_type[
            onnx.helper.tensor_dtype_to_np_dtype(initializer.data_type).name
        ].append(initializer)
    print("initializers:")
    for dtype, tensors in sorted(by_type.items()):
        elements = sum(int(np.prod(tensor.dims)) for tensor in tensors)
        print(f"  {dtype}: {len(tensors)} tensors, {elements} elements")
        # Weights are float; list the rest (buffers, shape constants) by name.
        if dtype != "float32":
            for tensor in tensors:
                print(f"    {tensor.name} {list(tensor.dims)}")


def _write_reference(
    directory: Path, inputs: dict[str, torch.Tensor], outputs: dict[str, np.ndarray]
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, value in inputs.items():
        if value.dtype == torch.bfloat16:
            raise ExportError(f"input '{name}' is bfloat16, which .npy files cannot hold")
        np.save(directory / f"{name}.npy", value.numpy())
    for name, value in outputs.items():
        np.save(directory / f"{name}.npy", value)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Export one of parc's test models to ONNX."
    )
    parser.add_argument("name", choices=MODEL_NAMES, help="model to export")
    parser.add_argument("out", type=Path, help="path of the .onnx file to write")
    parser.add_argument(
        "--exporter",
        choices=EXPORTERS,
        default="torchscript",
        help="PyTorch ONNX exporter (default: %(default)s)",
    )
    parser.add_argument(
        "--dynamic",
        action="store_true",
        help="make the batch and sequence dims symbolic",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=DEFAULT_BATCH,
        help="batch size of the example input (default: %(default)s)",
    )
    parser.add_argument(
        "--seq",
        type=int,
        default=DEFAULT_SEQ,
        help="sequence length of the example input (default: %(default)s)",
    )
    parser.add_argument(
        "--layers",
        type=int,
        default=NUM_LAYERS,
        help="number of transformer layers (default: %(default)s)",
    )
    parser.add_argument(
        "--hidden",
        type=int,
        default=HIDDEN_SIZE,
        help="hidden size (default: %(default)s; the feed-forward width scales with it: "
        "4x in GPT-2, 2x elsewhere)",
    )
    parser.add_argument(
        "--heads",
        type=int,
        default=NUM_HEADS,
        help="attention heads, dividing --hidden (default: %(default)s)",
    )
    parser.add_argument(
        "--vocab",
        type=int,
        default=VOCAB_SIZE,
        help="vocabulary size of the token models (default: %(default)s)",
    )
    parser.add_argument(
        "--opset",
        type=int,
        default=TORCHSCRIPT_OPSET,
        help="opset the torchscript exporter writes (default: %(default)s; opsets "
        "before 13 test parc's lifting of old models)",
    )
    parser.add_argument(
        "--dtype",
        choices=sorted(DTYPES),
        default="float32",
        help="element type of the weights and float inputs (default: %(default)s)",
    )
    parser.add_argument(
        "--reference",
        type=Path,
        metavar="DIR",
        help="write <input>.npy and <output>.npy into DIR",
    )
    parser.add_argument(
        "--exact-reference",
        type=Path,
        metavar="DIR",
        help="with --dtype float16|bfloat16: also write <output>.npy computed in float64 "
        "from the same rounded weights and inputs, as the exact value that rounding-error "
        "bounds are stated against",
    )
    parser.add_argument(
        "--print-ops",
        action="store_true",
        help="print the opsets, op types and initializers",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show exporter output and error tracebacks",
    )
    args = parser.parse_args(argv)
    if args.batch < 1:
        parser.error("--batch must be at least 1")
    if args.layers < 1 or args.vocab < 2:
        parser.error("--layers must be at least 1 and --vocab at least 2")
    if args.hidden < 1 or args.heads < 1 or args.hidden % args.heads:
        parser.error("--heads must be at least 1 and divide --hidden")
    if not 1 <= args.seq <= MAX_POSITIONS:
        parser.error(f"--seq must be between 1 and {MAX_POSITIONS}")
    if args.dynamic and min(args.batch, args.seq) < 2:
        # torch.export specializes dims of size 1, making them static.
        parser.error("--dynamic needs --batch and --seq of at least 2")
    if args.opset != TORCHSCRIPT_OPSET and args.exporter != "torchscript":
        parser.error("--opset applies to the torchscript exporter only")
    if args.out.suffix != ".onnx":
        parser.error(f"output '{args.out}' must end in .onnx")
    return args


def main(argv: list[str] | None = None) -> int:
    # read by the builders, exporters
    global NUM_LAYERS, VOCAB_SIZE, TORCHSCRIPT_OPSET, HIDDEN_SIZE, NUM_HEADS
    global NUM_KV_HEADS, INTERMEDIATE_SIZE
    args = _parse_args(argv)
    NUM_LAYERS, VOCAB_SIZE, TORCHSCRIPT_OPSET = args.layers, args.vocab, args.opset
    if (args.hidden, args.heads) != (HIDDEN_SIZE, NUM_HEADS):
        HIDDEN_SIZE, NUM_HEADS = args.hidden, args.heads
        INTERMEDIATE_SIZE = 2 * HIDDEN_SIZE
        NUM_KV_HEADS = math.gcd(NUM_KV_HEADS, NUM_HEADS)
    start = time.perf_counter()
    try:
        spec = build_model(args.name)
        inputs = make_inputs(spec, args.batch, args.seq)
        if args.dtype != "float32":
            spec, inputs = cast_model(spec, inputs, DTYPES[args.dtype])
        model = export_model(
            spec,
            inputs,
            args.exporter,
            args.out,
            dynamic=args.dynamic,
            quiet=not args.verbose,
        )
    except Exception as error:  # pylint: disable=broad-except
        if args.verbose:
            traceback.print_exc()
        lines = str(error).strip().splitlines()
        summary = f"{type(error).__name__}: {lines[0] if lines else ''}"
        hint = "" if args.verbose else " (rerun with --verbose for details)"
        print(
            f"make_model.py: error: exporting '{args.name}' with the "
            f"{args.exporter} exporter failed: {summary}{hint}",
            file=sys.stderr,
        )
        return 1
    elapsed = time.perf_counter() - start

    if args.reference is not None:
        _write_reference(args.reference, inputs, run_torch(spec, inputs))
    if args.exact_reference is not None:
        spec.module.to(torch.float64)
        exact_inputs = {
            name: value.to(torch.float64) if value.is_floating_point() else value
            for name, value in inputs.items()
        }
        outputs = run_torch(spec, exact_inputs)
        _write_reference(
            args.exact_reference,
            {name: value for name, value in exact_inputs.items()},
            {name: value.astype(np.float64) for name, value in outputs.items()},
        )
    print(
        f"wrote {args.out} ({args.name}, {args.exporter}, "
        f"{'dynamic' if args.dynamic else 'static'} shapes) in "
        f"{elapsed:.1f} s"
    )
    if args.print_ops:
        _print_ops(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
