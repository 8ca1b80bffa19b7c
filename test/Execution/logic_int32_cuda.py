# REQUIRES: nvrtc
# RUN: rm -rf %t && mkdir -p %t
# The models of logic_int32.py compiled for the CUDA target (generated kernels for bool and
# int32) and run on parc-run's CUDA emulator equal onnxruntime's outputs exactly.
# RUN: %python %pylib/make_logic_int32.py %t/models
# RUN: %python %pylib/run_onnxruntime.py %t/models/logic.onnx %t/models/logic-inputs %t/ort-logic
# RUN: parc-compile %t/models/logic.onnx --target=cuda -o %t/logic.parc
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/logic.parc --input a=%t/models/logic-inputs/a.npy --input b=%t/models/logic-inputs/b.npy --input c=%t/models/logic-inputs/c.npy --input x=%t/models/logic-inputs/x.npy --output-dir %t/logic
# RUN: %python %pylib/compare_outputs.py %t/logic %t/ort-logic --max-rel-l2 0 | FileCheck %s --check-prefix=LOGIC
# LOGIC-COUNT-4: equal
# LOGIC-NOT: DIFFERENT
# RUN: %python %pylib/run_onnxruntime.py %t/models/int32.onnx %t/models/int32-inputs %t/ort-int32
# RUN: parc-compile %t/models/int32.onnx --target=cuda -o %t/int32.parc
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/int32.parc --input x=%t/models/int32-inputs/x.npy --input y=%t/models/int32-inputs/y.npy --output-dir %t/int32
# RUN: %python %pylib/compare_outputs.py %t/int32 %t/ort-int32 | FileCheck %s --check-prefix=INT32
# INT32-COUNT-13: equal
