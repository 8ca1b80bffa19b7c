# REQUIRES: nvrtc
# UNSUPPORTED: cuda-driver
# RUN: rm -rf %t && mkdir -p %t
# parc-compile --target=cuda turns every fused region of GPT-2 into a kernel compiled with
# NVRTC (PTX and a cubin for --cuda-arch) inside the artifact, and each projection with its
# bias into a GEMM with a cuBLASLt epilogue; on a machine without a GPU,
# parc-run says so and fails, leaving no outputs.
# RUN: %python %models/make_model.py gpt2 %t/gpt2.onnx --batch 2 --reference %t/ref
# RUN: parc-compile %t/gpt2.onnx --target=cuda --cuda-arch=sm_90 --tp=2 -o %t/gpt2.parc --report | FileCheck %s --check-prefix=REPORT
# REPORT: target: cuda, 2 ranks
# REPORT: cuda kernels for sm_90: {{[1-9][0-9]*}} row, {{[1-9][0-9]*}} elementwise, {{[1-9][0-9]*}} data movement (NVRTC: {{[1-9][0-9]*}} bytes of PTX, {{[1-9][0-9]*}} bytes of cubins, 0 kernels without both); {{[1-9][0-9]*}} GEMMs with cuBLASLt epilogues on rank 0
# RUN: not parc-run %t/gpt2.parc --input input_ids=%t/ref/input_ids.npy --output-dir %t/out 2>&1 | FileCheck %s --check-prefix=NOGPU
# NOGPU: parc-run: error: {{.*}}gpt2.parc targets cuda, but no GPU was found: the NVIDIA driver (libcuda.so.1) is not installed
# RUN: not ls %t/out/logits.npy
# Bad flags are errors.
# RUN: not parc-compile %t/gpt2.onnx --target=tpu -o %t/bad.parc 2>&1 | FileCheck %s --check-prefix=TARGET
# TARGET: error: --target=tpu: expected cpu or cuda
# RUN: not parc-compile %t/gpt2.onnx --target=cuda --cuda-arch=volta -o %t/bad.parc 2>&1 | FileCheck %s --check-prefix=ARCH
# ARCH: --cuda-arch=volta: expected sm_<major><minor>, e.g. sm_90
# RUN: not ls %t/bad.parc
