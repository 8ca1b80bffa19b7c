// RUN: parc-opt %s -split-input-file -parc-differentiate=wrt=arguments | FileCheck %s

// One function per gradient rule: loss = sum(op(...)); the CHECK lines pin the backward
// ops each rule builds. test/Execution/gradients.py checks the same rules numerically
// against torch.autograd.

// add: the broadcast operand's gradient is summed back to its shape
// CHECK-LABEL: func.func @main
// CHECK: %[[G:.*]] = parc.broadcast_to
// CHECK: parc.reduce_sum %[[G]] {axes = array<i64: 0>} : tensor<2x3xf32> -> tensor<3xf32>
func.func @main(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<f32> {
  %y = parc.add %a, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// sub: the subtrahend gets the negated gradient
// CHECK-LABEL: func.func @main
// CHECK: %[[G:.*]] = parc.broadcast_to
// CHECK: parc.neg %[[G]]
func.func @main(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<f32> {
  %y = parc.sub %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// mul: each operand's gradient is g times the other
// CHECK-LABEL: func.func @main
// CHECK: %[[G:.*]] = parc.broadcast_to
// CHECK-DAG: parc.mul %[[G]], %arg1
// CHECK-DAG: parc.mul %[[G]], %arg0
func.func @main(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<f32> {
  %y = parc.mul %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// div: da = g / b, db = -(g * y) / b
// CHECK-LABEL: func.func @main
// CHECK: %[[Y:.*]] = parc.div %arg0, %arg1
// CHECK: %[[G:.*]] = parc.broadcast_to
// CHECK: parc.div %[[G]], %arg1
// CHECK: %[[GY:.*]] = parc.mul %[[G]], %[[Y]]
// CHECK: parc.neg
func.func @main(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<f32> {
  %y = parc.div %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// pow: da = g * p * a^(p - 1), dp = g * y * log(a)
// CHECK-LABEL: func.func @main
// CHECK: parc.sub %arg1
// CHECK: parc.pow %arg0
// CHECK: parc.log %arg0
// CHECK: parc.reduce_sum {{.*}} -> tensor<f32>
func.func @main(%a: tensor<4xf32>, %b: tensor<f32>) -> tensor<f32> {
  %y = parc.pow %a, %b : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// neg
// CHECK-LABEL: func.func @main
// CHECK: %[[G:.*]] = parc.broadcast_to
// CHECK: parc.neg %[[G]]
func.func @main(%a: tensor<4xf32>) -> tensor<f32> {
  %y = parc.neg %a : tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// relu: the gradient passes where the input is positive
// CHECK-LABEL: func.func @main
// CHECK: %[[POS:.*]] = parc.greater %arg0
// CHECK: parc.select %[[POS]]
func.func @main(%a: tensor<4xf32>) -> tensor<f32> {
  %y = parc.relu %a : tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// exp: g * y
// CHECK-LABEL: func.func @main
// CHECK: %[[Y:.*]] = parc.exp %arg0
// CHECK: parc.mul {{.*}}, %[[Y]]
func.func @main(%a: tensor<4xf32>) -> tensor<f32> {
  %y = parc.exp %a : tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// log: g / x
// CHECK-LABEL: func.func @main
// CHECK: parc.div {{.*}}, %arg0
func.func @main(%a: tensor<4xf32>) -> tensor<f32> {
  %y = parc.log %a : tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// sqrt: g * 0.5 / y
// CHECK-LABEL: func.func @main
// CHECK: %[[Y:.*]] = parc.sqrt %arg0
// CHECK: parc.constant dense<5.000000e-01>
// CHECK: parc.div {{.*}}, %[[Y]]
func.func @main(%a: tensor<4xf32>) -> tensor<f32> {
  %y = parc.sqrt %a : tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// reciprocal: -g * y * y
// CHECK-LABEL: func.func @main
// CHECK: %[[Y:.*]] = parc.reciprocal %arg0
// CHECK: parc.mul {{.*}}, %[[Y]]
// CHECK: parc.neg
func.func @main(%a: tensor<4xf32>) -> tensor<f32> {
  %y = parc.reciprocal %a : tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// tanh: g * (1 - y^2)
// CHECK-LABEL: func.func @main
// CHECK: %[[Y:.*]] = parc.tanh %arg0
// CHECK: parc.mul %[[Y]], %[[Y]]
// CHECK: parc.sub
func.func @main(%a: tensor<4xf32>) -> tensor<f32> {
  %y = parc.tanh %a : tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// sigmoid: g * y * (1 - y)
// CHECK-LABEL: func.func @main
// CHECK: %[[Y:.*]] = parc.sigmoid %arg0
// CHECK: parc.sub {{.*}}, %[[Y]]
func.func @main(%a: tensor<4xf32>) -> tensor<f32> {
  %y = parc.sigmoid %a : tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// sin: g * cos(x)
// CHECK-LABEL: func.func @main
// CHECK: parc.cos %arg0
func.func @main(%a: tensor<4xf32>) -> tensor<f32> {
  %y = parc.sin %a : tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// cos: -g * sin(x)
// CHECK-LABEL: func.func @main
// CHECK: parc.sin %arg0
// CHECK: parc.neg
func.func @main(%a: tensor<4xf32>) -> tensor<f32> {
  %y = parc.cos %a : tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// erf: g * 2 / sqrt(pi) * exp(-x^2)
// CHECK-LABEL: func.func @main
// CHECK: parc.mul %arg0, %arg0
// CHECK: parc.exp
// CHECK: parc.constant dense<1.12837
func.func @main(%a: tensor<4xf32>) -> tensor<f32> {
  %y = parc.erf %a : tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// gelu: Phi(x) + x phi(x)
// CHECK-LABEL: func.func @main
// CHECK: parc.erf
// CHECK: parc.exp
func.func @main(%a: tensor<4xf32>) -> tensor<f32> {
  %y = parc.gelu %a : tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// gelu with the tanh approximation
// CHECK-LABEL: func.func @main
// CHECK: parc.tanh
// CHECK-NOT: parc.erf
func.func @main(%a: tensor<4xf32>) -> tensor<f32> {
  %y = parc.gelu %a {tanh_approximation} : tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// select: each branch gets the gradient where it was chosen
// CHECK-LABEL: func.func @main
// CHECK: %[[G:.*]] = parc.broadcast_to
// CHECK: %[[Z:.*]] = parc.constant dense<0.000000e+00> : tensor<4xf32>
// CHECK-DAG: parc.select %arg0, %[[G]], %[[Z]]
// CHECK-DAG: parc.select %arg0, %[[Z]], %[[G]]
func.func @main(%c: tensor<4xi1>, %a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<f32> {
  %y = parc.select %c, %a, %b : tensor<4xi1>, tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// convert: the gradient converts back to the input's type
// CHECK-LABEL: func.func @main
// CHECK: parc.convert {{.*}} : tensor<4xf32> -> tensor<4xf16>
func.func @main(%a: tensor<4xf16>) -> tensor<f32> {
  %h = parc.convert %a : tensor<4xf16> -> tensor<4xf32>
  %y = parc.exp %h : tensor<4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// matmul: da = g b^T, db = a^T g; a broadcast batch is summed back
// CHECK-LABEL: func.func @main
// CHECK: %[[BT:.*]] = parc.transpose %arg1, [1, 0] : tensor<4x5xf32> -> tensor<5x4xf32>
// CHECK: parc.matmul %{{.*}}, %[[BT]] : tensor<2x3x5xf32>, tensor<5x4xf32> -> tensor<2x3x4xf32>
// CHECK: %[[AT:.*]] = parc.transpose %arg0, [0, 2, 1]
// CHECK: %[[DB:.*]] = parc.matmul %[[AT]], %{{.*}} : tensor<2x4x3xf32>, tensor<2x3x5xf32> -> tensor<2x4x5xf32>
// CHECK: parc.reduce_sum %[[DB]] {axes = array<i64: 0>} : tensor<2x4x5xf32> -> tensor<4x5xf32>
func.func @main(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>) -> tensor<f32> {
  %y = parc.matmul %a, %b : tensor<2x3x4xf32>, tensor<4x5xf32> -> tensor<2x3x5xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0, 1, 2>} : tensor<2x3x5xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// reduce_sum: the gradient is spread back over the reduced axes
// CHECK-LABEL: func.func @main
// CHECK: %[[K:.*]] = parc.reshape %{{.*}} : tensor<2xf32> -> tensor<2x1xf32>
// CHECK: parc.broadcast_to %[[K]] : tensor<2x1xf32> -> tensor<2x3xf32>
func.func @main(%a: tensor<2x3xf32>) -> tensor<f32> {
  %y = parc.reduce_sum %a {axes = array<i64: 1>} : tensor<2x3xf32> -> tensor<2xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0>} : tensor<2xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// reduce_mean: spread and divided by the count
// CHECK-LABEL: func.func @main
// CHECK: parc.broadcast_to {{.*}} -> tensor<2x3xf32>
// CHECK: parc.constant dense<0.166666
func.func @main(%a: tensor<2x3xf32>) -> tensor<f32> {
  %y = parc.reduce_mean %a {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
  %loss = parc.neg %y : tensor<f32>
  return %loss : tensor<f32>
}

// -----

// softmax: y * (g - sum(g * y))
// CHECK-LABEL: func.func @main
// CHECK: %[[Y:.*]] = parc.softmax %arg0
// CHECK: parc.reduce_sum {{.*}} {axes = array<i64: 1>, keep_dims} : tensor<2x5xf32> -> tensor<2x1xf32>
// CHECK: parc.mul %[[Y]]
func.func @main(%a: tensor<2x5xf32>) -> tensor<f32> {
  %y = parc.softmax %a {axis = 1 : i64} : tensor<2x5xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0, 1>} : tensor<2x5xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// log_softmax: g - exp(y) * sum(g)
// CHECK-LABEL: func.func @main
// CHECK: %[[Y:.*]] = parc.log_softmax %arg0
// CHECK: parc.exp %[[Y]]
func.func @main(%a: tensor<2x5xf32>) -> tensor<f32> {
  %y = parc.log_softmax %a {axis = 1 : i64} : tensor<2x5xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0, 1>} : tensor<2x5xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// reshape: reshaped back
// CHECK-LABEL: func.func @main
// CHECK: parc.reshape {{.*}} : tensor<3x4xf32> -> tensor<2x6xf32>
func.func @main(%a: tensor<2x6xf32>) -> tensor<f32> {
  %y = parc.reshape %a : tensor<2x6xf32> -> tensor<3x4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0, 1>} : tensor<3x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// transpose: the inverse permutation
// CHECK-LABEL: func.func @main
// CHECK: parc.transpose {{.*}}, [1, 2, 0] : tensor<4x2x3xf32> -> tensor<2x3x4xf32>
func.func @main(%a: tensor<2x3x4xf32>) -> tensor<f32> {
  %y = parc.transpose %a, [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0, 1, 2>} : tensor<4x2x3xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// broadcast_to: summed over the broadcast dims
// CHECK-LABEL: func.func @main
// CHECK: parc.reduce_sum {{.*}} {axes = array<i64: 0, 2>} : tensor<2x3x4xf32> -> tensor<3xf32>
// CHECK: parc.reshape {{.*}} : tensor<3xf32> -> tensor<3x1xf32>
func.func @main(%a: tensor<3x1xf32>) -> tensor<f32> {
  %y = parc.broadcast_to %a : tensor<3x1xf32> -> tensor<2x3x4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0, 1, 2>} : tensor<2x3x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// concat: each input gets its slice
// CHECK-LABEL: func.func @main
// CHECK-DAG: parc.slice {{.*}}limit_indices = array<i64: 2, 3>, start_indices = array<i64: 0, 0>{{.*}} -> tensor<2x3xf32>
// CHECK-DAG: parc.slice {{.*}}limit_indices = array<i64: 2, 4>, start_indices = array<i64: 0, 3>{{.*}} -> tensor<2x1xf32>
func.func @main(%a: tensor<2x3xf32>, %b: tensor<2x1xf32>) -> tensor<f32> {
  %y = parc.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0, 1>} : tensor<2x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// slice: zeros around the slice, dim by dim
// CHECK-LABEL: func.func @main
// CHECK: parc.constant dense<0.000000e+00> : tensor<1x6xf32>
// CHECK: parc.concat {{.*}} {axis = 0 : i64} : (tensor<1x6xf32>, tensor<2x6xf32>, tensor<1x6xf32>) -> tensor<4x6xf32>
func.func @main(%a: tensor<4x6xf32>) -> tensor<f32> {
  %y = parc.slice %a {start_indices = array<i64: 1, 0>, limit_indices = array<i64: 3, 6>, strides = array<i64: 1, 1>} : tensor<4x6xf32> -> tensor<2x6xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0, 1>} : tensor<2x6xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// gather: the table's gradient is a scatter_add at the indices
// CHECK-LABEL: func.func @main
// CHECK: parc.scatter_add {{.*}}[%arg1] {axis = 0 : i64} : tensor<2x4x3xf32>, tensor<2x4xi64> -> tensor<5x3xf32>
func.func @main(%a: tensor<5x3xf32>, %ids: tensor<2x4xi64>) -> tensor<f32> {
  %y = parc.gather %a[%ids] {axis = 0 : i64} : tensor<5x3xf32>, tensor<2x4xi64> -> tensor<2x4x3xf32>
  %loss = parc.reduce_sum %y {axes = array<i64: 0, 1, 2>} : tensor<2x4x3xf32> -> tensor<f32>
  return %loss : tensor<f32>
}
