// RUN: parc-opt %s -split-input-file -verify-diagnostics -parc-split-microbatches=count=2 | FileCheck %s

// The batch (dim 0 of the first input) is split in two: every value takes the shape of one
// microbatch, a [1, 8] input without the batch stays whole, and a literal of the whole
// batch that meets the split activations is sliced per microbatch.
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %arg0: tensor<2x8xf32> {parc.microbatch_layout = #parc.sharding<split(0)>}
// CHECK-SAME: %arg1: tensor<1x8xf32> {parc.microbatch_layout = #parc.sharding<replicated>}
// CHECK-SAME: -> (tensor<2x8xf32> {parc.microbatch_layout = #parc.sharding<split(0)>})
// CHECK-SAME: parc.microbatches = 2 : i64
// CHECK-SAME: parc.whole_batch_type = (tensor<4x8xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
// CHECK: %[[MASK:.*]] = parc.constant dense<1.000000e+00> : tensor<4x8xf32>
// CHECK: parc.add %arg0, %arg1 : tensor<2x8xf32>, tensor<1x8xf32> -> tensor<2x8xf32>
// CHECK: %[[ROWS:.*]] = parc.shard_slice %[[MASK]] {axis = 0 : i64, group = "microbatch", groups = 1 : i64} : tensor<4x8xf32> -> tensor<2x8xf32>
// CHECK: parc.mul {{.*}}, %[[ROWS]] : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
func.func @main(%x: tensor<4x8xf32>, %position: tensor<1x8xf32>) -> tensor<4x8xf32> {
  %mask = parc.constant dense<1.0> : tensor<4x8xf32>
  %0 = parc.add %x, %position : tensor<4x8xf32>, tensor<1x8xf32> -> tensor<4x8xf32>
  %1 = parc.mul %0, %mask : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

// -----

// A sum over the batch mixes samples: no microbatch can compute its part alone.
func.func @main(%x: tensor<4x8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{cannot split the batch (microbatches): 'parc.reduce_sum' needs operand #0 whole across the batch (it mixes samples)}}
  %0 = parc.reduce_sum %x {axes = array<i64: 0>} : tensor<4x8xf32> -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// expected-error @+1 {{--microbatches=2 does not divide the batch of 3 (dim 0 of input '#0')}}
func.func @main(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %0 = parc.relu %x : tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}
