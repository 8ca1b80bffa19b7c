// RUN: parc-opt %s | parc-opt | FileCheck %s
// Every parc op prints and parses back to itself.

// CHECK: parc.weight @w = dense<{{.*}}> : tensor<4x8xf32>
parc.weight @w = dense<1.0> : tensor<4x8xf32>

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%a: tensor<2x4xf32>, %b: tensor<4xf32>, %c: tensor<2x4xi1>) -> tensor<2x4xf32> {
  // CHECK: parc.add %{{.*}}, %{{.*}} : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  %0 = parc.add %a, %b : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  %1 = parc.sub %0, %b : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  %2 = parc.mul %1, %a : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  %3 = parc.div %2, %a : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  %4 = parc.pow %3, %b : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  %5 = parc.max %4, %b : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  %6 = parc.min %5, %b : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  // CHECK: parc.less %{{.*}}, %{{.*}} : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xi1>
  %7 = parc.less %6, %b : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xi1>
  %8 = parc.and %7, %c : tensor<2x4xi1>, tensor<2x4xi1> -> tensor<2x4xi1>
  %9 = parc.not %8 : tensor<2x4xi1>
  // CHECK: parc.select %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x4xi1>, tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  %10 = parc.select %9, %6, %b : tensor<2x4xi1>, tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  %11 = parc.exp %10 : tensor<2x4xf32>
  %12 = parc.tanh %11 : tensor<2x4xf32>
  // CHECK: parc.gelu %{{.*}} {tanh_approximation} : tensor<2x4xf32>
  %13 = parc.gelu %12 {tanh_approximation} : tensor<2x4xf32>
  return %13 : tensor<2x4xf32>
}

// CHECK-LABEL: func.func @structure
func.func @structure(%x: tensor<2x3x4xf32>, %i: tensor<5xi64>) -> tensor<4x6xf32> {
  // CHECK: parc.load_weight @w : tensor<4x8xf32>
  %w = parc.load_weight @w : tensor<4x8xf32>
  // CHECK: parc.matmul %{{.*}}, %{{.*}} : tensor<2x3x4xf32>, tensor<4x8xf32> -> tensor<2x3x8xf32>
  %0 = parc.matmul %x, %w : tensor<2x3x4xf32>, tensor<4x8xf32> -> tensor<2x3x8xf32>
  // CHECK: parc.reduce_mean %{{.*}} {axes = array<i64: 2>, keep_dims} : tensor<2x3x8xf32> -> tensor<2x3x1xf32>
  %1 = parc.reduce_mean %0 {axes = array<i64: 2>, keep_dims} : tensor<2x3x8xf32> -> tensor<2x3x1xf32>
  %2 = parc.softmax %0 {axis = 2 : i64} : tensor<2x3x8xf32>
  // CHECK: parc.transpose %{{.*}}, [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  %3 = parc.transpose %x, [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  %4 = parc.reshape %3 : tensor<4x2x3xf32> -> tensor<4x6xf32>
  %5 = parc.concat %4, %4 {axis = 1 : i64} : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x12xf32>
  // CHECK: parc.slice %{{.*}} {limit_indices = array<i64: 4, 12>, start_indices = array<i64: 0, 0>, strides = array<i64: 1, 2>} : tensor<4x12xf32> -> tensor<4x6xf32>
  %6 = parc.slice %5 {start_indices = array<i64: 0, 0>, limit_indices = array<i64: 4, 12>, strides = array<i64: 1, 2>} : tensor<4x12xf32> -> tensor<4x6xf32>
  // CHECK: parc.gather %{{.*}}[%{{.*}}] {axis = 0 : i64} : tensor<4x6xf32>, tensor<5xi64> -> tensor<5x6xf32>
  %7 = parc.gather %6[%i] {axis = 0 : i64} : tensor<4x6xf32>, tensor<5xi64> -> tensor<5x6xf32>
  %8 = parc.broadcast_to %1 : tensor<2x3x1xf32> -> tensor<2x3x8xf32>
  %9 = parc.convert %i : tensor<5xi64> -> tensor<5xf32>
  return %6 : tensor<4x6xf32>
}

// CHECK-LABEL: func.func @remainders_and_element_gathers
func.func @remainders_and_element_gathers(%a: tensor<4xi64>, %b: tensor<4xi64>, %x: tensor<2x3xf32>, %i: tensor<2x3xi64>, %s: tensor<2x2x3xf32>) -> (tensor<4xi64>, tensor<2x3xf32>) {
  // CHECK: parc.mod %{{.*}}, %{{.*}} {fmod} : tensor<4xi64>, tensor<4xi64> -> tensor<4xi64>
  %0 = parc.mod %a, %b {fmod} : tensor<4xi64>, tensor<4xi64> -> tensor<4xi64>
  // CHECK: parc.gather_elements %{{.*}}[%{{.*}}] {axis = 1 : i64} : tensor<2x3xf32>, tensor<2x3xi64> -> tensor<2x3xf32>
  %1 = parc.gather_elements %x[%i] {axis = 1 : i64} : tensor<2x3xf32>, tensor<2x3xi64> -> tensor<2x3xf32>
  // CHECK: parc.scatter_add %{{.*}}[%{{.*}}] {axis = 1 : i64} : tensor<2x2x3xf32>, tensor<2x3xi64> -> tensor<2x4xf32>
  %scattered = parc.scatter_add %s[%i] {axis = 1 : i64} : tensor<2x2x3xf32>, tensor<2x3xi64> -> tensor<2x4xf32>
  return %0, %1 : tensor<4xi64>, tensor<2x3xf32>
}

// CHECK-LABEL: func.func @scans
func.func @scans(%a: tensor<2x5xf32>, %m: tensor<2x5xi64>) -> (tensor<2x5xf32>, tensor<2x5xi64>) {
  // CHECK: parc.cumsum %{{.*}} {axis = 1 : i64} : tensor<2x5xf32>
  %0 = parc.cumsum %a {axis = 1 : i64} : tensor<2x5xf32>
  // CHECK: parc.cumsum %{{.*}} {axis = 0 : i64} : tensor<2x5xi64>
  %1 = parc.cumsum %m {axis = 0 : i64} : tensor<2x5xi64>
  return %0, %1 : tensor<2x5xf32>, tensor<2x5xi64>
}

// CHECK-LABEL: func.func @top_k
func.func @top_k(%a: tensor<2x5xf32>, %m: tensor<4x3xi32>) -> (tensor<2x2xi64>, tensor<1x3xi64>) {
  // CHECK: parc.top_k %{{.*}} {axis = 1 : i64, k = 2 : i64, largest} : tensor<2x5xf32> -> tensor<2x2xi64>
  %0 = parc.top_k %a {axis = 1 : i64, k = 2 : i64, largest} : tensor<2x5xf32> -> tensor<2x2xi64>
  // CHECK: parc.top_k %{{.*}} {axis = 0 : i64, k = 1 : i64} : tensor<4x3xi32> -> tensor<1x3xi64>
  %1 = parc.top_k %m {axis = 0 : i64, k = 1 : i64} : tensor<4x3xi32> -> tensor<1x3xi64>
  return %0, %1 : tensor<2x2xi64>, tensor<1x3xi64>
}
