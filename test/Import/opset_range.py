# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# parc accepts every opset from 7 (those before 13 lifted to 13, old_opsets.py) up to the
# newest one the pinned onnx package defines, and refuses the next one; the newest opset is
# taken from onnx itself, not written here.
# RUN: parc-compile --emit=parc %t/opset13.onnx | FileCheck %s
# RUN: parc-compile --emit=parc %t/newest.onnx | FileCheck %s
# CHECK: parc.relu
# RUN: not parc-compile --emit=parc %t/too_new.onnx 2>&1 | FileCheck %s --check-prefix=TOO-NEW
# TOO-NEW: the model uses ONNX opset [[N:[0-9]+]]; parc supports opsets 7 to {{[0-9]+}}
import os
import sys

import onnx.defs
from onnx import helper

from onnx_graph import FLOAT, save_model, tensor_input

out = sys.argv[1]
newest = onnx.defs.onnx_opset_version()
for name, opset in [("opset13", 13), ("newest", newest), ("too_new", newest + 1)]:
    save_model(
        os.path.join(out, name + ".onnx"),
        [helper.make_node("Relu", ["x"], ["y"], name="relu")],
        [tensor_input("x", FLOAT, [2])],
        [tensor_input("y", FLOAT, [2])],
        opset=opset,
        check=opset <= newest,
    )
