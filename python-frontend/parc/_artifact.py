"""A compiled parc artifact and running it."""

import os
import tempfile

import numpy as np

from parc._tools import ParcError, run_tool


def _to_numpy(value):
    """A numpy array of a numpy array, a torch tensor or anything numpy accepts."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    return np.ascontiguousarray(np.asarray(value))


def _input_arguments(work, inputs):
    """Saves each input (name -> array or tensor) as a .npy file in `work` and returns the
    parc-run arguments that pass them."""
    arguments = []
    for index, (name, value) in enumerate(inputs.items()):
        path = os.path.join(work, "input%d.npy" % index)
        np.save(path, _to_numpy(value))
        arguments += ["--input", "%s=%s" % (name, path)]
    return arguments


def _output_file(name):
    """The file parc-run writes output `name` to."""
    return name.replace("/", "_") + ".npy"


class Artifact:
    """A .parc file with its graph's input and output names.

    Attributes:
        path: the .parc file.
        inputs, outputs: the graph input and output names, in graph order.
        mesh: {"dp": d, "pp": p, "tp": t}; the artifact runs on d * p * t ranks.
        report: what parc-compile --report printed (the plan, memory per rank, ...).
    """

    def __init__(self, path, inputs, outputs, mesh, report="", keep_alive=None,
                 training=False):
        self.path = str(path)
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.mesh = dict(mesh)
        self.report = report
        # The temporary folder holding the file when compile() chose where to put it.
        self._keep_alive = keep_alive
        self.training = training

    @property
    def ranks(self):
        return self.mesh["dp"] * self.mesh["pp"] * self.mesh["tp"]

    def run(self, inputs, timeout=300, threads=None):
        """Runs the artifact on CPU ranks with `inputs` (name -> numpy array or torch
        tensor); returns {output name: numpy array}. Raises ParcError with parc-run's message
        on a missing, extra or mistyped input or a failing rank."""
        if not isinstance(inputs, dict):
            raise TypeError("Artifact.run takes a dict of input name -> array, got %s"
                            % type(inputs).__name__)
        with tempfile.TemporaryDirectory(prefix="parc-run-") as work:
            arguments = [self.path, "--output-dir", os.path.join(work, "out"),
                         "--timeout", timeout]
            if threads:
                arguments += ["--threads", threads]
            arguments += _input_arguments(work, inputs)
            run_tool("parc-run", arguments)
            results = {}
            for name in self.outputs:
                path = os.path.join(work, "out", _output_file(name))
                if not os.path.exists(path):
                    raise ParcError("parc-run wrote no file for output '%s'" % name)
                results[name] = np.load(path)
            return results

    def train(self, batches, steps, save=None, resume=None, timeout=600, threads=None):
        """Runs `steps` training steps of a training artifact (compile(..., train=True)).

        `batches` maps each input name (the model's inputs and "labels") to an array
        holding `steps` global batches stacked along dim 0; step i takes the i-th block of
        rows. Returns the loss of each step. `save` writes the trained weights and optimizer
        state to a folder; `resume` starts from one. Raises ParcError with parc-run's
        message on bad input."""
        if not self.training:
            raise ParcError("train() needs a training artifact (parc.compile(..., train=True))")
        with tempfile.TemporaryDirectory(prefix="parc-train-") as work:
            arguments = [self.path, "--steps", steps, "--output-dir", os.path.join(work, "out"),
                         "--timeout", timeout]
            if threads:
                arguments += ["--threads", threads]
            if save:
                arguments += ["--save", save]
            if resume:
                arguments += ["--resume", resume]
            arguments += _input_arguments(work, batches)
            printed = run_tool("parc-run", arguments)
        losses = [float(line.split("loss=")[1]) for line in printed.splitlines()
                  if line.startswith("step=")]
        if len(losses) != steps:
            raise ParcError("parc-run printed %d losses for %d steps" % (len(losses), steps))
        return losses

    def __repr__(self):
        return "Artifact(%r, inputs=%r, outputs=%r, mesh=%r)" % (
            self.path, self.inputs, self.outputs, self.mesh)
