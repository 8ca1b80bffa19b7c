// RUN: parc-opt %s -parc-split-microbatches=count=2 -parc-build-pipeline="stages=2 schedule=gpipe" | FileCheck %s

// Four layers on two stages, the batch of 4 in two microbatches of 2 rows. Stage 0 takes
// each microbatch's rows of the input, runs its two layers and sends the activation to
// stage 1 (tag = edge * microbatches + microbatch); an edge's previous send finishes before
// its next one starts. Stage 1 posts each receive one step ahead, waits for it just before
// use, and concatenates the microbatches' outputs. @main keeps the graph's signature.
// CHECK: module attributes {parc.mesh = {dp = 1 : i64, pp = 2 : i64, tp = 1 : i64}, parc.pipeline = {
// CHECK-SAME: microbatches = 2 : i64
// CHECK-SAME: schedule = "gpipe"
// CHECK-LABEL: func.func @stage0(%arg0: tensor<4x16xf32>)
// CHECK-SAME: parc.outputs = array<i64>, parc.stage = 0
// CHECK: %[[ROWS0:.*]] = parc.slice %arg0 {limit_indices = array<i64: 2, 16>, {{.*}}start_indices = array<i64: 0, 0>
// CHECK: parc.matmul %[[ROWS0]]
// CHECK: parc.send %[[OUT0:.*]] {parc.chunk = 0 : i64, parc.microbatch = 0 : i64, stage = 1 : i64, tag = 0 : i64} : tensor<2x16xf32>
// CHECK: %[[ROWS1:.*]] = parc.slice %arg0 {limit_indices = array<i64: 4, 16>, {{.*}}start_indices = array<i64: 2, 0>
// CHECK: parc.matmul %[[ROWS1]]
// CHECK: parc.send_wait %[[OUT0]] {{{.*}}stage = 1 : i64, tag = 0 : i64}
// CHECK-NEXT: parc.send %[[OUT1:.*]] {parc.chunk = 0 : i64, parc.microbatch = 1 : i64, stage = 1 : i64, tag = 1 : i64}
// CHECK-NEXT: parc.send_wait %[[OUT1]] {stage = 1 : i64, tag = 1 : i64}
// CHECK-NEXT: return
// CHECK-NOT: parc.load_weight @w2
// CHECK-LABEL: func.func @stage1(%arg0: tensor<4x16xf32>) -> tensor<4x16xf32>
// CHECK-SAME: parc.outputs = array<i64: 0>, parc.stage = 1
// CHECK: %[[BUF0:.*]] = parc.recv {parc.chunk = 1 : i64, parc.microbatch = 0 : i64, stage = 0 : i64, tag = 0 : i64} : tensor<2x16xf32>
// CHECK-NEXT: %[[IN0:.*]] = parc.recv_wait %[[BUF0]]
// CHECK-NEXT: %[[BUF1:.*]] = parc.recv {parc.chunk = 1 : i64, parc.microbatch = 0 : i64, stage = 0 : i64, tag = 1 : i64}
// CHECK: parc.matmul %[[IN0]]
// CHECK: %[[IN1:.*]] = parc.recv_wait %[[BUF1]]
// CHECK: parc.matmul %[[IN1]]
// CHECK: %[[ALL:.*]] = parc.concat {{.*}} {axis = 0 : i64} : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<4x16xf32>
// CHECK-NEXT: return %[[ALL]]
// CHECK: func.func private @main(tensor<4x16xf32> {parc.microbatch_layout = #parc.sharding<split(0)>, parc.name = "x"}) -> (tensor<4x16xf32> {parc.microbatch_layout = #parc.sharding<split(0)>, parc.name = "y"})
parc.weight @w0 = dense<1.0> : tensor<16x16xf32>
parc.weight @w1 = dense<1.0> : tensor<16x16xf32>
parc.weight @w2 = dense<1.0> : tensor<16x16xf32>
parc.weight @w3 = dense<1.0> : tensor<16x16xf32>
func.func @main(%x: tensor<4x16xf32> {parc.name = "x"}) -> (tensor<4x16xf32> {parc.name = "y"}) {
  %w0 = parc.load_weight @w0 : tensor<16x16xf32>
  %m0 = parc.matmul %x, %w0 : tensor<4x16xf32>, tensor<16x16xf32> -> tensor<4x16xf32>
  %r0 = parc.relu %m0 : tensor<4x16xf32>
  %w1 = parc.load_weight @w1 : tensor<16x16xf32>
  %m1 = parc.matmul %r0, %w1 : tensor<4x16xf32>, tensor<16x16xf32> -> tensor<4x16xf32>
  %r1 = parc.relu %m1 : tensor<4x16xf32>
  %w2 = parc.load_weight @w2 : tensor<16x16xf32>
  %m2 = parc.matmul %r1, %w2 : tensor<4x16xf32>, tensor<16x16xf32> -> tensor<4x16xf32>
  %r2 = parc.relu %m2 : tensor<4x16xf32>
  %w3 = parc.load_weight @w3 : tensor<16x16xf32>
  %m3 = parc.matmul %r2, %w3 : tensor<4x16xf32>, tensor<16x16xf32> -> tensor<4x16xf32>
  %r3 = parc.relu %m3 : tensor<4x16xf32>
  return %r3 : tensor<4x16xf32>
}
