// RUN: parc-opt %s -split-input-file -verify-diagnostics
// Shardings and collectives that do not fit their tensors are rejected.

// A split needs a dim.
// expected-error @+1 {{a split needs a dim >= 0 and groups >= 1}}
func.func @bad_split() attributes {test.a = #parc.sharding<split(-1)>} { return }

// -----

// expected-error @+1 {{expected replicated, partial or split(dim[, groups = g])}}
func.func @bad_kind() attributes {test.a = #parc.sharding<diagonal>} { return }

// -----

// A sharded weight loads as its local shard.
module attributes {parc.mesh = {dp = 1 : i64, pp = 1 : i64, tp = 2 : i64}} {
  parc.weight @w = dense<1.0> : tensor<4x8xf32> {sharding = #parc.sharding<split(1)>}
  func.func @full_shape() -> tensor<4x8xf32> {
    // expected-error @+1 {{result type 'tensor<4x8xf32>' differs from the weight's type 'tensor<4x4xf32>'}}
    %w = parc.load_weight @w : tensor<4x8xf32>
    return %w : tensor<4x8xf32>
  }
}

// -----

// A gather multiplies the axis by the group size.
module attributes {parc.mesh = {dp = 1 : i64, pp = 1 : i64, tp = 4 : i64}} {
  func.func @gather_size(%x: tensor<2x2xf32>) -> tensor<2x4xf32> {
    // expected-error @+1 {{result shape 2x4 does not match input 2x2 over 4 ranks along axis 1}}
    %g = parc.all_gather %x {axis = 1 : i64, group = "tp"} : tensor<2x2xf32> -> tensor<2x4xf32>
    return %g : tensor<2x4xf32>
  }
}

// -----

func.func @unknown_group(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{group 'rows' is not a mesh axis (tp, dp, pp)}}
  %r = parc.all_reduce %x {group = "rows"} : tensor<2xf32>
  return %r : tensor<2xf32>
}
