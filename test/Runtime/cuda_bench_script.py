# REQUIRES: nvrtc
# RUN: rm -rf %t && mkdir -p %t
# The GPU benchmark script (bench/cuda_bench.py, run by scripts/gpu-check.sh on a GPU
# machine) checked without a GPU: a 2-layer model through parc-run's CUDA emulator and
# PyTorch on the CPU. Only that every part runs and reports is checked: the numbers mean
# nothing here.
# RUN: %python %src/bench/cuda_bench.py prepare %t --tiny --dtype float32 | FileCheck %s --check-prefix=PREPARE
# PREPARE: cuda_bench: wrote {{.*}}gpt2-float32.parc
# RUN: %python %src/bench/cuda_bench.py run %t --emulate --parc-run parc-run 2>&1 | FileCheck %s
# CHECK: device copy bandwidth (torch, read + write): {{[0-9]+}} GB/s
# CHECK: == GPT-2 2 layers, hidden 64, float32, batch 2 x seq 32: the CUDA emulator
# CHECK: fused kernels (achieved bandwidth / device copy bandwidth):
# CHECK: parc_kernel_{{[0-9]+}} {{ *}}row
# CHECK: GEMMs (parc cuBLASLt vs torch.matmul, same shape and type):
# CHECK: f32 +bias: parc {{.*}} TFLOP/s, torch {{.*}} TFLOP/s, ratio
# CHECK: forward: parc {{[0-9.]+}} ms ({{[0-9.]+}} ms replaying a CUDA graph), PyTorch eager {{[0-9.]+}} ms {{.*}}torch.compile {{[0-9.]+}} ms
