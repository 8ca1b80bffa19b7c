// RUN: parc-opt %s -parc-plan-tensor-parallel -parc-partition-tensor-parallel -parc-differentiate | FileCheck %s

// The backward pass of a Megatron MLP block on two tensor-parallel ranks. Forward: a
// replicated scale @s, the column-parallel @w1, the row-parallel @w2 and its all-reduce.
// (The planner moves the all-reduce after the loss's sum: a sum of partial sums.)
// Backward: the all-reduce's gradient passes through unchanged (no collective), the split
// weights get their shards' gradients locally, and the replicated input of the
// column-parallel matmul gets a partial gradient on each rank, all-reduced once (the
// backward of Megatron's f operator) before it reaches @s.
// CHECK-LABEL: func.func @main
// CHECK: %[[LOSS:.*]] = parc.all_reduce {{.*}} : tensor<f32>
// CHECK: %[[DW2:.*]] = parc.matmul {{.*}} -> tensor<32x16xf32>
// CHECK: %[[DX:.*]] = parc.matmul {{.*}} -> tensor<8x16xf32>
// CHECK: %[[DW1:.*]] = parc.matmul {{.*}} -> tensor<16x32xf32>
// CHECK-NOT: parc.all_reduce
// CHECK: %[[SUM:.*]] = parc.all_reduce %[[DX]] {group = "tp"} : tensor<8x16xf32>
// CHECK: %[[DS:.*]] = parc.mul %[[SUM]], %arg0
// CHECK: %[[DSR:.*]] = parc.reduce_sum %[[DS]] {axes = array<i64: 0>} : tensor<8x16xf32> -> tensor<16xf32>
// CHECK: return %[[LOSS]], %[[DSR]], %[[DW1]], %[[DW2]] :
module attributes {parc.mesh = {dp = 1 : i64, pp = 1 : i64, tp = 2 : i64}} {
  parc.weight @s = dense<1.0> : tensor<16xf32>
  parc.weight @w1 = dense<1.0> : tensor<16x64xf32>
  parc.weight @w2 = dense<1.0> : tensor<64x16xf32>
  func.func @main(%x: tensor<8x16xf32>) -> tensor<f32> {
    %s = parc.load_weight @s : tensor<16xf32>
    %xs = parc.mul %x, %s : tensor<8x16xf32>, tensor<16xf32> -> tensor<8x16xf32>
    %w1 = parc.load_weight @w1 : tensor<16x64xf32>
    %h = parc.matmul %xs, %w1 : tensor<8x16xf32>, tensor<16x64xf32> -> tensor<8x64xf32>
    %g = parc.gelu %h : tensor<8x64xf32>
    %w2 = parc.load_weight @w2 : tensor<64x16xf32>
    %y = parc.matmul %g, %w2 : tensor<8x64xf32>, tensor<64x16xf32> -> tensor<8x16xf32>
    %loss = parc.reduce_sum %y {axes = array<i64: 0, 1>} : tensor<8x16xf32> -> tensor<f32>
    return %loss : tensor<f32>
  }
}
