// RUN: parc-opt %s -parc-plan-tensor-parallel -parc-partition-tensor-parallel | FileCheck %s
//
// Without any hint, the planner splits an MLP block as Megatron does: the first projection
// and its bias by columns, the second projection by rows, the last bias replicated; the
// partitioned program holds one all-reduce, before the replicated bias, and each rank loads
// half of each matrix. Values that are not replicated record their layout for the passes
// after the partition (the backward pass).
// CHECK-DAG: parc.weight @w1 = {{.*}}{sharding = #parc.sharding<split(1)>}
// CHECK-DAG: parc.weight @b1 = {{.*}}{sharding = #parc.sharding<split(0)>}
// CHECK-DAG: parc.weight @w2 = {{.*}}{sharding = #parc.sharding<split(0)>}
// CHECK-DAG: parc.weight @b2 = dense<1.000000e+00> : tensor<16xf32>{{$}}
// CHECK-LABEL: func.func @main
// CHECK: parc.load_weight @w1 : tensor<16x32xf32>
// CHECK: parc.matmul {{.*}} -> tensor<8x32xf32>
// CHECK: parc.gelu {{.*}} : tensor<8x32xf32>
// CHECK: parc.load_weight @w2 : tensor<32x16xf32>
// CHECK: %[[P:.+]] = parc.matmul {{.*}} {parc.tp_layout = #parc.sharding<partial>} : {{.*}} -> tensor<8x16xf32>
// CHECK: %[[R:.+]] = parc.all_reduce %[[P]] {group = "tp"} : tensor<8x16xf32>
// CHECK: parc.add %[[R]]
// CHECK-NOT: parc.all_
// CHECK-NOT: parc.reduce_scatter
// CHECK: return
module attributes {parc.mesh = {dp = 1 : i64, pp = 1 : i64, tp = 2 : i64}} {
  parc.weight @w1 = dense<1.0> : tensor<16x64xf32>
  parc.weight @b1 = dense<1.0> : tensor<64xf32>
  parc.weight @w2 = dense<1.0> : tensor<64x16xf32>
  parc.weight @b2 = dense<1.0> : tensor<16xf32>
  func.func @main(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    %w1 = parc.load_weight @w1 : tensor<16x64xf32>
    %h = parc.matmul %x, %w1 : tensor<8x16xf32>, tensor<16x64xf32> -> tensor<8x64xf32>
    %b1 = parc.load_weight @b1 : tensor<64xf32>
    %hb = parc.add %h, %b1 : tensor<8x64xf32>, tensor<64xf32> -> tensor<8x64xf32>
    %g = parc.gelu %hb : tensor<8x64xf32>
    %w2 = parc.load_weight @w2 : tensor<64x16xf32>
    %p = parc.matmul %g, %w2 : tensor<8x64xf32>, tensor<64x16xf32> -> tensor<8x16xf32>
    %b2 = parc.load_weight @b2 : tensor<16xf32>
    %y = parc.add %p, %b2 : tensor<8x16xf32>, tensor<16xf32> -> tensor<8x16xf32>
    %r = parc.add %y, %x : tensor<8x16xf32>, tensor<8x16xf32> -> tensor<8x16xf32>
    return %r : tensor<8x16xf32>
  }
}
