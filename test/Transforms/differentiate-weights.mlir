// RUN: parc-opt %s -split-input-file -verify-diagnostics -parc-differentiate | FileCheck %s

// With respect to weights: one gradient per weight symbol, named after it, summed over
// its loads (a tied weight used twice); a weight the loss does not reach gets zeros,
// marked unreached (an optimizer leaves it alone);
// integer inputs carry no gradient.
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (tensor<f32>, tensor<4x4xf32> {parc.name = "grad:w"}, tensor<4xf32> {parc.name = "grad:unused", parc.unreached})
// CHECK: %[[D1:.*]] = parc.matmul
// CHECK: %[[D2:.*]] = parc.matmul
// CHECK: %[[SUM:.*]] = parc.add %{{.*}}, %{{.*}} : tensor<4x4xf32>
// CHECK: %[[ZERO:.*]] = parc.constant dense<0.000000e+00> : tensor<4xf32>
// CHECK: return %{{.*}}, %[[SUM]], %[[ZERO]]
parc.weight @w = dense<0.5> : tensor<4x4xf32>
parc.weight @unused = dense<1.0> : tensor<4xf32>
func.func @main(%x: tensor<2x4xf32>) -> tensor<f32> {
  %w1 = parc.load_weight @w : tensor<4x4xf32>
  %h = parc.matmul %x, %w1 : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
  %w2 = parc.load_weight @w : tensor<4x4xf32>
  %o = parc.matmul %h, %w2 : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
  %u = parc.load_weight @unused : tensor<4xf32>
  %loss = parc.reduce_sum %o {axes = array<i64: 0, 1>} : tensor<2x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// An op without a gradient rule on the path from a weight to the loss is an error.
parc.weight @w = dense<0.5> : tensor<4xf32>
func.func @main() -> tensor<f32> {
  %w = parc.load_weight @w : tensor<4xf32>
  // expected-error @+1 {{no gradient rule for 'parc.reduce_max'}}
  %m = parc.reduce_max %w {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %m : tensor<f32>
}

// -----

// expected-error @+1 {{differentiation needs a float first result (the loss)}}
func.func @main(%x: tensor<4xi64>) -> tensor<4xi64> {
  return %x : tensor<4xi64>
}
