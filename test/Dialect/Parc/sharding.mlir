// RUN: parc-opt %s -split-input-file | parc-opt -split-input-file | FileCheck %s
// Sharded weights, collectives and shard slices print and parse back.

// CHECK: module attributes {parc.mesh = {dp = 1 : i64, pp = 1 : i64, tp = 2 : i64}}
// CHECK: parc.weight @qkv = dense<{{.*}}> : tensor<4x12xf32> {sharding = #parc.sharding<split(1, groups = 3)>}
// CHECK: parc.weight @proj = dense<{{.*}}> : tensor<4x4xf32> {sharding = #parc.sharding<split(0)>}
// CHECK-LABEL: func.func @block
// CHECK: parc.load_weight @qkv : tensor<4x6xf32>
// CHECK: parc.shard_slice %{{.*}} {axis = 1 : i64, group = "tp", groups = 1 : i64} : tensor<2x4xf32> -> tensor<2x2xf32>
// CHECK: parc.all_reduce %{{.*}} {group = "tp"} : tensor<2x4xf32>
// CHECK: parc.all_gather %{{.*}} {axis = 1 : i64, group = "tp"} : tensor<2x2xf32> -> tensor<2x4xf32>
// CHECK: parc.reduce_scatter %{{.*}} {axis = 0 : i64, group = "tp"} : tensor<2x4xf32> -> tensor<1x4xf32>
module attributes {parc.mesh = {dp = 1 : i64, pp = 1 : i64, tp = 2 : i64}} {
  parc.weight @qkv = dense<1.0> : tensor<4x12xf32> {sharding = #parc.sharding<split(1, groups = 3)>}
  parc.weight @proj = dense<1.0> : tensor<4x4xf32> {sharding = #parc.sharding<split(0)>}
  func.func @block(%x: tensor<2x4xf32>) -> (tensor<4x6xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<1x4xf32>) {
    %w = parc.load_weight @qkv : tensor<4x6xf32>
    %s = parc.shard_slice %x {axis = 1 : i64, groups = 1 : i64, group = "tp"} : tensor<2x4xf32> -> tensor<2x2xf32>
    %r = parc.all_reduce %x {group = "tp"} : tensor<2x4xf32>
    %g = parc.all_gather %s {axis = 1 : i64, group = "tp"} : tensor<2x2xf32> -> tensor<2x4xf32>
    %rs = parc.reduce_scatter %x {axis = 0 : i64, group = "tp"} : tensor<2x4xf32> -> tensor<1x4xf32>
    return %w, %r, %g, %rs : tensor<4x6xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<1x4xf32>
  }
}

// -----

// The other sharding forms.
// CHECK-LABEL: func.func @forms
// CHECK-SAME: test.a = #parc.sharding<replicated>
// CHECK-SAME: test.b = #parc.sharding<partial>
// CHECK-SAME: test.c = #parc.sharding<split(0)>
func.func @forms() attributes {test.a = #parc.sharding<replicated>, test.b = #parc.sharding<partial>, test.c = #parc.sharding<split(0, groups = 1)>} {
  return
}
