// RUN: parc-opt %s -split-input-file -canonicalize | FileCheck %s
// Canonicalization folds the shape arithmetic exporters emit and drops no-op data movement.

// Shape -> Gather -> Concat -> Reshape chains fold to the literal target shape.
// CHECK-LABEL: func.func @shape_chain
// CHECK-NOT: parc.gather
// CHECK-NOT: parc.concat
// CHECK: %[[R:.+]] = parc.reshape %arg0 : tensor<2x16x64xf32> -> tensor<2x16x4x16xf32>
// CHECK: return %[[R]]
func.func @shape_chain(%x: tensor<2x16x64xf32>) -> tensor<2x16x4x16xf32> {
  %shape = parc.constant dense<[2, 16, 64]> : tensor<3xi64>
  %idx = parc.constant dense<[0, 1]> : tensor<2xi64>
  %lead = parc.gather %shape[%idx] {axis = 0 : i64} : tensor<3xi64>, tensor<2xi64> -> tensor<2xi64>
  %heads = parc.constant dense<[4, 16]> : tensor<2xi64>
  %target = parc.concat %lead, %heads {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %r = parc.reshape %x : tensor<2x16x64xf32> -> tensor<2x16x4x16xf32>
  return %r : tensor<2x16x4x16xf32>
}

// -----

// Integer arithmetic on constants folds (division truncates toward zero).
// CHECK-LABEL: func.func @int_arith
// CHECK: %[[C:.+]] = parc.constant dense<[3, -2]> : tensor<2xi64>
// CHECK: return %[[C]]
func.func @int_arith() -> tensor<2xi64> {
  %a = parc.constant dense<[7, -5]> : tensor<2xi64>
  %b = parc.constant dense<2> : tensor<i64>
  %c = parc.div %a, %b : tensor<2xi64>, tensor<i64> -> tensor<2xi64>
  return %c : tensor<2xi64>
}

// -----

// Max, min, remainders (both sign rules), comparisons and logic of constants fold: the
// clamps and masks of exported shape arithmetic.
// CHECK-LABEL: func.func @int_max_min_mod
// CHECK-DAG: parc.constant dense<[7, 2, -1]> : tensor<3xi64>
// CHECK-DAG: parc.constant dense<[2, -5, -3]> : tensor<3xi64>
// CHECK-DAG: parc.constant dense<[1, 1, -1]> : tensor<3xi64>
// CHECK-DAG: parc.constant dense<[1, -1, -1]> : tensor<3xi64>
// CHECK-DAG: parc.constant dense<[3.500000e+00, -1.000000e+00]> : tensor<2xf32>
// CHECK-DAG: parc.constant dense<[false, true, false]> : tensor<3xi1>
// CHECK-NOT: parc.max
// CHECK-NOT: parc.min
// CHECK-NOT: parc.mod
// CHECK-NOT: parc.less
// CHECK-NOT: parc.and
func.func @int_max_min_mod() -> (tensor<3xi64>, tensor<3xi64>, tensor<3xi64>, tensor<3xi64>, tensor<2xf32>, tensor<3xi1>) {
  %a = parc.constant dense<[7, -5, -1]> : tensor<3xi64>
  %b = parc.constant dense<[2, 2, -3]> : tensor<3xi64>
  %max = parc.max %a, %b : tensor<3xi64>, tensor<3xi64> -> tensor<3xi64>
  %min = parc.min %a, %b : tensor<3xi64>, tensor<3xi64> -> tensor<3xi64>
  %mod = parc.mod %a, %b : tensor<3xi64>, tensor<3xi64> -> tensor<3xi64>
  %fmod = parc.mod %a, %b {fmod} : tensor<3xi64>, tensor<3xi64> -> tensor<3xi64>
  %x = parc.constant dense<[3.5, -2.0]> : tensor<2xf32>
  %y = parc.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %fmax = parc.max %x, %y : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
  %less = parc.less %a, %b : tensor<3xi64>, tensor<3xi64> -> tensor<3xi1>
  %positive = parc.constant dense<[true, true, false]> : tensor<3xi1>
  %both = parc.and %less, %positive : tensor<3xi1>, tensor<3xi1> -> tensor<3xi1>
  return %max, %min, %mod, %fmod, %fmax, %both : tensor<3xi64>, tensor<3xi64>, tensor<3xi64>, tensor<3xi64>, tensor<2xf32>, tensor<3xi1>
}

// -----

// Division by a constant zero is left for run time.
// CHECK-LABEL: func.func @int_div_zero
// CHECK: parc.div
func.func @int_div_zero() -> tensor<2xi64> {
  %a = parc.constant dense<[7, -5]> : tensor<2xi64>
  %b = parc.constant dense<0> : tensor<i64>
  %c = parc.div %a, %b : tensor<2xi64>, tensor<i64> -> tensor<2xi64>
  return %c : tensor<2xi64>
}

// -----

// A causal mask built from comparisons of constants folds to a literal.
// CHECK-LABEL: func.func @causal_mask
// CHECK: %[[M:.+]] = parc.constant dense<{{\[\[}}true, false, false], [true, true, false], [true, true, true]]> : tensor<3x3xi1>
// CHECK: return %[[M]]
func.func @causal_mask() -> tensor<3x3xi1> {
  %rows = parc.constant dense<[[0], [1], [2]]> : tensor<3x1xi64>
  %cols = parc.constant dense<[0, 1, 2]> : tensor<3xi64>
  %gt = parc.greater %cols, %rows : tensor<3xi64>, tensor<3x1xi64> -> tensor<3x3xi1>
  %m = parc.not %gt : tensor<3x3xi1>
  return %m : tensor<3x3xi1>
}

// -----

// Identity reshapes, transposes, broadcasts and conversions disappear.
// CHECK-LABEL: func.func @no_ops
// CHECK-NEXT: return %arg0
func.func @no_ops(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = parc.reshape %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %1 = parc.transpose %0, [0, 1] : tensor<2x3xf32> -> tensor<2x3xf32>
  %2 = parc.broadcast_to %1 : tensor<2x3xf32> -> tensor<2x3xf32>
  %3 = parc.convert %2 : tensor<2x3xf32> -> tensor<2x3xf32>
  return %3 : tensor<2x3xf32>
}

// -----

// Chains of reshapes and of transposes collapse into one op.
// CHECK-LABEL: func.func @chains
// CHECK: %[[R:.+]] = parc.reshape %arg0 : tensor<2x3x4xf32> -> tensor<4x6xf32>
// CHECK: %[[T:.+]] = parc.transpose %arg1, [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
// CHECK: return %[[R]], %[[T]]
func.func @chains(%x: tensor<2x3x4xf32>, %y: tensor<2x3x4xf32>) -> (tensor<4x6xf32>, tensor<4x2x3xf32>) {
  %0 = parc.reshape %x : tensor<2x3x4xf32> -> tensor<24xf32>
  %1 = parc.reshape %0 : tensor<24xf32> -> tensor<4x6xf32>
  %2 = parc.transpose %y, [1, 0, 2] : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  %3 = parc.transpose %2, [2, 1, 0] : tensor<3x2x4xf32> -> tensor<4x2x3xf32>
  return %1, %3 : tensor<4x6xf32>, tensor<4x2x3xf32>
}

// -----

// Constant float math folds with one rounding to f32.
// CHECK-LABEL: func.func @float_fold
// CHECK: parc.constant dense<[2.000000e+00, 5.000000e-01]> : tensor<2xf32>
func.func @float_fold() -> tensor<2xf32> {
  %a = parc.constant dense<[4.0, 0.25]> : tensor<2xf32>
  %s = parc.sqrt %a : tensor<2xf32>
  return %s : tensor<2xf32>
}

// -----

// Slices, transposes and reductions of constants fold.
// CHECK-LABEL: func.func @data_movement_fold
// CHECK-DAG: parc.constant dense<[2, 4]> : tensor<2xi64>
// CHECK-DAG: parc.constant dense<{{\[\[}}1, 3], [2, 4]]> : tensor<2x2xi64>
// CHECK-DAG: parc.constant dense<[4, 6]> : tensor<2xi64>
func.func @data_movement_fold() -> (tensor<2xi64>, tensor<2x2xi64>, tensor<2xi64>) {
  %a = parc.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi64>
  %s = parc.slice %a {start_indices = array<i64: 0, 1>, limit_indices = array<i64: 2, 2>, strides = array<i64: 1, 1>} : tensor<2x2xi64> -> tensor<2x1xi64>
  %r = parc.reshape %s : tensor<2x1xi64> -> tensor<2xi64>
  %t = parc.transpose %a, [1, 0] : tensor<2x2xi64> -> tensor<2x2xi64>
  %sum = parc.reduce_sum %a {axes = array<i64: 0>} : tensor<2x2xi64> -> tensor<2xi64>
  return %r, %t, %sum : tensor<2xi64>, tensor<2x2xi64>, tensor<2xi64>
}

// -----

// A gather of constant consecutive indices is a slice (position embeddings of arange(seq),
// the pick of q, k or v out of a packed projection).
// CHECK-LABEL: func.func @gather_to_slice
// CHECK: %[[S:.+]] = parc.slice %arg0 {limit_indices = array<i64: 7, 8>, start_indices = array<i64: 3, 0>, strides = array<i64: 1, 1>} : tensor<10x8xf32> -> tensor<4x8xf32>
// CHECK: %[[R:.+]] = parc.reshape %[[S]] : tensor<4x8xf32> -> tensor<1x4x8xf32>
// CHECK: %[[P:.+]] = parc.slice %arg1 {limit_indices = array<i64: 3, 5>, start_indices = array<i64: 2, 0>
// CHECK: %[[Q:.+]] = parc.reshape %[[P]] : tensor<1x5xf32> -> tensor<5xf32>
// CHECK: %[[G:.+]] = parc.gather %arg0[%{{.+}}]
// CHECK: %[[Z:.+]] = parc.slice %arg0 {limit_indices = array<i64: 3, 8>, start_indices = array<i64: 2, 0>
// CHECK: %[[ZR:.+]] = parc.reshape %[[Z]] : tensor<1x8xf32> -> tensor<1x1x8xf32>
// CHECK: %[[ZB:.+]] = parc.broadcast_to %[[ZR]] : tensor<1x1x8xf32> -> tensor<2x3x8xf32>
// CHECK: return %[[R]], %[[Q]], %[[G]], %[[ZB]]
func.func @gather_to_slice(%x: tensor<10x8xf32>, %y: tensor<3x5xf32>) -> (tensor<1x4x8xf32>, tensor<5xf32>, tensor<2x8xf32>, tensor<2x3x8xf32>) {
  %positions = parc.constant dense<[[3, 4, 5, 6]]> : tensor<1x4xi64>
  %0 = parc.gather %x[%positions] {axis = 0 : i64} : tensor<10x8xf32>, tensor<1x4xi64> -> tensor<1x4x8xf32>
  %last = parc.constant dense<-1> : tensor<i64>
  %1 = parc.gather %y[%last] {axis = 0 : i64} : tensor<3x5xf32>, tensor<i64> -> tensor<5xf32>
  %gaps = parc.constant dense<[1, 3]> : tensor<2xi64>
  %2 = parc.gather %x[%gaps] {axis = 0 : i64} : tensor<10x8xf32>, tensor<2xi64> -> tensor<2x8xf32>
  %twos = parc.constant dense<2> : tensor<2x3xi64>
  %3 = parc.gather %x[%twos] {axis = 0 : i64} : tensor<10x8xf32>, tensor<2x3xi64> -> tensor<2x3x8xf32>
  return %0, %1, %2, %3 : tensor<1x4x8xf32>, tensor<5xf32>, tensor<2x8xf32>, tensor<2x3x8xf32>
}

// -----

// Remainders fold with the divisor's sign, or with fmod the dividend's.
// CHECK-LABEL: func.func @mod_fold
// CHECK-DAG: parc.constant dense<[-2, 2]> : tensor<2xi64>
// CHECK-DAG: parc.constant dense<[1, -1]> : tensor<2xi64>
func.func @mod_fold() -> (tensor<2xi64>, tensor<2xi64>) {
  %a = parc.constant dense<[7, -7]> : tensor<2xi64>
  %b = parc.constant dense<[-3, 3]> : tensor<2xi64>
  %0 = parc.mod %a, %b : tensor<2xi64>, tensor<2xi64> -> tensor<2xi64>
  %1 = parc.mod %a, %b {fmod} : tensor<2xi64>, tensor<2xi64> -> tensor<2xi64>
  return %0, %1 : tensor<2xi64>, tensor<2xi64>
}

// -----

// A running sum of a literal folds (integers exactly, along the given axis).
// CHECK-LABEL: func.func @cumsum_constant
// CHECK-NEXT: %[[C:.+]] = parc.constant dense<{{\[}}[1, 1, 2], [1, 2, 2]]> : tensor<2x3xi64>
// CHECK-NEXT: return %[[C]]
func.func @cumsum_constant() -> tensor<2x3xi64> {
  %0 = parc.constant dense<[[1, 0, 1], [1, 1, 0]]> : tensor<2x3xi64>
  %1 = parc.cumsum %0 {axis = 1 : i64} : tensor<2x3xi64>
  return %1 : tensor<2x3xi64>
}

// Top-k positions of a literal fold: in value order, ties by increasing position.
// CHECK-LABEL: func.func @top_k_constant
// CHECK-NEXT: %[[L:.+]] = parc.constant dense<{{\[}}[1, 2], [0, 1]]> : tensor<2x2xi64>
// CHECK-NEXT: %[[S:.+]] = parc.constant dense<{{\[}}[0, 1, 0]]> : tensor<1x3xi64>
// CHECK-NEXT: return %[[L]], %[[S]]
func.func @top_k_constant() -> (tensor<2x2xi64>, tensor<1x3xi64>) {
  %0 = parc.constant dense<[[1.0, 7.0, 3.0], [5.0, 5.0, 4.0]]> : tensor<2x3xf32>
  %1 = parc.top_k %0 {axis = 1 : i64, k = 2 : i64, largest} : tensor<2x3xf32> -> tensor<2x2xi64>
  %2 = parc.top_k %0 {axis = 0 : i64, k = 1 : i64} : tensor<2x3xf32> -> tensor<1x3xi64>
  return %1, %2 : tensor<2x2xi64>, tensor<1x3xi64>
}

// -----

// Integer arithmetic folds exactly, negative factors included (Where(shape == -1, 1,
// shape) chains of old exports), and is left unfolded where int64 overflows (the kernels
// wrap; C++ leaves it undefined). A power by a huge exponent folds by squaring, at once.
// CHECK-LABEL: func.func @int_overflow
// CHECK-DAG: %[[NEG:.+]] = parc.constant dense<[-1, -7]> : tensor<2xi64>
// CHECK-DAG: %[[ONE:.+]] = parc.constant dense<1> : tensor<i64>
// CHECK-DAG: %[[WRAP:.+]] = parc.add
// CHECK-DAG: %[[SQUARE:.+]] = parc.mul
// CHECK-DAG: %[[BIG:.+]] = parc.pow
// CHECK: return %[[NEG]], %[[WRAP]], %[[SQUARE]], %[[ONE]], %[[BIG]] :
func.func @int_overflow() -> (tensor<2xi64>, tensor<i64>, tensor<i64>, tensor<i64>, tensor<i64>) {
  %ones = parc.constant dense<[1, 7]> : tensor<2xi64>
  %minus = parc.constant dense<-1> : tensor<i64>
  %negated = parc.mul %ones, %minus : tensor<2xi64>, tensor<i64> -> tensor<2xi64>
  %max = parc.constant dense<9223372036854775807> : tensor<i64>
  %one = parc.constant dense<1> : tensor<i64>
  %wraps = parc.add %max, %one : tensor<i64>, tensor<i64> -> tensor<i64>
  %squared = parc.mul %max, %max : tensor<i64>, tensor<i64> -> tensor<i64>
  %huge = parc.constant dense<4611686018427387904> : tensor<i64>
  %unit = parc.pow %one, %huge : tensor<i64>, tensor<i64> -> tensor<i64>
  %two = parc.constant dense<2> : tensor<i64>
  %big = parc.pow %two, %huge : tensor<i64>, tensor<i64> -> tensor<i64>
  return %negated, %wraps, %squared, %unit, %big : tensor<2xi64>, tensor<i64>, tensor<i64>, tensor<i64>, tensor<i64>
}
