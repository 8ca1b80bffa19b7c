"""The parc Python API against PyTorch: every model family of test/models compiled with
tp=2 (and GPT-2 also with pipeline stages) through parc.compile, run through
Artifact.run, and compared with the module's own output (relative L2 error at most 1e-5,
as for the command-line tools). Errors surface as parc.ParcError with parc's message.

Needs parc's tools: PARC_BUILD_DIR names the build folder (ctest sets it).
"""

import os
import sys

import numpy as np
import pytest
import torch

import parc

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "test", "models"))
import make_model  # noqa: E402  (the test models, built from tiny configs)

FAMILIES = ["gpt2", "llama", "bert", "transformer_encoder", "mlp"]
TOLERANCE = 1e-5


def relative_l2(actual, expected):
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    return np.linalg.norm(actual - expected) / np.linalg.norm(expected)


def build(name, batch=2):
    spec = make_model.build_model(name)
    inputs = make_model.make_inputs(spec, batch, make_model.DEFAULT_SEQ)
    with torch.no_grad():
        expected = spec.module(**inputs).numpy()
    return spec, inputs, expected


@pytest.mark.parametrize("name", FAMILIES)
def test_family_with_tensor_parallelism(name):
    spec, inputs, expected = build(name)
    with spec.export_context():
        artifact = parc.compile(spec.module, inputs, tp=2)
    assert artifact.inputs == [spec.input_name]
    assert artifact.mesh == {"dp": 1, "pp": 1, "tp": 2} and artifact.ranks == 2
    assert "mesh: dp=1 pp=1 tp=2" in artifact.report
    outputs = artifact.run(inputs)
    assert list(outputs) == artifact.outputs
    (actual,) = outputs.values()
    assert actual.shape == expected.shape
    assert relative_l2(actual, expected) <= TOLERANCE


def test_pipeline_and_tensor_parallelism_with_options(tmp_path):
    spec, inputs, expected = build("gpt2", batch=4)
    path = tmp_path / "gpt2.parc"
    with spec.export_context():
        artifact = parc.compile(spec.module, inputs, tp=2, pp=2, microbatches=2,
                                schedule="gpipe", output=str(path))
    assert artifact.path == str(path) and path.exists()
    assert artifact.ranks == 4
    assert "pipeline: 2 stages, 2 microbatches, schedule gpipe" in artifact.report
    (actual,) = artifact.run({spec.input_name: inputs[spec.input_name].numpy()}).values()
    assert relative_l2(actual, expected) <= TOLERANCE


def test_devices_chooses_the_layout(tmp_path):
    # parc.compile(..., devices=N) runs parc-compile --devices=N: the layout is the
    # search's (on the sample CPU profile, for a result that does not depend on this
    # machine), the plan JSON comes back, and the artifact still matches PyTorch.
    spec, inputs, expected = build("gpt2", batch=4)
    profile = os.path.join(REPO, "unittests", "Inputs", "cpu-local-sample.json")
    with spec.export_context():
        artifact = parc.compile(spec.module, inputs, devices=4, cluster=profile)
    plan = artifact.plan
    assert plan["tp"] * plan["pp"] * plan["dp"] == 4 and artifact.ranks == 4
    assert artifact.mesh == {"dp": plan["dp"], "pp": plan["pp"], "tp": plan["tp"]}
    assert plan["candidates"][0]["predicted_step_seconds"] == plan["predicted_step_seconds"]
    assert "chosen layout: tp=%d pp=%d dp=%d" % (plan["tp"], plan["pp"], plan["dp"]) in (
        artifact.report)
    (actual,) = artifact.run({spec.input_name: inputs[spec.input_name].numpy()}).values()
    assert relative_l2(actual, expected) <= TOLERANCE
    # A pinned degree is kept.
    with spec.export_context():
        pinned = parc.compile(spec.module, inputs, devices=4, tp=2, cluster=profile)
    assert pinned.plan["tp"] == 2 and pinned.mesh["tp"] == 2
    with pytest.raises(parc.ParcError, match="tp='auto' needs devices=N"):
        parc.compile(spec.module, inputs, tp="auto")


def test_onnx_file_single_rank(tmp_path):
    spec, inputs, expected = build("mlp")
    onnx_path = tmp_path / "mlp.onnx"
    make_model.export_model(spec, inputs, "torchscript", onnx_path)
    artifact = parc.compile(str(onnx_path))
    assert artifact.inputs == ["input"] and artifact.outputs == ["output"]
    (actual,) = artifact.run(inputs).values()
    assert relative_l2(actual, expected) <= TOLERANCE


def test_compiler_errors_are_exceptions_with_parcs_message(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(parc.ParcError, match="parc-compile: error: .*bad.onnx"):
        parc.compile(str(bad))
    spec, inputs, _ = build("mlp")
    with pytest.raises(parc.ParcError, match="--microbatches=3 does not divide the batch"):
        parc.compile(spec.module, inputs, pp=2, microbatches=3)
    with pytest.raises(parc.ParcError, match="--recompute needs --train"):
        parc.compile(spec.module, inputs, dp=2, pp=2, recompute="full")


def test_runtime_errors_are_exceptions_with_parcs_message():
    spec, inputs, _ = build("mlp")
    artifact = parc.compile(spec.module, inputs)
    with pytest.raises(parc.ParcError, match="parc-run: .*'nonsense'"):
        artifact.run({"nonsense": inputs["input"]})
    with pytest.raises(parc.ParcError, match="parc-run: .*input"):
        artifact.run({"input": np.zeros((1, 2), np.float32)})


def test_missing_tools_say_how_to_build_them(tmp_path, monkeypatch):
    monkeypatch.setenv("PARC_BUILD_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(parc.ParcError, match="parc-compile not found.*scripts/build.sh.*PARC_BUILD_DIR"):
        parc.find_tool("parc-compile")


def test_positional_inputs_are_named_after_forward():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.GELU(),
                                torch.nn.Linear(256, 64)).eval()
    x = torch.randn(4, 16, 64)
    artifact = parc.compile(model, (x,), tp=2)
    assert artifact.inputs == ["input"] and artifact.outputs == ["output"]
    with torch.no_grad():
        expected = model(x).numpy()
    assert relative_l2(artifact.run({"input": x})["output"], expected) <= TOLERANCE


def test_data_parallel_inference():
    spec, inputs, expected = build("gpt2")
    with spec.export_context():
        artifact = parc.compile(spec.module, inputs, dp=2)
    assert artifact.mesh == {"dp": 2, "pp": 1, "tp": 1} and artifact.ranks == 2
    (actual,) = artifact.run(inputs).values()
    assert relative_l2(actual, expected) <= TOLERANCE


def test_training_matches_pytorch():
    # An MLP trained for 4 SGD steps with momentum through parc.compile(train=True) and
    # Artifact.train gives torch.optim.SGD's losses on the same batches.
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.Tanh(), torch.nn.Linear(32, 8))
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    steps, batch = 4, 3
    x = torch.randn(steps * batch, 16)
    y = torch.randn(steps * batch, 8)
    artifact = parc.compile(model, (x[:batch],), train=True, loss="mse", optimizer="sgd",
                            lr=0.1, momentum=0.9)
    assert artifact.inputs == ["input", "labels"] and artifact.outputs == ["loss"]
    losses = artifact.train({"input": x, "labels": y}, steps)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(steps):
        rows = slice(step * batch, (step + 1) * batch)
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x[rows]), y[rows])
        loss.backward()
        optimizer.step()
        assert abs(losses[step] - loss.item()) <= 1e-4 * abs(loss.item())
    # The same with two pipeline stages, two microbatches, full recomputation and
    # ZeRO-1 over two dp ranks (8 ranks' worth of flags through **options).
    x4 = torch.randn(steps * 4, 16)
    y4 = torch.randn(steps * 4, 8)
    model.load_state_dict(initial)
    piped = parc.compile(model, (x4[:4],), pp=2, dp=2, microbatches=2, train=True, loss="mse",
                         optimizer="sgd", lr=0.1, momentum=0.9, recompute="full", zero=1)
    assert piped.mesh == {"dp": 2, "pp": 2, "tp": 1}
    piped_losses = piped.train({"input": x4, "labels": y4}, steps)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(steps):
        rows = slice(step * 4, (step + 1) * 4)
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x4[rows]), y4[rows])
        loss.backward()
        optimizer.step()
        assert abs(piped_losses[step] - loss.item()) <= 1e-4 * abs(loss.item())
    with pytest.raises(parc.ParcError, match="needs a training artifact"):
        parc.compile(model, (x[:batch],)).train({"input": x}, steps)
