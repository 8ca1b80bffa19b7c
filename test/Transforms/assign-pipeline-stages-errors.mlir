// RUN: not parc-opt %s -parc-assign-pipeline-stages=stages=4 2>&1 | FileCheck %s
// A function with fewer ops that do work than stages cannot be cut: a clear error.
// CHECK: error: cannot cut 2 ops with work into 4 pipeline stages
func.func @tiny(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = parc.exp %x : tensor<4xf32>
  %1 = parc.exp %0 : tensor<4xf32>
  return %1 : tensor<4xf32>
}
