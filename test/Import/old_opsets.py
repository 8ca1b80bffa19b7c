# RUN: rm -rf %t && mkdir -p %t && %python %s %t
#
# Models of opsets 7 to 12 are lifted to opset 13 with onnx's version converter on import,
# then compiled as usual: each gives onnxruntime's outputs for the same inputs (relative L2
# error at most 1e-6, f32). Opset 9: attributes that became inputs (Unsqueeze's and
# ReduceSum's axes, Split's sizes, Clip's bounds), and Softmax over the input flattened at
# axis 1 (the meaning before opset 13, which differs from Softmax along axis 1).
# RUN: %python %pylib/run_onnxruntime.py %t/opset9.onnx %t/inputs %t/opset9-ort
# RUN: parc-compile %t/opset9.onnx -o %t/opset9.parc
# RUN: parc-run %t/opset9.parc --input x=%t/inputs/x.npy --output-dir %t/opset9-out
# RUN: %python %pylib/compare_outputs.py %t/opset9-out %t/opset9-ort --max-rel-l2 1e-6 | FileCheck %s --check-prefix=OPSET9
# OPSET9-COUNT-5: {{ ok$}}
# OPSET9-NOT: {{TOO LARGE|MISSING|MISMATCH}}
#
# Opset 11: Softmax and LogSoftmax at a middle axis; opset 7: Gemm, and Dropout whose ratio
# became an input (an identity at inference).
# RUN: %python %pylib/run_onnxruntime.py %t/opset11.onnx %t/inputs %t/opset11-ort
# RUN: parc-compile %t/opset11.onnx -o %t/opset11.parc
# RUN: parc-run %t/opset11.parc --input image=%t/inputs/image.npy --output-dir %t/opset11-out
# RUN: %python %pylib/compare_outputs.py %t/opset11-out %t/opset11-ort --max-rel-l2 1e-6 | FileCheck %s --check-prefix=OPSET11
# OPSET11-COUNT-2: {{ ok$}}
# OPSET11-NOT: {{TOO LARGE|MISSING|MISMATCH}}
# RUN: %python %pylib/run_onnxruntime.py %t/opset7.onnx %t/inputs %t/opset7-ort
# RUN: parc-compile %t/opset7.onnx -o %t/opset7.parc
# RUN: parc-run %t/opset7.parc --input x=%t/inputs/x.npy --output-dir %t/opset7-out
# RUN: %python %pylib/compare_outputs.py %t/opset7-out %t/opset7-ort --max-rel-l2 1e-6 | FileCheck %s --check-prefix=OPSET7
# OPSET7: y: {{.*}} ok
#
# transformers' BERT and GPT-2 exported at opset 11 by the TorchScript exporter give
# PyTorch's outputs (relative L2 error at most 1e-5, as at opset 17).
# RUN: %python %models/make_model.py bert %t/bert11.onnx --opset 11 --reference %t/bert11
# RUN: parc-compile %t/bert11.onnx -o %t/bert11.parc
# RUN: parc-run %t/bert11.parc --input input_ids=%t/bert11/input_ids.npy --output-dir %t/bert11-out
# RUN: %python %pylib/compare_outputs.py %t/bert11-out %t/bert11 --names last_hidden_state --max-rel-l2 1e-5
# RUN: %python %models/make_model.py gpt2 %t/gpt2-11.onnx --opset 11 --reference %t/gpt2-11
# RUN: parc-compile %t/gpt2-11.onnx --tp=2 -o %t/gpt2-11.parc
# RUN: parc-run %t/gpt2-11.parc --input input_ids=%t/gpt2-11/input_ids.npy --output-dir %t/gpt2-11-out
# RUN: %python %pylib/compare_outputs.py %t/gpt2-11-out %t/gpt2-11 --names logits --max-rel-l2 1e-5
#
# A node the converter cannot lift is named with its operator and the converter's reason
# (Pad-2 without its `value` attribute); opsets before 7 are refused with the range.
# RUN: not parc-compile %t/pad_opset7.onnx -o %t/pad.parc 2>&1 | FileCheck %s --check-prefix=NOLIFT
# NOLIFT: parc-compile: error: {{.*}}pad_opset7.onnx: cannot lift the model from its opset to opset 13 with onnx's version converter: node 'pad' (Pad): required undefined attribute 'value'
# RUN: not test -e %t/pad.parc
# RUN: not parc-compile --emit=parc %t/opset6.onnx 2>&1 | FileCheck %s --check-prefix=TOO-OLD
# TOO-OLD: parc-compile: error: {{.*}}opset6.onnx: the model uses ONNX opset 6; parc supports opsets 7 to {{[0-9]+}} (those before 13 lifted to it on import)
import os
import sys

import numpy as np
from onnx import helper

from onnx_graph import FLOAT, initializer, save_model, tensor_input

out = sys.argv[1]
rng = np.random.default_rng(3)
node = helper.make_node

save_model(
    os.path.join(out, "opset9.onnx"),
    [
        node("MatMul", ["x", "w"], ["h"], name="matmul"),
        node("Relu", ["h"], ["r"], name="relu"),
        node("Unsqueeze", ["r"], ["u"], name="unsqueeze", axes=[0]),
        node("ReduceSum", ["u"], ["summed"], name="sum", axes=[2], keepdims=1),
        node("Softmax", ["u"], ["softmax_flattened"], name="softmax", axis=1),
        node("Split", ["r"], ["left", "right"], name="split", axis=1, split=[2, 3]),
        node("Clip", ["left"], ["clipped"], name="clip", min=-0.5, max=0.5),
    ],
    [tensor_input("x", FLOAT, [3, 4])],
    [
        tensor_input("softmax_flattened", FLOAT, [1, 3, 5]),
        tensor_input("summed", FLOAT, [1, 3, 1]),
        tensor_input("right", FLOAT, [3, 3]),
        tensor_input("clipped", FLOAT, [3, 2]),
        tensor_input("h", FLOAT, [3, 5]),
    ],
    [initializer("w", rng.standard_normal((4, 5)).astype(np.float32))],
    opset=9,
)
save_model(
    os.path.join(out, "opset11.onnx"),
    [
        node("Softmax", ["image"], ["softmax"], name="softmax", axis=1),
        node("LogSoftmax", ["image"], ["log_softmax"], name="log_softmax", axis=2),
    ],
    [tensor_input("image", FLOAT, [2, 3, 4, 5])],
    [tensor_input("softmax", FLOAT, [2, 3, 4, 5]), tensor_input("log_softmax", FLOAT, [2, 3, 4, 5])],
    opset=11,
)
save_model(
    os.path.join(out, "opset7.onnx"),
    [node("Gemm", ["x", "wt", "c"], ["g"], name="gemm", transB=1, alpha=0.5),
     node("Dropout", ["g"], ["y"], name="dropout", ratio=0.25)],
    [tensor_input("x", FLOAT, [3, 4])],
    [tensor_input("y", FLOAT, [3, 2])],
    [initializer("wt", rng.standard_normal((2, 4)).astype(np.float32)),
     initializer("c", rng.standard_normal(2).astype(np.float32))],
    opset=7,
    check=False,
)
save_model(
    os.path.join(out, "pad_opset7.onnx"),
    [node("Pad", ["x"], ["y"], name="pad", pads=[1, 1, 1, 1])],
    [tensor_input("x", FLOAT, [3, 4])],
    [tensor_input("y", FLOAT, [5, 6])],
    opset=7,
    check=False,
)
save_model(os.path.join(out, "opset6.onnx"), [node("Relu", ["x"], ["y"])],
           [tensor_input("x", FLOAT, [2])], [tensor_input("y", FLOAT, [2])], opset=6,
           check=False)
os.makedirs(os.path.join(out, "inputs"), exist_ok=True)
np.save(os.path.join(out, "inputs", "x.npy"), rng.standard_normal((3, 4)).astype(np.float32))
np.save(os.path.join(out, "inputs", "image.npy"),
        rng.standard_normal((2, 3, 4, 5)).astype(np.float32))
