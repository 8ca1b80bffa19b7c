// RUN: parc-opt %s -parc-assign-pipeline-stages=stages=4 | FileCheck %s

// Eight identical layers cut into four stages of two layers each: every stage models the
// same time (imbalance about 1.03: the final residual add is extra work in the last stage;
// the issue allows 10%), the weights go with the
// stage that uses them, and each later stage receives one activation (16x64 f32 = 4096
// bytes). The residual input, used at the end, is a graph input: every stage reads the
// inputs itself, so it crosses no cut.
// CHECK-LABEL: func.func @layers
// CHECK-SAME: parc.stage_imbalance = {{1\.0[0-9]*}} : f64
// CHECK-SAME: parc.stage_incoming_bytes = [0.000000e+00, 4.096000e+03, 4.096000e+03, 4.096000e+03]
// CHECK: parc.load_weight @w0 {parc.stage = 0 : i64}
// CHECK-NEXT: parc.matmul {{.*}}{parc.stage = 0 : i64}
// CHECK: parc.load_weight @w1 {parc.stage = 0 : i64}
// CHECK-NEXT: parc.matmul {{.*}}{parc.stage = 0 : i64}
// CHECK: parc.load_weight @w2 {parc.stage = 1 : i64}
// CHECK-NEXT: parc.matmul {{.*}}{parc.stage = 1 : i64}
// CHECK: parc.load_weight @w3 {parc.stage = 1 : i64}
// CHECK-NEXT: parc.matmul {{.*}}{parc.stage = 1 : i64}
// CHECK: parc.load_weight @w4 {parc.stage = 2 : i64}
// CHECK-NEXT: parc.matmul {{.*}}{parc.stage = 2 : i64}
// CHECK: parc.load_weight @w5 {parc.stage = 2 : i64}
// CHECK-NEXT: parc.matmul {{.*}}{parc.stage = 2 : i64}
// CHECK: parc.load_weight @w6 {parc.stage = 3 : i64}
// CHECK-NEXT: parc.matmul {{.*}}{parc.stage = 3 : i64}
// CHECK: parc.load_weight @w7 {parc.stage = 3 : i64}
// CHECK-NEXT: parc.matmul {{.*}}{parc.stage = 3 : i64}
// CHECK: return {parc.stage = 3 : i64}
parc.weight @w0 = dense<1.0> : tensor<64x64xf32>
parc.weight @w1 = dense<1.0> : tensor<64x64xf32>
parc.weight @w2 = dense<1.0> : tensor<64x64xf32>
parc.weight @w3 = dense<1.0> : tensor<64x64xf32>
parc.weight @w4 = dense<1.0> : tensor<64x64xf32>
parc.weight @w5 = dense<1.0> : tensor<64x64xf32>
parc.weight @w6 = dense<1.0> : tensor<64x64xf32>
parc.weight @w7 = dense<1.0> : tensor<64x64xf32>
func.func @layers(%x: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %w0 = parc.load_weight @w0 : tensor<64x64xf32>
  %m0 = parc.matmul %x, %w0 : tensor<16x64xf32>, tensor<64x64xf32> -> tensor<16x64xf32>
  %r0 = parc.relu %m0 : tensor<16x64xf32>
  %w1 = parc.load_weight @w1 : tensor<64x64xf32>
  %m1 = parc.matmul %r0, %w1 : tensor<16x64xf32>, tensor<64x64xf32> -> tensor<16x64xf32>
  %r1 = parc.relu %m1 : tensor<16x64xf32>
  %w2 = parc.load_weight @w2 : tensor<64x64xf32>
  %m2 = parc.matmul %r1, %w2 : tensor<16x64xf32>, tensor<64x64xf32> -> tensor<16x64xf32>
  %r2 = parc.relu %m2 : tensor<16x64xf32>
  %w3 = parc.load_weight @w3 : tensor<64x64xf32>
  %m3 = parc.matmul %r2, %w3 : tensor<16x64xf32>, tensor<64x64xf32> -> tensor<16x64xf32>
  %r3 = parc.relu %m3 : tensor<16x64xf32>
  %w4 = parc.load_weight @w4 : tensor<64x64xf32>
  %m4 = parc.matmul %r3, %w4 : tensor<16x64xf32>, tensor<64x64xf32> -> tensor<16x64xf32>
  %r4 = parc.relu %m4 : tensor<16x64xf32>
  %w5 = parc.load_weight @w5 : tensor<64x64xf32>
  %m5 = parc.matmul %r4, %w5 : tensor<16x64xf32>, tensor<64x64xf32> -> tensor<16x64xf32>
  %r5 = parc.relu %m5 : tensor<16x64xf32>
  %w6 = parc.load_weight @w6 : tensor<64x64xf32>
  %m6 = parc.matmul %r5, %w6 : tensor<16x64xf32>, tensor<64x64xf32> -> tensor<16x64xf32>
  %r6 = parc.relu %m6 : tensor<16x64xf32>
  %w7 = parc.load_weight @w7 : tensor<64x64xf32>
  %m7 = parc.matmul %r6, %w7 : tensor<16x64xf32>, tensor<64x64xf32> -> tensor<16x64xf32>
  %r7 = parc.relu %m7 : tensor<16x64xf32>
  %y = parc.add %r7, %x : tensor<16x64xf32>, tensor<16x64xf32> -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}

