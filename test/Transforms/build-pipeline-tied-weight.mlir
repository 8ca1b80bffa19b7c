// RUN: parc-opt %s -parc-split-microbatches=count=2 -parc-add-loss=loss=mse -parc-differentiate=link-adjoints=true -parc-apply-optimizer="optimizer=sgd lr=0.1" -parc-build-pipeline="stages=2 schedule=1f1b" | FileCheck %s

// A weight read on two stages (w: the first and the last matmul, as GPT-2's tied embedding
// is read by the first and the last stage). Each stage sums its own part of w's gradient
// over the microbatches, and the two partial sums cross once per step, after the last
// backward pass: no part of w's gradient is sent per microbatch. (Sent per microbatch, it
// would be read only by the other stage's last backward steps, and a sender waiting for
// its receiver to take it stalls the interleaved schedule.) Both stages add the same two
// sums and so update w alike.

// CHECK-LABEL: func.func @stage0
// CHECK-NOT: parc.send {{.*}}parc.microbatch{{.*}} : tensor<8x8xf32>
// CHECK: parc.send %[[MINE0:[0-9]+]] {stage = 1 : i64, tag = [[TO1:[0-9]+]] : i64} : tensor<8x8xf32>
// CHECK: %[[POSTED0:.*]] = parc.recv {stage = 1 : i64, tag = [[TO0:[0-9]+]] : i64} : tensor<8x8xf32>
// CHECK: %[[THEIRS0:.*]] = parc.recv_wait %[[POSTED0]] : tensor<8x8xf32>
// CHECK: parc.add %[[THEIRS0]], %[[MINE0]] : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
// CHECK: parc.assign_weight @w =
// CHECK: parc.assign_weight @v =
// CHECK-LABEL: func.func @stage1
// CHECK-NOT: parc.send {{.*}}parc.microbatch{{.*}} : tensor<8x8xf32>
// CHECK: parc.send %[[MINE1:[0-9]+]] {stage = 0 : i64, tag = [[TO0]] : i64} : tensor<8x8xf32>
// CHECK: %[[POSTED1:.*]] = parc.recv {stage = 0 : i64, tag = [[TO1]] : i64} : tensor<8x8xf32>
// CHECK: %[[THEIRS1:.*]] = parc.recv_wait %[[POSTED1]] : tensor<8x8xf32>
// CHECK: parc.add %[[MINE1]], %[[THEIRS1]] : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
// CHECK: parc.assign_weight @w =
// CHECK-NOT: parc.assign_weight @v
// CHECK: return
module {
  parc.weight @w = dense<0.5> : tensor<8x8xf32>
  parc.weight @v = dense<0.25> : tensor<8x8xf32>
  func.func @main(%x: tensor<4x8xf32> {parc.name = "x"}) -> tensor<4x8xf32> {
    %0 = parc.load_weight @w : tensor<8x8xf32>
    %1 = parc.matmul %x, %0 : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
    %2 = parc.tanh %1 : tensor<4x8xf32>
    %3 = parc.load_weight @v : tensor<8x8xf32>
    %4 = parc.matmul %2, %3 : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
    %5 = parc.tanh %4 : tensor<4x8xf32>
    %6 = parc.matmul %5, %0 : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
    return %6 : tensor<4x8xf32>
  }
}
