// RUN: parc-opt %s -split-input-file -parc-propagate-sharding | FileCheck %s

// Megatron's MLP: a column-split first projection keeps its output split through the bias
// and GELU; the row-split second projection yields partial sums, which must become whole
// (the one all-reduce) before the replicated bias is added.
// CHECK-LABEL: func.func @main
// CHECK: parc.matmul {{.*}}parc.sharding = #parc.sharding<split(1)>
// CHECK-NEXT: parc.load_weight @b1 {{.*}}parc.sharding = #parc.sharding<split(0)>
// CHECK-NEXT: parc.add {{.*}}{parc.sharding = #parc.sharding<split(1)>}
// CHECK-NEXT: parc.gelu {{.*}}{parc.sharding = #parc.sharding<split(1)>}
// CHECK: parc.matmul {{.*}}{parc.sharding = #parc.sharding<partial>}
// CHECK: parc.add {{.*}}{parc.reshard = [#parc.sharding<replicated>, #parc.sharding<replicated>], parc.sharding = #parc.sharding<replicated>}
// CHECK-NEXT: parc.add {{.*}}{parc.sharding = #parc.sharding<replicated>}
// CHECK-NEXT: return
// CHECK-NOT: parc.reshard
module attributes {parc.mesh = {dp = 1 : i64, pp = 1 : i64, tp = 2 : i64}} {
  parc.weight @w1 = dense<1.0> : tensor<16x64xf32> {parc.plan = #parc.sharding<split(1)>}
  parc.weight @b1 = dense<1.0> : tensor<64xf32> {parc.plan = #parc.sharding<split(0)>}
  parc.weight @w2 = dense<1.0> : tensor<64x16xf32> {parc.plan = #parc.sharding<split(0)>}
  parc.weight @b2 = dense<1.0> : tensor<16xf32>
  func.func @main(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    %w1 = parc.load_weight @w1 : tensor<16x64xf32>
    %h = parc.matmul %x, %w1 : tensor<8x16xf32>, tensor<16x64xf32> -> tensor<8x64xf32>
    %b1 = parc.load_weight @b1 : tensor<64xf32>
    %hb = parc.add %h, %b1 : tensor<8x64xf32>, tensor<64xf32> -> tensor<8x64xf32>
    %g = parc.gelu %hb : tensor<8x64xf32>
    %w2 = parc.load_weight @w2 : tensor<64x16xf32>
    %p = parc.matmul %g, %w2 : tensor<8x64xf32>, tensor<64x16xf32> -> tensor<8x16xf32>
    %b2 = parc.load_weight @b2 : tensor<16xf32>
    %y = parc.add %p, %b2 : tensor<8x16xf32>, tensor<16xf32> -> tensor<8x16xf32>
    %r = parc.add %y, %x : tensor<8x16xf32>, tensor<8x16xf32> -> tensor<8x16xf32>
    return %r : tensor<8x16xf32>
  }
}

// -----

// Attention split by heads through the reshapes and transposes exporters emit: a column-split
// query/key/value projection becomes a split of the head dim, the two batched matmuls and the
// softmax run per head, and the row-split output projection gives partial sums: the function
// result is the only reshard (the all-reduce).
// CHECK-LABEL: func.func @main
// CHECK: parc.reshape {{.*}}parc.sharding = #parc.sharding<split(2)>{{.*}} -> tensor<2x8x4x4xf32>
// CHECK: parc.transpose {{.*}}parc.sharding = #parc.sharding<split(1)>{{.*}} -> tensor<2x4x8x4xf32>
// CHECK: parc.transpose {{.*}}parc.sharding = #parc.sharding<split(1)>{{.*}} -> tensor<2x4x4x8xf32>
// CHECK: parc.matmul {{.*}}parc.sharding = #parc.sharding<split(1)>{{.*}} -> tensor<2x4x8x8xf32>
// CHECK: parc.softmax {{.*}}parc.sharding = #parc.sharding<split(1)>
// CHECK: parc.matmul {{.*}}parc.sharding = #parc.sharding<split(1)>{{.*}} -> tensor<2x4x8x4xf32>
// CHECK: parc.reshape {{.*}}parc.sharding = #parc.sharding<split(2)>{{.*}} -> tensor<2x8x16xf32>
// CHECK: parc.matmul {{.*}}parc.sharding = #parc.sharding<partial>
// CHECK-NOT: parc.reshard = {{.*}}parc.matmul
// CHECK: return {parc.reshard = [#parc.sharding<replicated>]}
module attributes {parc.mesh = {dp = 1 : i64, pp = 1 : i64, tp = 2 : i64}} {
  parc.weight @wq = dense<1.0> : tensor<16x16xf32> {parc.plan = #parc.sharding<split(1)>}
  parc.weight @wk = dense<1.0> : tensor<16x16xf32> {parc.plan = #parc.sharding<split(1)>}
  parc.weight @wv = dense<1.0> : tensor<16x16xf32> {parc.plan = #parc.sharding<split(1)>}
  parc.weight @wo = dense<1.0> : tensor<16x16xf32> {parc.plan = #parc.sharding<split(0)>}
  func.func @main(%x: tensor<2x8x16xf32>) -> tensor<2x8x16xf32> {
    %wq = parc.load_weight @wq : tensor<16x16xf32>
    %wk = parc.load_weight @wk : tensor<16x16xf32>
    %wv = parc.load_weight @wv : tensor<16x16xf32>
    %wo = parc.load_weight @wo : tensor<16x16xf32>
    %q = parc.matmul %x, %wq : tensor<2x8x16xf32>, tensor<16x16xf32> -> tensor<2x8x16xf32>
    %k = parc.matmul %x, %wk : tensor<2x8x16xf32>, tensor<16x16xf32> -> tensor<2x8x16xf32>
    %v = parc.matmul %x, %wv : tensor<2x8x16xf32>, tensor<16x16xf32> -> tensor<2x8x16xf32>
    %q4 = parc.reshape %q : tensor<2x8x16xf32> -> tensor<2x8x4x4xf32>
    %k4 = parc.reshape %k : tensor<2x8x16xf32> -> tensor<2x8x4x4xf32>
    %v4 = parc.reshape %v : tensor<2x8x16xf32> -> tensor<2x8x4x4xf32>
    %qh = parc.transpose %q4, [0, 2, 1, 3] : tensor<2x8x4x4xf32> -> tensor<2x4x8x4xf32>
    %kh = parc.transpose %k4, [0, 2, 3, 1] : tensor<2x8x4x4xf32> -> tensor<2x4x4x8xf32>
    %vh = parc.transpose %v4, [0, 2, 1, 3] : tensor<2x8x4x4xf32> -> tensor<2x4x8x4xf32>
    %s = parc.matmul %qh, %kh : tensor<2x4x8x4xf32>, tensor<2x4x4x8xf32> -> tensor<2x4x8x8xf32>
    %p = parc.softmax %s {axis = 3 : i64} : tensor<2x4x8x8xf32>
    %o = parc.matmul %p, %vh : tensor<2x4x8x8xf32>, tensor<2x4x8x4xf32> -> tensor<2x4x8x4xf32>
    %ot = parc.transpose %o, [0, 2, 1, 3] : tensor<2x4x8x4xf32> -> tensor<2x8x4x4xf32>
    %o3 = parc.reshape %ot : tensor<2x8x4x4xf32> -> tensor<2x8x16xf32>
    %y = parc.matmul %o3, %wo : tensor<2x8x16xf32>, tensor<16x16xf32> -> tensor<2x8x16xf32>
    return %y : tensor<2x8x16xf32>
  }
}

// -----

// A packed QKV projection split in three groups: slicing whole groups keeps each of q, k, v
// split, with no communication.
// CHECK-LABEL: func.func @main
// CHECK: parc.matmul {{.*}}parc.sharding = #parc.sharding<split(1, groups = 3)>
// CHECK-COUNT-3: parc.slice {{.*}}parc.sharding = #parc.sharding<split(1)>
// CHECK-NOT: parc.reshard
// CHECK: return {parc.reshard = [#parc.sharding<replicated>
module attributes {parc.mesh = {dp = 1 : i64, pp = 1 : i64, tp = 2 : i64}} {
  parc.weight @qkv = dense<1.0> : tensor<16x48xf32> {parc.plan = #parc.sharding<split(1, groups = 3)>}
  func.func @main(%x: tensor<8x16xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
    %w = parc.load_weight @qkv : tensor<16x48xf32>
    %h = parc.matmul %x, %w : tensor<8x16xf32>, tensor<16x48xf32> -> tensor<8x48xf32>
    %q = parc.slice %h {start_indices = array<i64: 0, 0>, limit_indices = array<i64: 8, 16>, strides = array<i64: 1, 1>} : tensor<8x48xf32> -> tensor<8x16xf32>
    %k = parc.slice %h {start_indices = array<i64: 0, 16>, limit_indices = array<i64: 8, 32>, strides = array<i64: 1, 1>} : tensor<8x48xf32> -> tensor<8x16xf32>
    %v = parc.slice %h {start_indices = array<i64: 0, 32>, limit_indices = array<i64: 8, 48>, strides = array<i64: 1, 1>} : tensor<8x48xf32> -> tensor<8x16xf32>
    return %q, %k, %v : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
  }
}

// -----

// A reshape that would cut the split dim off a rank boundary (6 = 3 x 2 over 2 ranks) and a
// softmax over the split dim need the whole tensor first.
// CHECK-LABEL: func.func @main
// CHECK: parc.reshape {{.*}}{parc.reshard = [#parc.sharding<replicated>], parc.sharding = #parc.sharding<replicated>}
// CHECK: parc.softmax {{.*}}parc.reshard = [#parc.sharding<replicated>], parc.sharding = #parc.sharding<replicated>}
module attributes {parc.mesh = {dp = 1 : i64, pp = 1 : i64, tp = 2 : i64}} {
  parc.weight @w = dense<1.0> : tensor<4x6xf32> {parc.plan = #parc.sharding<split(1)>}
  func.func @main(%x: tensor<2x4xf32>) -> (tensor<2x3x2xf32>, tensor<2x6xf32>) {
    %w = parc.load_weight @w : tensor<4x6xf32>
    %h = parc.matmul %x, %w : tensor<2x4xf32>, tensor<4x6xf32> -> tensor<2x6xf32>
    %r = parc.reshape %h : tensor<2x6xf32> -> tensor<2x3x2xf32>
    %s = parc.softmax %h {axis = 1 : i64} : tensor<2x6xf32>
    return %r, %s : tensor<2x3x2xf32>, tensor<2x6xf32>
  }
}
