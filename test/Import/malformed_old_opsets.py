# Malformed models of old opsets (7-12), which libonnx lifts to opset 13 and does not expect
# to be malformed: each is one error line, exit 1, and no crash. The inputs are the ones
# fuzzing found (fuzz/regressions/onnx-import; docs/reliability.md).
# RUN: not parc-compile %src/fuzz/regressions/onnx-import/opset7-output-without-type --emit=parc 2>&1 | FileCheck %s --check-prefix=UNTYPED --implicit-check-not=error
# (Its output's name is two control bytes, printed escaped.)
# UNTYPED: parc-compile: error: {{.*}}opset7-output-without-type: not a valid ONNX model: graph output '\x08\x06' is computed by no node
# RUN: not parc-compile %src/fuzz/regressions/onnx-import/opset7-output-computed-by-no-node --emit=parc 2>&1 | FileCheck %s --check-prefix=UNWIRED --implicit-check-not=error
# UNWIRED: parc-compile: error: {{.*}}: not a valid ONNX model: graph output 'adn' is computed by no node
# A Conv that crashes ONNX's shape inference: the lift runs in a child process.
# RUN: not parc-compile %src/fuzz/regressions/onnx-import/opset-lift-conv-shape-inference-crash --emit=parc 2>&1 | FileCheck %s --check-prefix=CRASH --implicit-check-not=error --implicit-check-not=Stack
# CRASH: parc-compile: error: {{.*}}: onnx's shape inference or version converter crashed on this model (signal 11, Segmentation fault); it is malformed, or re-export it at opset 13 or later
