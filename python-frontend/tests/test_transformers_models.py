"""parc.compile on transformers models as they come: plain calls, no export context, no
per-model workaround. Twelve architectures from tiny configs (decoders, encoders, an
encoder-decoder's encoder) are exported by the default (dynamo) exporter with their
default attention, compiled at tp=2 and at pp=2, run, and every graph output (named after
the model's ModelOutput: logits, last_hidden_state, pooler_output) compared with the
module's own (relative L2 error at most 1e-5). Then the issue's Llama call verbatim, a
tokenizer-style BatchEncoding, positional inputs, the TorchScript exporter on request, and
an export failure reported in one line.

Needs parc's tools: PARC_BUILD_DIR names the build folder (ctest sets it).
"""

import numpy as np
import pytest
import torch
import transformers

import parc

TOLERANCE = 1e-5
VOCAB = 256


def _small(config_class, **overrides):
    options = dict(hidden_size=64, num_attention_heads=4, num_hidden_layers=2,
                   intermediate_size=128, vocab_size=VOCAB, max_position_embeddings=64)
    options.update(overrides)
    return config_class(**options)


ARCHITECTURES = {
    "gpt2": lambda: transformers.GPT2LMHeadModel(transformers.GPT2Config(
        n_embd=64, n_head=4, n_layer=2, vocab_size=VOCAB, n_positions=64)),
    "llama": lambda: transformers.LlamaForCausalLM(
        _small(transformers.LlamaConfig, num_key_value_heads=2)),
    "mistral": lambda: transformers.MistralForCausalLM(
        _small(transformers.MistralConfig, num_key_value_heads=2)),
    "qwen2": lambda: transformers.Qwen2ForCausalLM(
        _small(transformers.Qwen2Config, num_key_value_heads=2)),
    "gpt_neox": lambda: transformers.GPTNeoXForCausalLM(_small(transformers.GPTNeoXConfig)),
    "opt": lambda: transformers.OPTForCausalLM(transformers.OPTConfig(
        hidden_size=64, num_attention_heads=4, num_hidden_layers=2, ffn_dim=128,
        vocab_size=VOCAB, max_position_embeddings=64, word_embed_proj_dim=64)),
    "falcon": lambda: transformers.FalconForCausalLM(transformers.FalconConfig(
        hidden_size=64, num_attention_heads=4, num_hidden_layers=2, vocab_size=VOCAB)),
    "bert": lambda: transformers.BertModel(_small(transformers.BertConfig)),
    "roberta": lambda: transformers.RobertaModel(
        _small(transformers.RobertaConfig, max_position_embeddings=80)),
    "distilbert": lambda: transformers.DistilBertModel(transformers.DistilBertConfig(
        dim=64, n_heads=4, n_layers=2, hidden_dim=128, vocab_size=VOCAB,
        max_position_embeddings=64)),
    "electra": lambda: transformers.ElectraModel(
        _small(transformers.ElectraConfig, embedding_size=64)),
    "t5_encoder": lambda: transformers.T5EncoderModel(transformers.T5Config(
        d_model=64, num_heads=4, num_layers=2, d_ff=128, d_kv=16, vocab_size=VOCAB)),
}


def relative_l2(actual, expected):
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    return np.linalg.norm(actual - expected) / np.linalg.norm(expected)


def model_and_inputs(name, batch=2, seq=8):
    torch.manual_seed(0)
    model = ARCHITECTURES[name]().eval()
    ids = torch.randint(0, VOCAB, (batch, seq))
    return model, ids


def expected_outputs(model, **inputs):
    """The module's own outputs, by ModelOutput key (tensors only)."""
    with torch.no_grad():
        outputs = model(**inputs)
    return {key: value.numpy() for key, value in outputs.items()
            if isinstance(value, torch.Tensor)}


def check_outputs(artifact, outputs, expected):
    assert artifact.outputs == list(expected), (artifact.outputs, list(expected))
    for name, value in expected.items():
        assert outputs[name].shape == value.shape, name
        error = relative_l2(outputs[name], value)
        assert error <= TOLERANCE, (name, error)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
@pytest.mark.parametrize("layout", [{"tp": 2}, {"pp": 2}], ids=["tp2", "pp2"])
def test_architecture(name, layout):
    model, ids = model_and_inputs(name)
    # The module's own output, taken before compiling (which exports without a cache).
    expected = expected_outputs(model, input_ids=ids)
    artifact = parc.compile(model, {"input_ids": ids}, **layout)
    assert artifact.inputs == ["input_ids"]
    assert artifact.ranks == 2
    check_outputs(artifact, artifact.run({"input_ids": ids.numpy()}), expected)


def test_the_llama_call_verbatim():
    config = _small(transformers.LlamaConfig, num_key_value_heads=2)
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config).eval()
    ids = torch.randint(0, VOCAB, (4, 8))
    expected = expected_outputs(model, input_ids=ids)
    artifact = parc.compile(model, {"input_ids": ids}, tp=2, pp=2, microbatches=2)
    assert artifact.ranks == 4 and artifact.outputs == ["logits"]
    check_outputs(artifact, artifact.run({"input_ids": ids.numpy()}), expected)
    # The model's own cache setting is back as it was.
    assert model.config.use_cache is True


def test_batch_encoding_and_positional_inputs():
    model, ids = model_and_inputs("bert")
    encoding = transformers.BatchEncoding({"input_ids": ids,
                                           "attention_mask": torch.ones_like(ids)})
    expected = expected_outputs(model, input_ids=ids, attention_mask=torch.ones_like(ids))
    artifact = parc.compile(model, encoding, tp=2)
    assert artifact.inputs == ["input_ids", "attention_mask"]
    outputs = artifact.run({"input_ids": ids.numpy(),
                            "attention_mask": np.ones(ids.shape, np.int64)})
    check_outputs(artifact, outputs, expected)
    # A tuple is passed by position and named after forward's parameters.
    positional = parc.compile(model, (ids,))
    assert positional.inputs == ["input_ids"]
    check_outputs(positional, positional.run({"input_ids": ids.numpy()}),
                  expected_outputs(model, input_ids=ids))


def test_torchscript_exporter_on_request():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.GELU(), torch.nn.Linear(16, 4))
    x = torch.randn(3, 8)
    with torch.no_grad():
        expected = model(x).numpy()
    artifact = parc.compile(model, (x,), exporter="torchscript", tp=2)
    (actual,) = artifact.run({artifact.inputs[0]: x.numpy()}).values()
    assert relative_l2(actual, expected) <= TOLERANCE
    # transformers' GPT-2 is what the TorchScript exporter cannot take (aten::diff in its
    # mask code): the failure is one line naming the exporter and the step.
    gpt2, ids = model_and_inputs("gpt2")
    with pytest.raises(parc.ParcError) as failure:
        parc.compile(gpt2, {"input_ids": ids}, exporter="torchscript")
    assert str(failure.value).startswith(
        "exporting GPT2LMHeadModel with the torchscript exporter failed in translating an "
        "operator to ONNX: "), str(failure.value)
    assert "aten::diff" in str(failure.value) and "\n" not in str(failure.value)
    with pytest.raises(parc.ParcError, match="exporter='onnxscript': expected one of dynamo, "
                                             "torchscript"):
        parc.compile(model, (x,), exporter="onnxscript")


class _DataDependentBranch(torch.nn.Module):
    """Control flow on a tensor's value: torch.export cannot capture it."""

    def forward(self, x):
        if x.sum() > 0:
            return x * 2
        return -x


def test_an_export_failure_is_one_line_naming_the_step():
    with pytest.raises(parc.ParcError) as failure:
        parc.compile(_DataDependentBranch(), (torch.randn(4),))
    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith("exporting _DataDependentBranch with the dynamo exporter failed "
                              "in torch.export (capturing the graph): "), message


def test_a_dynamo_training_export_keeps_every_parameter(tmp_path):
    # The dynamo exporter's optimizer would fold GPT-2's position-embedding lookup (the
    # positions are constant) into a constant, and the table would never be trained; in a
    # training export every parameter stays an initializer that the graph reads.
    import onnx

    model = trainable_model("gpt2")
    ids = torch.randint(0, VOCAB, (2, 8))
    output = tmp_path / "gpt2-train.parc"
    parc.compile(model, {"input_ids": ids}, train=True, loss="cross_entropy", optimizer="sgd",
                 lr=0.1, exporter="dynamo", output=str(output))
    graph = onnx.load(str(tmp_path / "gpt2-train.onnx"), load_external_data=False).graph
    read = {name for node in graph.node for name in node.input}
    initializers = {tensor.name for tensor in graph.initializer}
    parameters = {name for name, _ in model.named_parameters()}
    # lm_head.weight is tied to the token embedding: one parameter, one initializer.
    assert parameters <= initializers | {"transformer.wte.weight"}, parameters - initializers
    assert "transformer.wpe.weight" in read


def trainable_model(name):
    """GPT-2 (dropout off: training needs it off) or Llama, seeded, in eval mode."""
    torch.manual_seed(0)
    if name == "gpt2":
        model = transformers.GPT2LMHeadModel(transformers.GPT2Config(
            n_embd=64, n_head=4, n_layer=2, vocab_size=VOCAB, n_positions=64, resid_pdrop=0,
            embd_pdrop=0, attn_pdrop=0))
    else:
        model = transformers.LlamaForCausalLM(
            _small(transformers.LlamaConfig, num_key_value_heads=2))
    return model.eval()


def torch_adamw_losses(model, ids, labels, steps, batch, lr, weight_decay):
    """PyTorch's losses for `steps` AdamW steps of cross-entropy over the logits."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    losses = []
    for step in range(steps):
        rows = slice(step * batch, (step + 1) * batch)
        logits = model(input_ids=ids[rows], use_cache=False).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                 labels[rows].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("name", ["gpt2", "llama"])
def test_training_as_they_come_matches_torch_optim(name):
    # The dynamo exporter's training graph: every parameter trained (tied ones once), the
    # computed constants not; 10 AdamW steps give torch.optim.AdamW's losses.
    import copy

    model = trainable_model(name)
    reference = copy.deepcopy(model)
    steps, batch = 10, 2
    ids = torch.randint(0, VOCAB, (steps * batch, 8))
    labels = torch.randint(0, VOCAB, (steps * batch, 8))
    artifact = parc.compile(model, {"input_ids": ids[:batch]}, train=True,
                            loss="cross_entropy", optimizer="adamw", lr=0.01, weight_decay=0.01)
    losses = artifact.train({"input_ids": ids.numpy(), "labels": labels.numpy()}, steps=steps)
    expected = torch_adamw_losses(reference, ids, labels, steps, batch, 0.01, 0.01)
    for step, (mine, theirs) in enumerate(zip(losses, expected)):
        assert abs(mine - theirs) <= 1e-4 * abs(theirs), (step, mine, theirs)


@pytest.mark.parametrize("name", ["gpt2", "llama"])
def test_parc_train(name):
    # parc.train: step() and fit() give torch.optim.AdamW's losses, and the state dict
    # loads back into the module, which then gives the trained model's output.
    import copy

    model = trainable_model(name)
    reference = copy.deepcopy(model)
    steps, batch = 10, 2
    ids = torch.randint(0, VOCAB, (steps * batch, 8))
    labels = torch.randint(0, VOCAB, (steps * batch, 8))
    trainer = parc.train(model, {"input_ids": ids[:batch]}, loss="cross_entropy",
                         optimizer=parc.AdamW(lr=0.01, weight_decay=0.01), dp=2)
    losses = [trainer.step({"input_ids": ids[:batch], "labels": labels[:batch]})]
    losses += trainer.fit({"input_ids": ids[batch:], "labels": labels[batch:]}, steps - 1)
    expected = torch_adamw_losses(reference, ids, labels, steps, batch, 0.01, 0.01)
    for step, (mine, theirs) in enumerate(zip(losses, expected)):
        assert abs(mine - theirs) <= 1e-4 * abs(theirs), (step, mine, theirs)
    state = trainer.state_dict()
    assert set(state) == set(model.state_dict())
    model.load_state_dict(state)
    probe = torch.randint(0, VOCAB, (2, 8))
    with torch.no_grad():
        trained = model(input_ids=probe).logits
        theirs = reference(input_ids=probe).logits
    assert relative_l2(trained.numpy(), theirs.numpy()) <= 1e-4
