// RUN: parc-opt %s -parc-add-loss=loss=mse -parc-differentiate -parc-apply-optimizer="optimizer=sgd lr=0.1 bucket-bytes=256" | FileCheck %s
// RUN: parc-opt %s -parc-add-loss=loss=mse -parc-differentiate -parc-apply-optimizer="optimizer=sgd lr=0.1 bucket-bytes=0" | FileCheck %s --check-prefix=BLOCKING

// Data parallelism over 2 ranks: the backward pass completes w2's gradient (256 bytes, a
// bucket of its own) before w1's, so w2's all-reduce starts right after it and runs while
// w1's gradient is computed; the buckets are finished before the updates, which average
// (x 0.5). With bucket-bytes=0 each gradient gets a blocking all-reduce after the backward.
// CHECK-LABEL: func.func @main
// CHECK: %[[G2:.*]] = parc.matmul %{{.*}} : tensor<8x4xf32>, tensor<4x8xf32> -> tensor<8x8xf32>
// CHECK-NEXT: %[[F2:.*]] = parc.reshape %[[G2]] : tensor<8x8xf32> -> tensor<64xf32>
// CHECK-NEXT: %[[S2:.*]] = parc.all_reduce_start %[[F2]] {group = "dp", tag = 0 : i64} : tensor<64xf32>
// CHECK: %[[G1:.*]] = parc.matmul %{{.*}} : tensor<8x4xf32>, tensor<4x8xf32> -> tensor<8x8xf32>
// CHECK-NEXT: %[[F1:.*]] = parc.reshape %[[G1]]
// CHECK-NEXT: %[[S1:.*]] = parc.all_reduce_start %[[F1]] {group = "dp", tag = 1 : i64}
// CHECK: parc.all_reduce_wait %[[S2]] {group = "dp", tag = 0 : i64} : tensor<64xf32>
// CHECK: parc.all_reduce_wait %[[S1]] {group = "dp", tag = 1 : i64} : tensor<64xf32>
// CHECK: parc.assign_weight @w1
// CHECK: parc.assign_weight @w2
// BLOCKING-NOT: all_reduce_start
// BLOCKING: parc.all_reduce %{{.*}} {group = "dp"} : tensor<8x8xf32>
// BLOCKING: parc.all_reduce %{{.*}} {group = "dp"} : tensor<8x8xf32>
module attributes {parc.mesh = {dp = 2 : i64, pp = 1 : i64, tp = 1 : i64}} {
  parc.weight @w1 = dense<0.5> : tensor<8x8xf32>
  parc.weight @w2 = dense<0.25> : tensor<8x8xf32>
  func.func @main(%x: tensor<4x8xf32> {parc.name = "x"}) -> tensor<4x8xf32> {
    %0 = parc.load_weight @w1 : tensor<8x8xf32>
    %1 = parc.matmul %x, %0 : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
    %2 = parc.tanh %1 : tensor<4x8xf32>
    %3 = parc.load_weight @w2 : tensor<8x8xf32>
    %4 = parc.matmul %2, %3 : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
    return %4 : tensor<4x8xf32>
  }
}
