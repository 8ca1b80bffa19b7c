# RUN: rm -rf %t && mkdir -p %t
# parc-run --trace writes one Chrome/Perfetto trace for all ranks of a pipelined run: every
# rank shows one step per microbatch, each microbatch passes the stages in order (fill and
# drain), transfers begin and end in pairs. tp=2 x pp=2 gives four ranks in Megatron's order.
# RUN: %python %models/make_model.py gpt2 %t/gpt2.onnx --batch 4 --reference %t/ref
# RUN: parc-compile %t/gpt2.onnx --pp=4 --microbatches=4 --schedule=gpipe -o %t/pp4.parc
# RUN: parc-run %t/pp4.parc --input input_ids=%t/ref/input_ids.npy --output-dir %t/out4 --trace %t/pp4.json --timeout 120
# RUN: %python %pylib/check_trace.py %t/pp4.json --pp 4 --microbatches 4 | FileCheck %s
# CHECK: rank 0 (rank 0: stage 0, tp 0): F0 c0{{.*}} F1 c0{{.*}} F2 c0{{.*}} F3 c0
# CHECK: rank 3 (rank 3: stage 3, tp 0): F0 c3{{.*}} F1 c3{{.*}} F2 c3{{.*}} F3 c3
# CHECK: fill and drain: ok
# RUN: parc-compile %t/gpt2.onnx --tp=2 --pp=2 --microbatches=2 -o %t/tp2pp2.parc
# RUN: parc-run %t/tp2pp2.parc --input input_ids=%t/ref/input_ids.npy --output-dir %t/out22 --trace %t/tp2pp2.json --timeout 120
# RUN: %python %pylib/check_trace.py %t/tp2pp2.json --pp 2 --tp 2 --microbatches 2 | FileCheck %s --check-prefix=MESH
# MESH: rank 1 (rank 1: stage 0, tp 1): F0 c0
# MESH: rank 2 (rank 2: stage 1, tp 0): F0 c1
# MESH: fill and drain: ok
# A failed run writes no trace.
# RUN: not parc-run %t/pp4.parc --input input_ids=%t/ref/missing.npy --output-dir %t/out-bad --trace %t/bad.json
# RUN: not ls %t/bad.json
