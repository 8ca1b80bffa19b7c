// RUN: parc-opt %s -split-input-file -parc-fuse | FileCheck %s
// RUN: parc-opt %s -split-input-file -parc-fuse -parc-inline-fused | FileCheck %s --check-prefix=INLINE

// A residual add and the layer norm after it: one row group (two reductions over the last
// dim, the per-row variance arithmetic, scale and shift), returning the residual sum too.
// CHECK-LABEL: func.func @residual_layer_norm
// CHECK: %[[E:.*]] = parc.constant
// CHECK-NEXT: %[[F:.*]]:2 = parc.fused "row"(%arg0, %arg1, %[[E]], %arg2, %arg3)
// CHECK: parc.reduce_mean
// CHECK: parc.reduce_mean
// CHECK: parc.reciprocal
// CHECK: parc.yield
// CHECK-NEXT: }
// CHECK-NEXT: return %[[F]]#0, %[[F]]#1
// INLINE-LABEL: func.func @residual_layer_norm
// INLINE-NOT: parc.fused
// INLINE: parc.add %arg0, %arg1
// INLINE: parc.reduce_mean
func.func @residual_layer_norm(%x: tensor<2x8x16xf32>, %r: tensor<2x8x16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) -> (tensor<2x8x16xf32>, tensor<2x8x16xf32>) {
  %eps = parc.constant dense<1.0e-5> : tensor<f32>
  %h = parc.add %x, %r : tensor<2x8x16xf32>, tensor<2x8x16xf32> -> tensor<2x8x16xf32>
  %mean = parc.reduce_mean %h {axes = array<i64: 2>, keep_dims} : tensor<2x8x16xf32> -> tensor<2x8x1xf32>
  %c = parc.sub %h, %mean : tensor<2x8x16xf32>, tensor<2x8x1xf32> -> tensor<2x8x16xf32>
  %sq = parc.mul %c, %c : tensor<2x8x16xf32>, tensor<2x8x16xf32> -> tensor<2x8x16xf32>
  %var = parc.reduce_mean %sq {axes = array<i64: 2>, keep_dims} : tensor<2x8x16xf32> -> tensor<2x8x1xf32>
  %ve = parc.add %var, %eps : tensor<2x8x1xf32>, tensor<f32> -> tensor<2x8x1xf32>
  %sd = parc.sqrt %ve : tensor<2x8x1xf32>
  %inv = parc.reciprocal %sd : tensor<2x8x1xf32>
  %n = parc.mul %c, %inv : tensor<2x8x16xf32>, tensor<2x8x1xf32> -> tensor<2x8x16xf32>
  %s = parc.mul %n, %g : tensor<2x8x16xf32>, tensor<16xf32> -> tensor<2x8x16xf32>
  %y = parc.add %s, %b : tensor<2x8x16xf32>, tensor<16xf32> -> tensor<2x8x16xf32>
  return %h, %y : tensor<2x8x16xf32>, tensor<2x8x16xf32>
}

// -----

// Attention scores: scaling, the mask and the softmax are one row group; the matmuls
// around it are not fused.
// CHECK-LABEL: func.func @attention_scores
// CHECK: %[[S:.*]] = parc.matmul
// CHECK-NEXT: %[[P:.*]] = parc.fused "row"(%[[S]], %{{.*}}, %arg2) : (tensor<2x4x8x8xf32>, tensor<f32>, tensor<1x1x8x8xf32>) -> tensor<2x4x8x8xf32>
// CHECK: parc.mul
// CHECK-NEXT: parc.add
// CHECK-NEXT: parc.softmax
// CHECK: parc.matmul %[[P]]
func.func @attention_scores(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x16x8xf32>, %mask: tensor<1x1x8x8xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %scale = parc.constant dense<0.25> : tensor<f32>
  %s = parc.matmul %q, %k : tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32> -> tensor<2x4x8x8xf32>
  %scaled = parc.mul %s, %scale : tensor<2x4x8x8xf32>, tensor<f32> -> tensor<2x4x8x8xf32>
  %masked = parc.add %scaled, %mask : tensor<2x4x8x8xf32>, tensor<1x1x8x8xf32> -> tensor<2x4x8x8xf32>
  %p = parc.softmax %masked {axis = 3 : i64} : tensor<2x4x8x8xf32>
  %o = parc.matmul %p, %v : tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// Bias + tanh-GELU: two chains (0.5 x, and the tanh of the cubic) meet in the last
// product; the groups merge into one elementwise group.
// CHECK-LABEL: func.func @bias_gelu
// CHECK: parc.fused "elementwise"(%arg0, %arg1
// CHECK: parc.tanh
// CHECK: parc.yield
// CHECK-NOT: parc.fused
// CHECK: return
func.func @bias_gelu(%x: tensor<4x32xf32>, %bias: tensor<32xf32>) -> tensor<4x32xf32> {
  %half = parc.constant dense<0.5> : tensor<f32>
  %three = parc.constant dense<3.0> : tensor<f32>
  %c = parc.constant dense<0.044715> : tensor<f32>
  %k = parc.constant dense<0.797884583> : tensor<f32>
  %one = parc.constant dense<1.0> : tensor<f32>
  %h = parc.add %x, %bias : tensor<4x32xf32>, tensor<32xf32> -> tensor<4x32xf32>
  %a = parc.mul %h, %half : tensor<4x32xf32>, tensor<f32> -> tensor<4x32xf32>
  %p = parc.pow %h, %three : tensor<4x32xf32>, tensor<f32> -> tensor<4x32xf32>
  %pc = parc.mul %p, %c : tensor<4x32xf32>, tensor<f32> -> tensor<4x32xf32>
  %s = parc.add %h, %pc : tensor<4x32xf32>, tensor<4x32xf32> -> tensor<4x32xf32>
  %sk = parc.mul %s, %k : tensor<4x32xf32>, tensor<f32> -> tensor<4x32xf32>
  %t = parc.tanh %sk : tensor<4x32xf32>
  %t1 = parc.add %t, %one : tensor<4x32xf32>, tensor<f32> -> tensor<4x32xf32>
  %y = parc.mul %a, %t1 : tensor<4x32xf32>, tensor<4x32xf32> -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// What is not fused: a reduction over another dim, and an op whose group's value an op
// outside the group reads first (the fused op would have to come before that reader).
// CHECK-LABEL: func.func @boundaries
// CHECK: %[[A:.*]] = parc.fused "elementwise"(%arg0) : (tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT: ^bb0
// CHECK-NEXT: parc.exp
// CHECK: %[[R:.*]] = parc.reduce_sum %[[A]] {axes = array<i64: 0>, keep_dims}
// CHECK: %[[M:.*]] = parc.matmul %[[A]], %arg1
// CHECK: parc.fused "elementwise"(%[[A]], %[[M]])
func.func @boundaries(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> (tensor<1x8xf32>, tensor<4x8xf32>) {
  %e = parc.exp %x : tensor<4x8xf32>
  %r = parc.reduce_sum %e {axes = array<i64: 0>, keep_dims} : tensor<4x8xf32> -> tensor<1x8xf32>
  %m = parc.matmul %e, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %y = parc.add %e, %m : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %r, %y : tensor<1x8xf32>, tensor<4x8xf32>
}

// -----

// Reshapes keep an elementwise group's row-major element order, so a bias add before the
// reshape and the GELU after it are one group (the bias is indexed through the add's
// shape). A row op cannot join a group holding other shapes: the layer norm's mean starts
// a group of its own.
// CHECK-LABEL: func.func @across_reshape
// CHECK: %[[G:.*]] = parc.fused "elementwise"(%arg0, %arg1) : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<2x4x32xf32>
// CHECK: parc.add
// CHECK-NEXT: parc.reshape
// CHECK-NEXT: parc.gelu
// CHECK: parc.fused "row"(%[[G]])
func.func @across_reshape(%x: tensor<8x32xf32>, %bias: tensor<32xf32>) -> tensor<2x4x32xf32> {
  %h = parc.add %x, %bias : tensor<8x32xf32>, tensor<32xf32> -> tensor<8x32xf32>
  %r = parc.reshape %h : tensor<8x32xf32> -> tensor<2x4x32xf32>
  %g = parc.gelu %r : tensor<2x4x32xf32>
  %m = parc.reduce_mean %g {axes = array<i64: 2>, keep_dims} : tensor<2x4x32xf32> -> tensor<2x4x1xf32>
  %c = parc.sub %g, %m : tensor<2x4x32xf32>, tensor<2x4x1xf32> -> tensor<2x4x32xf32>
  return %c : tensor<2x4x32xf32>
}

// -----

// A matmul whose only use adds a bias along its last dim is one GEMM with cuBLASLt's bias
// epilogue, with a tanh-GELU after it when that is the sum's only use (bias + GELU
// epilogue). A matmul whose product is also read elsewhere stays alone.
// CHECK-LABEL: func.func @gemm_epilogues
// CHECK: %[[A:.*]] = parc.fused "gemm"(%arg0, %arg1, %arg2) {epilogue = "bias_gelu"}
// CHECK-NEXT: ^bb0
// CHECK-NEXT: parc.matmul
// CHECK-NEXT: parc.add
// CHECK-NEXT: parc.gelu
// CHECK: parc.fused "gemm"(%[[A]], %arg1, %arg2) {epilogue = "bias"}
// CHECK: %[[P:.*]] = parc.matmul %arg0, %arg1
// CHECK-NOT: "gemm"
// CHECK: parc.fused "elementwise"(%[[P]], %arg2)
func.func @gemm_epilogues(%x: tensor<4x16xf32>, %w: tensor<16x16xf32>, %b: tensor<16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) {
  %m = parc.matmul %x, %w : tensor<4x16xf32>, tensor<16x16xf32> -> tensor<4x16xf32>
  %h = parc.add %m, %b : tensor<4x16xf32>, tensor<16xf32> -> tensor<4x16xf32>
  %g = parc.gelu %h {tanh_approximation} : tensor<4x16xf32>
  %m2 = parc.matmul %g, %w : tensor<4x16xf32>, tensor<16x16xf32> -> tensor<4x16xf32>
  %h2 = parc.add %m2, %b : tensor<4x16xf32>, tensor<16xf32> -> tensor<4x16xf32>
  %p = parc.matmul %x, %w : tensor<4x16xf32>, tensor<16x16xf32> -> tensor<4x16xf32>
  %q = parc.add %p, %b : tensor<4x16xf32>, tensor<16xf32> -> tensor<4x16xf32>
  return %h2, %q, %p : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}
