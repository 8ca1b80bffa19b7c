// RUN: rm -rf %t && split-file %s %t
// RUN: parc-compile %t/tp2.mlir -o %t/tp2.parc --report | FileCheck %s --check-prefix=REPORT
// RUN: parc-compile %t/single.mlir -o %t/single.parc
// RUN: %python -c "import numpy as np; np.save('%t/x.npy', np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32))"
// RUN: parc-run %t/tp2.parc --input x=%t/x.npy --output-dir %t/out-tp2 --timeout 60
// RUN: parc-run %t/single.parc --input x=%t/x.npy --output-dir %t/out-single
// RUN: %python %pylib/compare_outputs.py %t/out-tp2 %t/out-single --max-rel-l2 1e-6
//
// A hand-partitioned program on two CPU ranks computes what the single-rank program does:
// a weight split in groups (a packed projection), slices of whole groups, all_gather,
// shard_slice, a row-split weight whose partial sums meet in all_reduce, and a
// reduce_scatter + all_gather pair. Each rank maps only its shards of the split weights.
// REPORT: target: cpu, 2 ranks
// REPORT: rank 0: weights 128 bytes

//--- tp2.mlir
module attributes {parc.mesh = {dp = 1 : i64, pp = 1 : i64, tp = 2 : i64}} {
  parc.weight @w1 = dense<"0x0000C0BF0000803E0000A0BF0000003F000080BF0000403F000040BF0000803F000000BF0000A03F000080BE0000C03F000000000000C0BF0000803E0000A0BF0000003F000080BF0000403F000040BF0000803F000000BF0000A03F000080BE0000C03F000000000000C0BF0000803E0000A0BF0000003F000080BF0000403F000040BF0000803F000000BF0000A03F000080BE0000C03F000000000000C0BF0000803E0000A0BF0000003F000080BF0000403F000040BF0000803F000000BF"> : tensor<6x8xf32> {sharding = #parc.sharding<split(1, groups = 2)>}
  parc.weight @w2 = dense<[[1.0, 0.5, -1.0, 2.0], [0.25, -0.5, 1.5, 1.0], [2.0, 1.0, 0.0, -1.0], [-0.75, 0.5, 1.0, 0.5]]> : tensor<4x4xf32> {sharding = #parc.sharding<split(0)>}
  func.func @main(%x: tensor<4x6xf32> {parc.name = "x"}) -> (tensor<4x4xf32> {parc.name = "y"}, tensor<4x4xf32> {parc.name = "z"}) {
    %w1 = parc.load_weight @w1 : tensor<6x4xf32>
    %h = parc.matmul %x, %w1 : tensor<4x6xf32>, tensor<6x4xf32> -> tensor<4x4xf32>
    %h0 = parc.slice %h {start_indices = array<i64: 0, 0>, limit_indices = array<i64: 4, 2>, strides = array<i64: 1, 1>} : tensor<4x4xf32> -> tensor<4x2xf32>
    %h1 = parc.slice %h {start_indices = array<i64: 0, 2>, limit_indices = array<i64: 4, 4>, strides = array<i64: 1, 1>} : tensor<4x4xf32> -> tensor<4x2xf32>
    %a = parc.mul %h0, %h1 : tensor<4x2xf32>, tensor<4x2xf32> -> tensor<4x2xf32>
    %full = parc.all_gather %a {axis = 1 : i64, group = "tp"} : tensor<4x2xf32> -> tensor<4x4xf32>
    %mine = parc.shard_slice %full {axis = 1 : i64, groups = 1 : i64, group = "tp"} : tensor<4x4xf32> -> tensor<4x2xf32>
    %w2 = parc.load_weight @w2 : tensor<2x4xf32>
    %p = parc.matmul %mine, %w2 : tensor<4x2xf32>, tensor<2x4xf32> -> tensor<4x4xf32>
    %y = parc.all_reduce %p {group = "tp"} : tensor<4x4xf32>
    %rows = parc.reduce_scatter %p {axis = 0 : i64, group = "tp"} : tensor<4x4xf32> -> tensor<2x4xf32>
    %z = parc.all_gather %rows {axis = 0 : i64, group = "tp"} : tensor<2x4xf32> -> tensor<4x4xf32>
    return %y, %z : tensor<4x4xf32>, tensor<4x4xf32>
  }
}

//--- single.mlir
module {
  parc.weight @w1 = dense<"0x0000C0BF0000803E0000A0BF0000003F000080BF0000403F000040BF0000803F000000BF0000A03F000080BE0000C03F000000000000C0BF0000803E0000A0BF0000003F000080BF0000403F000040BF0000803F000000BF0000A03F000080BE0000C03F000000000000C0BF0000803E0000A0BF0000003F000080BF0000403F000040BF0000803F000000BF0000A03F000080BE0000C03F000000000000C0BF0000803E0000A0BF0000003F000080BF0000403F000040BF0000803F000000BF"> : tensor<6x8xf32>
  parc.weight @w2 = dense<[[1.0, 0.5, -1.0, 2.0], [0.25, -0.5, 1.5, 1.0], [2.0, 1.0, 0.0, -1.0], [-0.75, 0.5, 1.0, 0.5]]> : tensor<4x4xf32>
  func.func @main(%x: tensor<4x6xf32> {parc.name = "x"}) -> (tensor<4x4xf32> {parc.name = "y"}, tensor<4x4xf32> {parc.name = "z"}) {
    %w1 = parc.load_weight @w1 : tensor<6x8xf32>
    %h = parc.matmul %x, %w1 : tensor<4x6xf32>, tensor<6x8xf32> -> tensor<4x8xf32>
    %h0 = parc.slice %h {start_indices = array<i64: 0, 0>, limit_indices = array<i64: 4, 4>, strides = array<i64: 1, 1>} : tensor<4x8xf32> -> tensor<4x4xf32>
    %h1 = parc.slice %h {start_indices = array<i64: 0, 4>, limit_indices = array<i64: 4, 8>, strides = array<i64: 1, 1>} : tensor<4x8xf32> -> tensor<4x4xf32>
    %a = parc.mul %h0, %h1 : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
    %w2 = parc.load_weight @w2 : tensor<4x4xf32>
    %y = parc.matmul %a, %w2 : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
    return %y, %y : tensor<4x4xf32>, tensor<4x4xf32>
  }
}
