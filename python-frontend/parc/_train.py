"""parc.train: compile a module's training step and run it from Python."""

import os
import shutil
import tempfile

import numpy as np

from parc._compile import compile as compile_module
from parc._tools import ParcError


class SGD:
    """parc-compile's --optimizer=sgd (momentum and weight decay as torch.optim.SGD's)."""

    def __init__(self, lr, momentum=0.0, weight_decay=0.0):
        self.options = {"optimizer": "sgd", "lr": lr, "momentum": momentum,
                        "weight_decay": weight_decay}


class AdamW:
    """parc-compile's --optimizer=adamw (as torch.optim.AdamW: decoupled weight decay)."""

    def __init__(self, lr, weight_decay=0.01, betas=(0.9, 0.999), eps=1e-8):
        self.options = {"optimizer": "adamw", "lr": lr, "weight_decay": weight_decay,
                        "beta1": betas[0], "beta2": betas[1], "eps": eps}


def _as_arrays(batch):
    """{name: numpy array} of a batch given as a mapping of tensors or arrays."""
    arrays = {}
    for name, value in dict(batch).items():
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        arrays[str(name)] = np.ascontiguousarray(value)
    return arrays


class Trainer:
    """A compiled training step and the state it trains: parameters and optimizer state
    live in a checkpoint folder that each call to parc-run resumes from and saves to."""

    def __init__(self, module, artifact):
        self.module = module
        self.artifact = artifact
        self._work = tempfile.TemporaryDirectory(prefix="parc-trainer-")
        self._state = None  # the checkpoint folder once a step has run
        self.losses = []

    @property
    def inputs(self):
        return self.artifact.inputs

    def fit(self, batches, steps):
        """Runs `steps` steps; `batches` maps each input (the model's and "labels") to
        `steps` batches stacked along dim 0. Returns the steps' losses."""
        arrays = _as_arrays(batches)
        state = os.path.join(self._work.name, "state-%d" % len(self.losses))
        losses = self.artifact.train(arrays, steps, save=state, resume=self._state)
        if self._state:
            shutil.rmtree(self._state, ignore_errors=True)
        self._state = state
        self.losses += losses
        return losses

    def step(self, batch):
        """Runs one step on `batch` (one global batch per input); returns its loss."""
        return self.fit(batch, 1)[0]

    def state_dict(self):
        """The trained parameters (and the module's buffers, which training does not
        change) by the module's own names, as torch tensors: what
        `module.load_state_dict` takes."""
        import torch

        if self._state is None:
            return {name: value.detach().clone() for name, value in self.module.state_dict().items()}
        files = set(os.listdir(self._state))
        # A tied parameter has several names; the checkpoint holds it under one of them.
        aliases = {}
        for name, parameter in self.module.named_parameters(remove_duplicate=False):
            aliases.setdefault(id(parameter), []).append(name)
        trained = {}
        for names in aliases.values():
            found = next((n for n in names if n.replace("/", "_") + ".npy" in files), None)
            if found is None:
                raise ParcError("the checkpoint has no tensor for parameter %s" % names[0])
            value = torch.from_numpy(np.load(os.path.join(self._state,
                                                          found.replace("/", "_") + ".npy")))
            for name in names:
                trained[name] = value
        state = {}
        for name, value in self.module.state_dict(keep_vars=False).items():
            state[name] = trained[name].clone() if name in trained else value.detach().clone()
        return state

    def __repr__(self):
        return "Trainer(%r, steps=%d)" % (self.artifact, len(self.losses))


def train(module, example_inputs, loss="cross_entropy", optimizer=None, tp=None, pp=None,
          dp=None, microbatches=None, devices=None, cluster=None, **options):
    """Compiles `module`'s training step (the dynamo exporter on `example_inputs`, one
    global batch; `loss` "cross_entropy" or "mse" against a "labels" input; `optimizer`
    parc.SGD(...) or parc.AdamW(...)) at the given layout, and returns a Trainer whose
    step(batch) / fit(batches, steps) run it and return losses, and whose state_dict()
    gives the trained parameters by the module's own names."""
    if optimizer is None:
        optimizer = AdamW(lr=1e-3)
    if not hasattr(optimizer, "options"):
        raise ParcError("optimizer=%r: expected parc.SGD(...) or parc.AdamW(...)" % (optimizer,))
    compile_options = dict(optimizer.options)
    compile_options.update(options)
    artifact = compile_module(module, example_inputs, tp=tp, pp=pp, dp=dp,
                              microbatches=microbatches, devices=devices, cluster=cluster,
                              train=True, loss=loss, **compile_options)
    return Trainer(module, artifact)
