// RUN: parc-opt %s -split-input-file -parc-plan-buffers | FileCheck %s

// A chain reuses the bytes of values that died: the third exp lands where the first was.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: parc.arena_bytes = 2048 : i64
// CHECK: parc.exp %arg0 {parc.offset = [[A:[0-9]+]] : i64}
// CHECK: parc.exp %{{.+}} {parc.offset = [[B:[0-9]+]] : i64}
// CHECK: parc.exp %{{.+}} {parc.offset = [[A]] : i64}
func.func @chain(%x: tensor<256xf32>) -> tensor<256xf32> {
  %0 = parc.exp %x : tensor<256xf32>
  %1 = parc.exp %0 : tensor<256xf32>
  %2 = parc.exp %1 : tensor<256xf32>
  return %2 : tensor<256xf32>
}

// -----

// Values live at the same time never overlap; a residual input stays live until its add.
// CHECK-LABEL: func.func @residual
// CHECK-SAME: parc.arena_bytes = 3072 : i64
// CHECK: %[[A:.+]] = parc.exp %arg0 {parc.offset = [[OA:[0-9]+]] : i64}
// CHECK: %[[B:.+]] = parc.exp %[[A]] {parc.offset = [[OB:[0-9]+]] : i64}
// CHECK: %[[C:.+]] = parc.exp %[[B]] {parc.offset = [[OC:[0-9]+]] : i64}
// CHECK: parc.add %[[A]], %[[C]]
func.func @residual(%x: tensor<256xf32>) -> tensor<256xf32> {
  %0 = parc.exp %x : tensor<256xf32>
  %1 = parc.exp %0 : tensor<256xf32>
  %2 = parc.exp %1 : tensor<256xf32>
  %3 = parc.add %0, %2 : tensor<256xf32>, tensor<256xf32> -> tensor<256xf32>
  return %3 : tensor<256xf32>
}

// -----

// A reshape is a view: it gets no offset of its own and keeps its input alive; weights,
// constants and arguments take no arena memory. Sizes round up to 64 bytes.
// CHECK-LABEL: func.func @views
// CHECK-SAME: parc.arena_bytes = 128 : i64
// CHECK: parc.load_weight @w : tensor<3xf32>
// CHECK-NOT: parc.offset
// CHECK: parc.add {{.*}} {parc.offset = 0 : i64}
// CHECK: parc.reshape %{{.+}} : tensor<3xf32> -> tensor<1x3xf32>
// CHECK: parc.exp %{{.+}} {parc.offset = 64 : i64}
parc.weight @w = dense<1.0> : tensor<3xf32>
func.func @views(%x: tensor<3xf32>) -> (tensor<1x3xf32>, tensor<1x3xf32>) {
  %w = parc.load_weight @w : tensor<3xf32>
  %0 = parc.add %x, %w : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  %1 = parc.reshape %0 : tensor<3xf32> -> tensor<1x3xf32>
  %2 = parc.exp %1 : tensor<1x3xf32>
  return %1, %2 : tensor<1x3xf32>, tensor<1x3xf32>
}
