// RUN: parc-opt %s -split-input-file -verify-diagnostics
// The discardable parc.* attributes are declared: an unknown name, a value of the wrong
// kind, or an attribute in the wrong place fails verification naming it.

// expected-error @+1 {{carries unknown attribute 'parc.stages'}}
func.func @unknown() attributes {parc.stages = 1 : i64} {
  return
}

// -----

// expected-error @+1 {{attribute 'parc.arena_bytes' must be an integer, not "big"}}
func.func @wrong_kind() attributes {parc.arena_bytes = "big"} {
  return
}

// -----

// expected-error @+1 {{attribute 'parc.mesh' must be a mesh {dp = D, pp = P, tp = T} of positive sizes}}
module attributes {parc.mesh = {dp = 1 : i64, pp = 0 : i64, tp = 2 : i64}} {
}

// -----

// expected-error @+1 {{attribute 'parc.mesh' belongs on the module}}
func.func @mesh_on_function() attributes {parc.mesh = {dp = 1 : i64, pp = 1 : i64, tp = 2 : i64}} {
  return
}

// -----

func.func @layout_on_op(%a: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{attribute 'parc.microbatch_layout' belongs on a function argument or a function result}}
  %0 = parc.neg %a {parc.microbatch_layout = #parc.sharding<split(0)>} : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// expected-error @+1 {{attribute 'parc.name' must be a string, not 3}}
func.func @bad_name(%a: tensor<3xf32> {parc.name = 3 : i64}) {
  return
}

// -----

// expected-error @+1 {{attribute 'parc.unreached' belongs on a function result}}
func.func @unreached_argument(%a: tensor<3xf32> {parc.unreached}) {
  return
}

// -----

// Well-formed attributes in their places verify.
module attributes {parc.mesh = {dp = 1 : i64, pp = 2 : i64, tp = 1 : i64}} {
  func.func @stage0(%a: tensor<3xf32> {parc.name = "x"}) -> (tensor<3xf32> {parc.name = "y"})
      attributes {parc.stage = 0 : i64, parc.outputs = array<i64: 0>, parc.arena_bytes = 64 : i64} {
    %0 = parc.neg %a {parc.chunk = 0 : i64, parc.microbatch = 1 : i64, parc.backward, parc.offset = 0 : i64} : tensor<3xf32>
    return %0 : tensor<3xf32>
  }
}
