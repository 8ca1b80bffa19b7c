# RUN: rm -rf %t && mkdir -p %t
# Boolean logic (And, Or with broadcasting, Not, used in a Where and an Equal) and int32
# arithmetic (Add, Sub, Mul, Div truncating towards zero, Mod with both sign rules, Max,
# Min, Abs, Neg, Greater, Where, ReduceSum, Casts to float and back, on values of both
# signs) run end to end on the CPU backend and equal onnxruntime's outputs exactly.
# RUN: %python %pylib/make_logic_int32.py %t/models
# RUN: %python %pylib/run_onnxruntime.py %t/models/logic.onnx %t/models/logic-inputs %t/ort-logic
# RUN: parc-compile %t/models/logic.onnx -o %t/logic.parc
# RUN: parc-run %t/logic.parc --input a=%t/models/logic-inputs/a.npy --input b=%t/models/logic-inputs/b.npy --input c=%t/models/logic-inputs/c.npy --input x=%t/models/logic-inputs/x.npy --output-dir %t/logic
# RUN: %python %pylib/compare_outputs.py %t/logic %t/ort-logic --max-rel-l2 0 | FileCheck %s --check-prefix=LOGIC
# LOGIC: and: equal
# LOGIC: either: equal
# LOGIC: kept: relative L2 error 0.000e+00
# LOGIC: not: equal
# LOGIC: or: equal
# RUN: %python %pylib/run_onnxruntime.py %t/models/int32.onnx %t/models/int32-inputs %t/ort-int32
# RUN: parc-compile %t/models/int32.onnx -o %t/int32.parc
# RUN: parc-run %t/int32.parc --input x=%t/models/int32-inputs/x.npy --input y=%t/models/int32-inputs/y.npy --output-dir %t/int32
# RUN: %python %pylib/compare_outputs.py %t/int32 %t/ort-int32 | FileCheck %s --check-prefix=INT32
# INT32: abs: equal
# INT32: add: equal
# INT32: back: equal
# INT32: div: equal
# INT32: fmod: equal
# INT32: max: equal
# INT32: min: equal
# INT32: mod: equal
# INT32: mul: equal
# INT32: neg: equal
# INT32: sub: equal
# INT32: sum: equal
# INT32: where: equal
