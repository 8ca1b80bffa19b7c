// RUN: parc-opt %s -parc-build-pipeline="stages=2" | FileCheck %s --check-prefix=FREE
// RUN: parc-opt %s -parc-build-pipeline="stages=2 memory-limit=2048" | FileCheck %s
// RUN: not parc-opt %s -parc-build-pipeline="stages=2 memory-limit=1000" 2>&1 | FileCheck %s --check-prefix=TOO-SMALL

// Three cheap layers with a 1 KiB weight each, then a long tail of elementwise work. By
// time alone the best cut puts all three layers and some of the tail in stage 0; under a
// limit of 2 KiB of weights per stage, the third layer moves to stage 1. Under 1000 bytes
// no stage can hold even one weight.
// FREE-LABEL: func.func @stage0
// FREE: parc.load_weight @w2
// FREE-LABEL: func.func @stage1
// CHECK-LABEL: func.func @stage0
// CHECK-NOT: parc.load_weight @w2
// CHECK-LABEL: func.func @stage1
// CHECK: parc.load_weight @w2
// TOO-SMALL: error: the weights do not fit into 2 pipeline stages under the memory limit of 1000 bytes per stage
parc.weight @w0 = dense<1.0> : tensor<16x16xf32>
parc.weight @w1 = dense<1.0> : tensor<16x16xf32>
parc.weight @w2 = dense<1.0> : tensor<16x16xf32>
func.func @main(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %w0 = parc.load_weight @w0 : tensor<16x16xf32>
  %m0 = parc.matmul %x, %w0 : tensor<4x16xf32>, tensor<16x16xf32> -> tensor<4x16xf32>
  %w1 = parc.load_weight @w1 : tensor<16x16xf32>
  %m1 = parc.matmul %m0, %w1 : tensor<4x16xf32>, tensor<16x16xf32> -> tensor<4x16xf32>
  %w2 = parc.load_weight @w2 : tensor<16x16xf32>
  %e0 = parc.matmul %m1, %w2 : tensor<4x16xf32>, tensor<16x16xf32> -> tensor<4x16xf32>
  %e1 = parc.exp %e0 : tensor<4x16xf32>
  %e2 = parc.exp %e1 : tensor<4x16xf32>
  %e3 = parc.exp %e2 : tensor<4x16xf32>
  %e4 = parc.exp %e3 : tensor<4x16xf32>
  %e5 = parc.exp %e4 : tensor<4x16xf32>
  %e6 = parc.exp %e5 : tensor<4x16xf32>
  %e7 = parc.exp %e6 : tensor<4x16xf32>
  %e8 = parc.exp %e7 : tensor<4x16xf32>
  %e9 = parc.exp %e8 : tensor<4x16xf32>
  %e10 = parc.exp %e9 : tensor<4x16xf32>
  %e11 = parc.exp %e10 : tensor<4x16xf32>
  %e12 = parc.exp %e11 : tensor<4x16xf32>
  %e13 = parc.exp %e12 : tensor<4x16xf32>
  %e14 = parc.exp %e13 : tensor<4x16xf32>
  %e15 = parc.exp %e14 : tensor<4x16xf32>
  %e16 = parc.exp %e15 : tensor<4x16xf32>
  %e17 = parc.exp %e16 : tensor<4x16xf32>
  %e18 = parc.exp %e17 : tensor<4x16xf32>
  %e19 = parc.exp %e18 : tensor<4x16xf32>
  %e20 = parc.exp %e19 : tensor<4x16xf32>
  return %e20 : tensor<4x16xf32>
}
