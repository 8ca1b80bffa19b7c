"""Compile and run PyTorch modules and ONNX models with parc.

    import parc
    artifact = parc.compile(model, {"input_ids": ids}, tp=2)
    outputs = artifact.run({"input_ids": ids})      # {"logits": numpy array}
    trainer = parc.train(model, {"input_ids": ids}, optimizer=parc.AdamW(lr=1e-3), dp=2)
    losses = trainer.fit({"input_ids": ids10, "labels": labels10}, steps=10)
    model.load_state_dict(trainer.state_dict())

parc-compile and parc-run come from a parc build: the folder named by the PARC_BUILD_DIR
environment variable (its bin/ subfolder or itself), else PATH.
"""

from parc._artifact import Artifact
from parc._compile import compile
from parc._tools import ParcError, find_tool
from parc._train import SGD, AdamW, Trainer, train

__all__ = ["AdamW", "Artifact", "ParcError", "SGD", "Trainer", "compile", "find_tool", "train"]
__version__ = "0.1.0"
