# REQUIRES: nvrtc
# RUN: rm -rf %t && mkdir -p %t
# The CUDA backend of parc-run, run without a GPU through its emulator (PARC_CUDA_EMULATOR=1:
# the artifact's generated kernels compiled for the host, thread blocks run as fibers,
# cuBLASLt GEMM calls executed by their definition). Everything above the driver calls is
# the GPU's code: kernel choice, arguments and launch shapes, GEMM plans with their
# epilogues, device memory, and communication staged through the host when ranks share a
# GPU. Each model must match the CPU backend (and PyTorch): relative L2 error at most 1e-5
# in f32. In f16 and bf16 the limits come from the arithmetic (see the end).
#
# GPT-2 alone, with tp=2, pp=2, tp=2 x pp=2 and tp=2 x pp=4 (all sharing the one emulated
# GPU).
# RUN: %python %models/make_model.py gpt2 %t/gpt2.onnx --batch 2 --reference %t/gpt2
# RUN: parc-compile %t/gpt2.onnx -o %t/gpt2-cpu.parc
# RUN: parc-run %t/gpt2-cpu.parc --input input_ids=%t/gpt2/input_ids.npy --output-dir %t/gpt2-cpu
# RUN: parc-compile %t/gpt2.onnx --target=cuda -o %t/gpt2.parc
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/gpt2.parc --input input_ids=%t/gpt2/input_ids.npy --output-dir %t/gpt2-1 2>&1 | FileCheck %s --check-prefix=ONE
# ONE: parc-run: PARC_CUDA_EMULATOR is set: the CUDA backend runs on the host
# ONE-NOT: share
# RUN: %python %pylib/compare_outputs.py %t/gpt2-1 %t/gpt2-cpu --names logits --max-rel-l2 1e-5
# RUN: %python %pylib/compare_outputs.py %t/gpt2-1 %t/gpt2 --names logits --max-rel-l2 1e-5
# CUDA graphs: run 1 warms up, run 2 is captured and replayed, run 3 replays; the emulator
# records the captured operations and runs them on replay (an empty graph is an error).
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/gpt2.parc --input input_ids=%t/gpt2/input_ids.npy --output-dir %t/gpt2-graph --cuda-graphs --repeat 3 --report 2>&1 | FileCheck %s --check-prefix=GRAPH
# GRAPH: parc-run: rank 0: load {{.*}}, 2 runs replayed a CUDA graph
# RUN: %python %pylib/compare_outputs.py %t/gpt2-graph %t/gpt2-cpu --names logits --max-rel-l2 1e-5
# RUN: parc-compile %t/gpt2.onnx --target=cuda --tp=2 -o %t/gpt2-tp2.parc
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/gpt2-tp2.parc --input input_ids=%t/gpt2/input_ids.npy --output-dir %t/gpt2-tp2 2>&1 | FileCheck %s --check-prefix=SHARE2
# SHARE2: parc-run: 2 ranks share 1 GPU: collectives and pipeline transfers are staged through host memory over Gloo (correct, slower than NCCL)
# RUN: %python %pylib/compare_outputs.py %t/gpt2-tp2 %t/gpt2-cpu --names logits --max-rel-l2 1e-5
# Communication staged through the host cannot be captured: graphs are refused, with a
# warning, and the run goes on without them.
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/gpt2-tp2.parc --input input_ids=%t/gpt2/input_ids.npy --output-dir %t/gpt2-tp2-graph --cuda-graphs 2>&1 | FileCheck %s --check-prefix=NOGRAPH
# NOGRAPH: parc-run: rank {{[01]}}: --cuda-graphs: cannot capture this program (its collectives are staged through host memory); running without graphs
# RUN: %python %pylib/compare_outputs.py %t/gpt2-tp2-graph %t/gpt2-cpu --names logits --max-rel-l2 1e-5
# RUN: parc-compile %t/gpt2.onnx --target=cuda --pp=2 -o %t/gpt2-pp2.parc
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/gpt2-pp2.parc --input input_ids=%t/gpt2/input_ids.npy --output-dir %t/gpt2-pp2
# RUN: %python %pylib/compare_outputs.py %t/gpt2-pp2 %t/gpt2-cpu --names logits --max-rel-l2 1e-5
# RUN: parc-compile %t/gpt2.onnx --target=cuda --tp=2 --pp=2 -o %t/gpt2-tp2pp2.parc
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/gpt2-tp2pp2.parc --input input_ids=%t/gpt2/input_ids.npy --output-dir %t/gpt2-tp2pp2 2>&1 | FileCheck %s --check-prefix=SHARE4
# SHARE4: parc-run: 4 ranks share 1 GPU
# RUN: %python %pylib/compare_outputs.py %t/gpt2-tp2pp2 %t/gpt2-cpu --names logits --max-rel-l2 1e-5
# The layout, --tp=2 --pp=4: eight ranks.
# RUN: parc-compile %t/gpt2.onnx --target=cuda --cuda-arch=sm_90 --tp=2 --pp=4 -o %t/gpt2-tp2pp4.parc
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/gpt2-tp2pp4.parc --input input_ids=%t/gpt2/input_ids.npy --output-dir %t/gpt2-tp2pp4 2>&1 | FileCheck %s --check-prefix=SHARE8
# SHARE8: parc-run: 8 ranks share 1 GPU
# RUN: %python %pylib/compare_outputs.py %t/gpt2-tp2pp4 %t/gpt2-cpu --names logits --max-rel-l2 1e-5
#
# Llama (RMS norm, rotary embeddings: concat, slices, broadcasts) at tp=2; BERT (erf GELU,
# token types); the MLP at tp=2.
# RUN: %python %models/make_model.py llama %t/llama.onnx --batch 2 --reference %t/llama
# RUN: parc-compile %t/llama.onnx --target=cuda --tp=2 -o %t/llama.parc
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/llama.parc --input input_ids=%t/llama/input_ids.npy --output-dir %t/llama-out
# RUN: %python %pylib/compare_outputs.py %t/llama-out %t/llama --names logits --max-rel-l2 1e-5
# RUN: %python %models/make_model.py bert %t/bert.onnx --batch 2 --reference %t/bert
# RUN: parc-compile %t/bert.onnx --target=cuda -o %t/bert.parc
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/bert.parc --input input_ids=%t/bert/input_ids.npy --output-dir %t/bert-out
# RUN: %python %pylib/compare_outputs.py %t/bert-out %t/bert --names last_hidden_state --max-rel-l2 1e-5
# RUN: %python %models/make_model.py mlp %t/mlp.onnx --batch 2 --reference %t/mlp
# RUN: parc-compile %t/mlp.onnx --target=cuda --tp=2 -o %t/mlp.parc
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/mlp.parc --input input=%t/mlp/input.npy --output-dir %t/mlp-out
# RUN: %python %pylib/compare_outputs.py %t/mlp-out %t/mlp --names output --max-rel-l2 1e-5
#
# f16 and bf16. The generated kernels' results are within the error bounds of their
# arithmetic, op by op (check_rounding.py: half an ulp of the type plus the f32 work before
# the final rounding; where that rounding is all the error, at least half the bound, so
# rounding is to nearest even and casts inside fused kernels round).
# RUN: %python %pylib/check_rounding.py --work %t/rounding --target cuda | FileCheck %s --check-prefix=ROUNDING
# ROUNDING: cuda float16 mul: {{.*}} ok
# ROUNDING: cuda float16 cast: {{.*}} ok
# ROUNDING: cuda bfloat16 mul: {{.*}} ok
# ROUNDING: cuda bfloat16 matmul: {{.*}} ok
# ROUNDING: cuda bfloat16 cast: {{.*}} ok
# ROUNDING-NOT: FAILED
# GPT-2 in f16 and bf16, on the emulated GPU and on the CPU backend: against the float64
# evaluation of the same weights and inputs, each run's error must be at most 1.1 times
# the error PyTorch's own f16/bf16 forward has (observed: 0.83 and 0.91 of that limit in
# f16, 0.85 and 0.92 in bf16; compare_with_exact.py says why that is the limit).
# RUN: %python %models/make_model.py gpt2 %t/gpt2-f16.onnx --batch 2 --dtype float16 --reference %t/gpt2-f16 --exact-reference %t/gpt2-f16-exact
# RUN: parc-compile %t/gpt2-f16.onnx -o %t/gpt2-f16-cpu.parc
# RUN: parc-run %t/gpt2-f16-cpu.parc --input input_ids=%t/gpt2-f16/input_ids.npy --output-dir %t/gpt2-f16-cpu
# RUN: parc-compile %t/gpt2-f16.onnx --target=cuda -o %t/gpt2-f16.parc
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/gpt2-f16.parc --input input_ids=%t/gpt2-f16/input_ids.npy --output-dir %t/gpt2-f16-out
# RUN: %python %pylib/compare_with_exact.py %t/gpt2-f16-out %t/gpt2-f16-exact %t/gpt2-f16 --names logits
# RUN: %python %pylib/compare_with_exact.py %t/gpt2-f16-cpu %t/gpt2-f16-exact %t/gpt2-f16 --names logits
# RUN: %python %models/make_model.py gpt2 %t/gpt2-bf16.onnx --batch 2 --dtype bfloat16 --reference %t/gpt2-bf16 --exact-reference %t/gpt2-bf16-exact
# RUN: parc-compile %t/gpt2-bf16.onnx -o %t/gpt2-bf16-cpu.parc
# RUN: parc-run %t/gpt2-bf16-cpu.parc --input input_ids=%t/gpt2-bf16/input_ids.npy --output-dir %t/gpt2-bf16-cpu
# RUN: parc-compile %t/gpt2-bf16.onnx --target=cuda -o %t/gpt2-bf16.parc
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/gpt2-bf16.parc --input input_ids=%t/gpt2-bf16/input_ids.npy --output-dir %t/gpt2-bf16-out
# RUN: %python %pylib/compare_with_exact.py %t/gpt2-bf16-out %t/gpt2-bf16-exact %t/gpt2-bf16 --names logits
# RUN: %python %pylib/compare_with_exact.py %t/gpt2-bf16-cpu %t/gpt2-bf16-exact %t/gpt2-bf16 --names logits
#
# A kernel that does not compile on the host is a clear error, and no output is left.
# RUN: not env PARC_CUDA_EMULATOR=1 PARC_CUDA_EMULATOR_CXX=false parc-run %t/gpt2.parc --input input_ids=%t/gpt2/input_ids.npy --output-dir %t/bad 2>&1 | FileCheck %s --check-prefix=CXX
# CXX: parc-run: error: {{.*}}the CUDA emulator could not compile the artifact's kernels (false
# RUN: not ls %t/bad/logits.npy
