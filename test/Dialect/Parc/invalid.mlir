// RUN: parc-opt %s -split-input-file -verify-diagnostics
// Verifiers reject ill-typed ops and say what is wrong.

// Operands whose shapes do not broadcast.
func.func @no_broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{shapes 2x3 4 do not broadcast together}}
  %0 = parc.add %a, %b : tensor<2x3xf32>, tensor<4xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A result shape that is not the broadcast shape.
func.func @wrong_result(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<3x3xf32> {
  // expected-error @+1 {{result shape 3x3 is not the broadcast shape 2x3}}
  %0 = parc.mul %a, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

// Arithmetic needs one element type.
func.func @mixed_types(%a: tensor<3xf32>, %b: tensor<3xi64>) -> tensor<3xf32> {
  // expected-error @+1 {{requires the same element type for all operands and results}}
  %0 = parc.add %a, %b : tensor<3xf32>, tensor<3xi64> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// The contracted dims of a matmul must agree.
func.func @matmul_k(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{matmul contracts dims of different sizes: 2x3 x 4x5}}
  %0 = parc.matmul %a, %b : tensor<2x3xf32>, tensor<4x5xf32> -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// Reductions name existing axes.
func.func @reduce_axis(%a: tensor<2x3xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{reduction axis 2 is out of range for rank 2}}
  %0 = parc.reduce_sum %a {axes = array<i64: 2>} : tensor<2x3xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// A reshape keeps the element count.
func.func @reshape_count(%a: tensor<2x3xf32>) -> tensor<7xf32> {
  // expected-error @+1 {{cannot reshape 6 elements into 7 (7 elements)}}
  %0 = parc.reshape %a : tensor<2x3xf32> -> tensor<7xf32>
  return %0 : tensor<7xf32>
}

// -----

// A transpose permutes every dim once.
func.func @bad_permutation(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{permutation [0, 0] is not a permutation of the 2 dims}}
  %0 = parc.transpose %a, [0, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// Slices stay inside the input.
func.func @slice_bounds(%a: tensor<4xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{slice [2, 5) with stride 1 is invalid for dim 0 of size 4}}
  %0 = parc.slice %a {start_indices = array<i64: 2>, limit_indices = array<i64: 5>, strides = array<i64: 1>} : tensor<4xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// Concatenated tensors agree off the axis.
func.func @concat_dims(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{cannot concatenate 'tensor<2x3xf32>' with 'tensor<2x4xf32>' along axis 0}}
  %0 = parc.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// Tensors have static shapes.
func.func @dynamic(%a: tensor<?xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{must be statically shaped tensor}}
  %0 = parc.exp %a : tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// f64 is not a parc element type.
func.func @f64(%a: tensor<2xf64>) -> tensor<2xf64> {
  // expected-error @+1 {{must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type values}}
  %0 = parc.exp %a : tensor<2xf64>
  return %0 : tensor<2xf64>
}

// -----

// A weight reference names an existing weight of the same type.
parc.weight @w = dense<1.0> : tensor<4xf32>
func.func @weight_type() -> tensor<8xf32> {
  // expected-error @+1 {{result type 'tensor<8xf32>' differs from the weight's type 'tensor<4xf32>'}}
  %0 = parc.load_weight @w : tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @missing_weight() -> tensor<8xf32> {
  // expected-error @+1 {{refers to @nothing, which is no parc.weight}}
  %0 = parc.load_weight @nothing : tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// Softmax axes are in range.
func.func @softmax_axis(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = parc.softmax %a {axis = 2 : i64} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @scatter_add_shape(%u: tensor<2x3xf32>, %i: tensor<4xi64>) -> tensor<5x3xf32> {
  // expected-error @+1 {{updates shape 2x3 is not what gathering 4 indices from the result gives (4x3)}}
  %0 = parc.scatter_add %u[%i] {axis = 0 : i64} : tensor<2x3xf32>, tensor<4xi64> -> tensor<5x3xf32>
  return %0 : tensor<5x3xf32>
}

// -----

func.func @cumsum_axis(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = parc.cumsum %a {axis = 2 : i64} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @top_k_too_many(%a: tensor<2x3xf32>) -> tensor<2x4xi64> {
  // expected-error @+1 {{k = 4 must be in [1, 3] (the axis' size)}}
  %0 = parc.top_k %a {axis = 1 : i64, k = 4 : i64, largest} : tensor<2x3xf32> -> tensor<2x4xi64>
  return %0 : tensor<2x4xi64>
}

// -----

func.func @top_k_shape(%a: tensor<2x3xf32>) -> tensor<2x2xi64> {
  // expected-error @+1 {{result must have the input's shape with k at the axis}}
  %0 = parc.top_k %a {axis = 0 : i64, k = 2 : i64} : tensor<2x3xf32> -> tensor<2x2xi64>
  return %0 : tensor<2x2xi64>
}
