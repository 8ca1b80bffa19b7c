// RUN: parc-opt %s -split-input-file -parc-add-loss=loss=cross_entropy -parc-differentiate -parc-apply-optimizer="optimizer=adamw lr=0.01 weight-decay=0.1" | FileCheck %s
// RUN: parc-opt %s -split-input-file -parc-add-loss=loss=mse -parc-differentiate -parc-apply-optimizer="optimizer=sgd lr=0.1 momentum=0.9" | FileCheck %s --check-prefix=SGD

// Cross-entropy adds int64 labels shaped like the logits without the class dim and returns
// the loss alone; AdamW keeps zero-initialized moments and a step count as weights and
// writes every reached weight back; @w2 does not reach the loss and is left alone.
// CHECK: parc.weight @optimizer.step = dense<0.000000e+00> : tensor<f32> {parc.optimizer_state}
// CHECK: parc.weight @w.exp_avg = dense<0.000000e+00> : tensor<4x3xf32> {parc.optimizer_state, parc.state_of = "w"}
// CHECK: parc.weight @w.exp_avg_sq = dense<0.000000e+00> : tensor<4x3xf32> {parc.optimizer_state, parc.state_of = "w"}
// CHECK-LABEL: func.func @main
// CHECK-SAME: %arg1: tensor<2xi64> {parc.name = "labels"}
// CHECK-SAME: -> (tensor<f32> {parc.name = "loss"})
// CHECK-SAME: parc.training
// CHECK: parc.log_softmax
// CHECK: parc.assign_weight @optimizer.step =
// CHECK: parc.assign_weight @w.exp_avg =
// CHECK: parc.assign_weight @w.exp_avg_sq =
// CHECK: parc.assign_weight @w =
// CHECK-NOT: parc.assign_weight @w2
// CHECK: return %{{.*}} : tensor<f32>
// SGD: parc.weight @w.momentum_buffer = dense<0.000000e+00> : tensor<4x3xf32> {parc.optimizer_state, parc.state_of = "w"}
// SGD-LABEL: func.func @main
// SGD-SAME: %arg1: tensor<2x3xf32> {parc.name = "labels"}
// SGD: parc.assign_weight @w.momentum_buffer =
// SGD: parc.assign_weight @w =
// SGD-NOT: optimizer.step
parc.weight @w = dense<0.5> : tensor<4x3xf32>
parc.weight @w2 = dense<0.5> : tensor<3xf32>
func.func @main(%x: tensor<2x4xf32> {parc.name = "x"}) -> (tensor<2x3xf32> {parc.name = "logits"}) {
  %w = parc.load_weight @w : tensor<4x3xf32>
  %y = parc.matmul %x, %w : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
  %w2 = parc.load_weight @w2 : tensor<3xf32>
  return %y : tensor<2x3xf32>
}
