# RUN: rm -rf %t && mkdir -p %t
# The CPU backend is the reference for every fused region: GPT-2 and Llama after
# parc-fuse, each region run by its ops (parc-inline-fused) on CPU ranks, match PyTorch
# (relative L2 error at most 1e-5), alone and with tp=2.
# RUN: %python %models/make_model.py gpt2 %t/gpt2.onnx --batch 2 --reference %t/gpt2
# RUN: parc-compile %t/gpt2.onnx --emit=fused --print-weights-up-to=1000000000 -o %t/gpt2-fused.mlir
# RUN: FileCheck %s --check-prefix=FUSED < %t/gpt2-fused.mlir
# FUSED: parc.fused "row"
# FUSED: parc.softmax
# FUSED: parc.fused "elementwise"
# FUSED: parc.tanh
# RUN: parc-opt %t/gpt2-fused.mlir --parc-inline-fused -o %t/gpt2-inlined.mlir
# RUN: parc-compile %t/gpt2-inlined.mlir -o %t/gpt2.parc
# RUN: parc-run %t/gpt2.parc --input input_ids=%t/gpt2/input_ids.npy --output-dir %t/gpt2-out
# RUN: %python %pylib/compare_outputs.py %t/gpt2-out %t/gpt2 --names logits --max-rel-l2 1e-5
# RUN: parc-compile %t/gpt2-inlined.mlir --tp=2 -o %t/gpt2-tp2.parc
# RUN: parc-run %t/gpt2-tp2.parc --input input_ids=%t/gpt2/input_ids.npy --output-dir %t/gpt2-tp2-out
# RUN: %python %pylib/compare_outputs.py %t/gpt2-tp2-out %t/gpt2 --names logits --max-rel-l2 1e-5
# RUN: %python %models/make_model.py llama %t/llama.onnx --batch 2 --reference %t/llama
# RUN: parc-compile %t/llama.onnx --emit=fused --print-weights-up-to=1000000000 -o %t/llama-fused.mlir
# RUN: parc-opt %t/llama-fused.mlir --parc-inline-fused -o %t/llama-inlined.mlir
# RUN: parc-compile %t/llama-inlined.mlir -o %t/llama.parc
# RUN: parc-run %t/llama.parc --input input_ids=%t/llama/input_ids.npy --output-dir %t/llama-out
# RUN: %python %pylib/compare_outputs.py %t/llama-out %t/llama --names logits --max-rel-l2 1e-5
# A fused op left in a CPU program is an error naming it.
# RUN: not parc-compile %t/gpt2-fused.mlir -o %t/bad.parc 2>&1 | FileCheck %s --check-prefix=CPU
# CPU: 'parc.fused' op is a CUDA kernel; a CPU program runs its ops (parc-inline-fused)
# RUN: not ls %t/bad.parc
