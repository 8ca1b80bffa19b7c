# REQUIRES: nvcc, cuobjdump
# RUN: rm -rf %t && mkdir -p %t
# The machine code of the generated kernels (issue 21, item 3), checked without a GPU:
# every elementwise and row kernel of GPT-2 small (batch 8 x sequence 1024, hidden 768;
# one layer: the others have the same kernels), in f32 and in bf16, compiled by nvcc for
# sm_90, loads global memory 128 bits at a time only (SASS LDG.E.128, from cuobjdump -sass)
# and spills no register (ptxas -v). Before the 16-byte vector steps and the row staging,
# these kernels' loads were all 32-bit (8-bit for the mask).
# RUN: %python %pylib/kernel_sass.py %t/f32 --dtype float32 --nvcc %nvcc --cuobjdump %cuobjdump | FileCheck %s --check-prefix=F32
# F32: PASS parc_kernel_{{[0-9]+}} (elementwise, 8388608 elements (16 lanes, 16-byte)): global loads 1 x 128-bit
# F32: PASS parc_kernel_{{[0-9]+}} (row, 8192 rows of 768): global loads 4 x 128-bit
# F32: PASS parc_kernel_{{[0-9]+}} (row, 98304 rows of 1024): global loads 2 x 128-bit
# F32: PASS parc_kernel_{{[0-9]+}} (elementwise, 25165824 elements (4 lanes, 16-byte)): global loads 1 x 128-bit
# F32-NOT: FAIL
# F32: kernel_sass: 6 of 6 elementwise and row kernels of GPT-2 small in float32 load 128 bits at a time and spill nothing (sm_90)
# RUN: %python %pylib/kernel_sass.py %t/bf16 --dtype bfloat16 --nvcc %nvcc --cuobjdump %cuobjdump | FileCheck %s --check-prefix=BF16
# BF16: PASS parc_kernel_{{[0-9]+}} (elementwise, 25165824 elements (8 lanes, 16-byte)): global loads 1 x 128-bit
# BF16-NOT: FAIL
# BF16: kernel_sass: 6 of 6 elementwise and row kernels of GPT-2 small in bfloat16 load 128 bits at a time and spill nothing (sm_90)
