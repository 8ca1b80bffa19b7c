"""The GPT-2 the multi-node tests run: exported with PyTorch's reference output, compiled at
tp=2 x pp=2 with two microbatches (four ranks), and run on one machine for the logits the
other launchers must reproduce."""

import os
import subprocess
import sys


def tp2pp2_gpt2(work, models, compile_tool="parc-compile", run_tool="parc-run"):
    """(artifact, parc-run's --input flags, the single-machine output folder) in `work`."""
    subprocess.run([sys.executable, os.path.join(models, "make_model.py"), "gpt2",
                    os.path.join(work, "gpt2.onnx"), "--reference", os.path.join(work, "reference")],
                   check=True, stdout=subprocess.DEVNULL)
    artifact = os.path.join(work, "tp2pp2.parc")
    subprocess.run([compile_tool, os.path.join(work, "gpt2.onnx"), "--tp=2", "--pp=2",
                    "--microbatches=2", "-o", artifact], check=True)
    inputs = ["--input", "input_ids=" + os.path.join(work, "reference", "input_ids.npy")]
    single = os.path.join(work, "single")
    subprocess.run([run_tool, artifact, "--output-dir", single] + inputs, check=True)
    return artifact, inputs, single
