// RUN: parc-opt %s -parc-split-microbatches=count=2 -parc-add-loss=loss=mse -parc-differentiate=link-adjoints=true -parc-apply-optimizer="optimizer=sgd lr=0.1" -parc-build-pipeline="stages=2 schedule=1f1b" | FileCheck %s
// RUN: parc-opt %s -parc-split-microbatches=count=2 -parc-add-loss=loss=mse -parc-differentiate=link-adjoints=true -parc-apply-optimizer="optimizer=sgd lr=0.1" -parc-build-pipeline="stages=2 schedule=1f1b recompute=full" | FileCheck %s --check-prefix=FULL
// RUN: parc-opt %s -parc-split-microbatches=count=2 -parc-add-loss=loss=mse -parc-differentiate=link-adjoints=true -parc-apply-optimizer="optimizer=adamw lr=0.1" -parc-build-pipeline="stages=2 schedule=1f1b" | FileCheck %s --check-prefix=ADAM

// An optimizer with state cuts the same way: its per-step work on the moments (computed
// from weights alone, after the backward pass in program order) is not charged to the
// forward pass's last chunk (it was, and stage 1 was left with nothing to run).
// ADAM-LABEL: func.func @stage0
// ADAM: parc.matmul {{.*}}parc.chunk = 0 : i64, parc.microbatch = 0 : i64}
// ADAM-LABEL: func.func @stage1
// ADAM: parc.reduce_mean {{.*}}parc.chunk = 1 : i64, parc.microbatch = 0 : i64}

// recompute=full: stage 0's backward steps compute the tanh layer again from the
// microbatch's rows (what the backward reads: the tanh output for w2's gradient and the
// first matmul's input for w1's); the second matmul, whose output only stage 1 reads
// (received), is not recomputed. The backward matmul reads the copy. Per step: 2
// microbatches x (2 x 2 x 8 x 8 for the matmul + 16 for tanh) = 544 FLOPs; stage 1
// recomputes the loss's subtraction (2 x 16 FLOPs: its gradient reads the difference) and
// keeps only what it received, one 2x8 f32 (64 bytes) for its one microbatch in flight.
// FULL: kept_activation_bytes = [0.000000e+00, 6.400000e+01]
// FULL: recompute = "full", recomputed_flops = [5.440000e+02, 3.200000e+01]
// FULL-LABEL: func.func @stage0
// FULL: %[[X:.*]] = parc.slice %arg0 {{.*}}parc.microbatch = 0
// FULL: %[[M:.*]] = parc.matmul %[[X]], %{{.*}} {parc.backward, parc.chunk = 0 : i64, parc.microbatch = 0 : i64, parc.recomputed}
// FULL-NEXT: %[[T:.*]] = parc.tanh %[[M]] {parc.backward, parc.chunk = 0 : i64, parc.microbatch = 0 : i64, parc.recomputed}
// FULL-NOT: parc.recomputed
// FULL: parc.transpose %[[T]]

// A training step on two stages, two microbatches under 1F1B. The forward pass is cut
// (both layers on stage 0, the loss on stage 1: at this size, sending a tensor costs more
// modelled time than the second layer's work); each backward op runs in the chunk of the
// forward op parc-differentiate linked it to. Stage 1 sends each microbatch's gradient
// back as soon as its backward ran; stage 0 runs B0 after F1 (1F1B), adds each weight's
// gradient to its running sum over the microbatches as it comes (the all-reduce over the
// microbatch axis), averages it and updates its weights once. The loss, averaged over the microbatches, is stage 1's.
// CHECK: chunk_backward_seconds = [
// CHECK-LABEL: func.func @stage0(%arg0: tensor<4x8xf32>, %arg1: tensor<4x8xf32>)
// CHECK-SAME: parc.outputs = array<i64>
// CHECK: parc.matmul {{.*}}parc.chunk = 0 : i64, parc.microbatch = 0 : i64}
// CHECK: parc.send %[[F0:.*]] {parc.chunk = 0 : i64, parc.microbatch = 0 : i64, stage = 1 : i64, tag = 0 : i64}
// CHECK: parc.matmul {{.*}}parc.chunk = 0 : i64, parc.microbatch = 1 : i64}
// CHECK: %[[G0:.*]] = parc.recv_wait %{{.*}} {parc.backward, parc.chunk = 0 : i64, parc.microbatch = 0 : i64}
// CHECK: %[[DW2_0:.*]] = parc.matmul %{{.*}}, %[[G0]] {parc.backward, parc.chunk = 0 : i64, parc.microbatch = 0 : i64} : tensor<8x2xf32>, tensor<2x8xf32> -> tensor<8x8xf32>
// CHECK: %[[G1:.*]] = parc.recv_wait %{{.*}} {parc.backward, parc.chunk = 0 : i64, parc.microbatch = 1 : i64}
// CHECK: %[[DW2_1:.*]] = parc.matmul %{{.*}}, %[[G1]] {parc.backward, parc.chunk = 0 : i64, parc.microbatch = 1 : i64}
// CHECK-NOT: parc.adjoint_of
// CHECK: parc.add %[[DW2_0]], %[[DW2_1]] : tensor<8x8xf32>
// CHECK-NOT: parc.matmul
// CHECK: parc.assign_weight @w1 =
// CHECK: parc.assign_weight @w2 =
// CHECK: return
// CHECK-LABEL: func.func @stage1(%arg0: tensor<4x8xf32>, %arg1: tensor<4x8xf32>) -> tensor<f32>
// CHECK-SAME: parc.outputs = array<i64: 0>
// CHECK: %[[L0:.*]] = parc.reduce_mean {{.*}}parc.chunk = 1 : i64, parc.microbatch = 0 : i64}
// CHECK: parc.send {{.*}}{parc.backward, parc.chunk = 1 : i64, parc.microbatch = 0 : i64, stage = 0 : i64, tag = 2 : i64}
// CHECK: %[[L1:.*]] = parc.reduce_mean {{.*}}parc.chunk = 1 : i64, parc.microbatch = 1 : i64}
// CHECK-NEXT: %[[SUM:.*]] = parc.add %[[L0]], %[[L1]]
// CHECK: parc.send {{.*}}{parc.backward, parc.chunk = 1 : i64, parc.microbatch = 1 : i64, stage = 0 : i64, tag = 3 : i64}
// CHECK-NOT: parc.assign_weight
// CHECK: %[[MEAN:.*]] = parc.mul %[[SUM]]
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
