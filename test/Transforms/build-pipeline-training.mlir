// RUN: parc-opt %s -parc-split-microbatches=count=2 -parc-add-loss=loss=mse -parc-differentiate=link-adjoints=true -parc-apply-optimizer="optimizer=sgd lr=0.1" -parc-build-pipeline="stages=2 schedule=1f1b" | FileCheck %s
// RUN: parc-opt %s -parc-split-microbatches=count=2 -parc-add-loss=loss=mse -parc-differentiate=link-adjoints=true -parc-apply-optimizer="optimizer=sgd lr=0.1" -parc-build-pipeline="stages=2 schedule=1f1b recompute=full" | FileCheck %s --check-prefix=FULL
// RUN: parc-opt %s -parc-split-microbatches=count=2 -parc-add-loss=loss=mse -parc-differentiate=link-adjoints=true -parc-apply-optimizer="optimizer=adamw lr=0.1" -parc-build-pipeline="stages=2 schedule=1f1b" | FileCheck %s --check-prefix=ADAM

// The forward pass is cut one layer per stage: w1's matmul and the tanh on stage 0; w2's
// matmul and the loss on stage 1. (The loss gradient's seed, a broadcast of literals, is
// computed where it is used and is not charged to the forward pass's last stage.)

// An optimizer with state cuts the same way: its per-step work on the moments (computed
// from weights alone, after the backward pass in program order) is not charged to the
// forward pass's last chunk (it was, and stage 1 was left with nothing to run).
// ADAM-LABEL: func.func @stage0
// ADAM: parc.matmul {{.*}}parc.chunk = 0 : i64, parc.microbatch = 0 : i64} : tensor<2x8xf32>, tensor<8x8xf32>
// ADAM-NEXT: parc.tanh
// ADAM-LABEL: func.func @stage1
// ADAM: parc.matmul {{.*}}parc.chunk = 1 : i64, parc.microbatch = 0 : i64} : tensor<2x8xf32>, tensor<8x8xf32>
// ADAM: parc.reduce_mean {{.*}}parc.chunk = 1 : i64, parc.microbatch = 0 : i64}

// recompute=full: each stage's backward steps compute its chunk again from what the
// chunk's forward read (stage 0: the microbatch's rows; stage 1: the tanh output it
// received), but only the ops the backward reads. Per step, 2 microbatches x (2 x 2 x 8 x 8
// for the matmul + 16 for tanh on stage 0, + 16 for the loss's subtraction on stage 1) =
// 544 FLOPs each; stage 1 keeps only what it received, one 2x8 f32 (64 bytes) for its one
// microbatch in flight.
// FULL: kept_activation_bytes = [0.000000e+00, 6.400000e+01]
// FULL: recompute = "full", recomputed_flops = [5.440000e+02, 5.440000e+02]
// FULL-LABEL: func.func @stage0
// FULL: %[[X:.*]] = parc.slice %arg0 {{.*}}parc.microbatch = 0
// FULL: %[[M:.*]] = parc.matmul %[[X]], %{{.*}} {parc.backward, parc.chunk = 0 : i64, parc.microbatch = 0 : i64, parc.recomputed}
// FULL-NEXT: %[[T:.*]] = parc.tanh %[[M]] {parc.backward, parc.chunk = 0 : i64, parc.microbatch = 0 : i64, parc.recomputed}
// FULL: parc.mul %[[T]], %[[T]] {parc.backward
// FULL-LABEL: func.func @stage1
// FULL: %[[IN:.*]] = parc.recv_wait %{{.*}} {parc.chunk = 1 : i64, parc.microbatch = 0 : i64}
// FULL: %[[M2:.*]] = parc.matmul %[[IN]], %{{.*}} {parc.backward, parc.chunk = 1 : i64, parc.microbatch = 0 : i64, parc.recomputed}
// FULL-NEXT: parc.sub %[[M2]], %{{.*}} {parc.backward, parc.chunk = 1 : i64, parc.microbatch = 0 : i64, parc.recomputed}
// FULL-NOT: parc.reduce_mean {{.*}}parc.recomputed

// A training step on two stages, two microbatches under 1F1B. Each backward op runs in the
// chunk of the forward op parc-differentiate linked it to. Stage 1 sends each microbatch's
// gradient back as soon as its backward ran; stage 0 runs B0 after F1 (1F1B), adds each
// weight's gradient to its running sum over the microbatches as it comes (the all-reduce
// over the microbatch axis), averages it and updates its weight once. The loss, averaged
// over the microbatches, is stage 1's.
// CHECK: chunk_backward_seconds = [
// CHECK-LABEL: func.func @stage0(%arg0: tensor<4x8xf32>, %arg1: tensor<4x8xf32>)
// CHECK-SAME: parc.outputs = array<i64>
// CHECK: parc.matmul {{.*}}parc.chunk = 0 : i64, parc.microbatch = 0 : i64}
// CHECK-NEXT: %[[T0:.*]] = parc.tanh
// CHECK-NEXT: parc.send %[[T0]] {parc.chunk = 0 : i64, parc.microbatch = 0 : i64, stage = 1 : i64, tag = 0 : i64}
// CHECK: parc.matmul {{.*}}parc.chunk = 0 : i64, parc.microbatch = 1 : i64}
// CHECK: %[[G0:.*]] = parc.recv_wait %{{.*}} {parc.backward, parc.chunk = 0 : i64, parc.microbatch = 0 : i64}
// CHECK: %[[D0:.*]] = parc.mul %[[G0]], %{{.*}} {parc.backward, parc.chunk = 0 : i64, parc.microbatch = 0 : i64}
// CHECK: %[[DW1_0:.*]] = parc.matmul %{{.*}}, %[[D0]] {parc.backward, parc.chunk = 0 : i64, parc.microbatch = 0 : i64} : tensor<8x2xf32>, tensor<2x8xf32> -> tensor<8x8xf32>
// CHECK: %[[G1:.*]] = parc.recv_wait %{{.*}} {parc.backward, parc.chunk = 0 : i64, parc.microbatch = 1 : i64}
// CHECK: %[[D1:.*]] = parc.mul %[[G1]], %{{.*}} {parc.backward, parc.chunk = 0 : i64, parc.microbatch = 1 : i64}
// CHECK: %[[DW1_1:.*]] = parc.matmul %{{.*}}, %[[D1]] {parc.backward, parc.chunk = 0 : i64, parc.microbatch = 1 : i64}
// CHECK-NOT: parc.adjoint_of
// CHECK: parc.add %[[DW1_0]], %[[DW1_1]] : tensor<8x8xf32>
// CHECK-NOT: parc.matmul
// CHECK: parc.assign_weight @w1 =
// CHECK-NOT: parc.assign_weight
// CHECK: return
// CHECK-LABEL: func.func @stage1(%arg0: tensor<4x8xf32>, %arg1: tensor<4x8xf32>) -> tensor<f32>
// CHECK-SAME: parc.outputs = array<i64: 0>
// CHECK: parc.matmul {{.*}}parc.chunk = 1 : i64, parc.microbatch = 0 : i64}
// CHECK: %[[L0:.*]] = parc.reduce_mean {{.*}}parc.chunk = 1 : i64, parc.microbatch = 0 : i64}
// CHECK: parc.send {{.*}}{parc.backward, parc.chunk = 1 : i64, parc.microbatch = 0 : i64, stage = 0 : i64, tag = 2 : i64}
// CHECK: %[[L1:.*]] = parc.reduce_mean {{.*}}parc.chunk = 1 : i64, parc.microbatch = 1 : i64}
// CHECK-NEXT: %[[SUM:.*]] = parc.add %[[L0]], %[[L1]]
// CHECK: parc.send {{.*}}{parc.backward, parc.chunk = 1 : i64, parc.microbatch = 1 : i64, stage = 0 : i64, tag = 3 : i64}
// CHECK: %[[MEAN:.*]] = parc.mul %[[SUM]]
// CHECK-NOT: parc.assign_weight @w1
// CHECK: parc.assign_weight @w2 =
// CHECK: return %[[MEAN]] : tensor<f32>
// CHECK: func.func private @main(tensor<4x8xf32> {{{.*}}parc.name = "x"}, tensor<4x8xf32> {{{.*}}parc.name = "labels"}) -> (tensor<f32> {parc.name = "loss"})
module {
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
