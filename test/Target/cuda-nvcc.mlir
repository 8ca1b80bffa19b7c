// REQUIRES: nvcc
// RUN: rm -rf %t && mkdir -p %t
// RUN: parc-compile %S/cuda-kernels.mlir --target=cuda --emit=cuda -o %t/kernels.cu
// RUN: %python %pylib/compile_kernels.py %t/kernels.cu --nvcc %nvcc --arch sm_90 --out %t | FileCheck %s
// RUN: %python %pylib/compile_kernels.py %t/kernels.cu --nvcc %nvcc --arch sm_80 --out %t/sm80 | FileCheck %s --check-prefix=AMPERE

// Every emitted kernel compiles with nvcc too (the compiler uses NVRTC), for Hopper and
// for Ampere.
// CHECK-COUNT-7: parc_kernel_{{[0-9]}}: cubin of {{[0-9]+}} bytes
// CHECK: 7 kernels compiled for sm_90
// AMPERE: 7 kernels compiled for sm_80
