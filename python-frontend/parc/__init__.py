"""Compile and run PyTorch modules and ONNX models with parc.

    import parc
    artifact = parc.compile(model, {"input_ids": ids}, tp=2)
    outputs = artifact.run({"input_ids": ids})      # {"logits": numpy array}

parc-compile and parc-run come from a parc build: the folder named by the PARC_BUILD_DIR
environment variable (its bin/ subfolder or itself), else PATH.
"""

from parc._artifact import Artifact
from parc._compile import compile
from parc._tools import ParcError, find_tool

__all__ = ["Artifact", "ParcError", "compile", "find_tool"]
__version__ = "0.1.0"
