// RUN: parc-compile %s --target=cuda --emit=cuda -o - | FileCheck %s
// RUN: parc-compile %s --target=cuda --emit=fused -o - | FileCheck %s --check-prefix=FUSED

// The CUDA C++ parc emits for each fused region (no headers: NVRTC compiles it as is).
// FUSED-COUNT-6: parc.fused "{{row|elementwise}}"
//
// Layer norm over rows of 64: one block per row; two passes reduced with warp shuffles
// and shared memory (parc_block_reduce), the per-row arithmetic once per row, the output
// in a last pass.
// CHECK: // parc_kernel_0: row, 8 rows of 64
// CHECK: __device__ __forceinline__ float parc_block_reduce(float v, bool max)
// CHECK: __shfl_xor_sync
// CHECK: extern "C" __global__ void __launch_bounds__(64) parc_kernel_0(const float * __restrict__ in0, const float * __restrict__ in1, const float * __restrict__ in2, const float * __restrict__ in3, float * __restrict__ out0)
// CHECK: long long row = blockIdx.x;
// CHECK: for (long long c = threadIdx.x; c < 64LL; c += blockDim.x) {
// CHECK: parc_block_reduce({{t[0-9]+}}, false);
// CHECK: parc_block_reduce({{t[0-9]+}}, false);
// CHECK: sqrtf(
// CHECK: out0[i] = (float)(
//
// Softmax with its mask: max and sum passes, exp(x - max) / sum in the last pass; the
// mask broadcast over the batch and heads is indexed by the row and column.
// CHECK: // parc_kernel_1: row, 16 rows of 8
// CHECK: parc_block_reduce({{t[0-9]+}}, true);
// CHECK: expf({{t[0-9]+}} - {{t[0-9]+}})
// CHECK: in1[(0 + ((i / 1LL) % 8LL) * 1LL + ((i / 8LL) % 8LL) * 8LL)]
//
// Bias + tanh-GELU on f32 with a count divisible by 4: float4 loads and stores; the
// bias (a vector) is not whole, so this one loops over single elements.
// CHECK: // parc_kernel_2: elementwise, 256 elements
// CHECK: tanhf(
//
// An f16 residual add: loaded to f32, rounded once when stored.
// CHECK: // parc_kernel_3: elementwise, 512 elements
// CHECK: parc_load_f16(in0[i])
// CHECK: out0[i] = parc_store_f16(
//
// A scaled exp on whole f32 tensors: float4.
// CHECK: // parc_kernel_4: elementwise, 512 elements (float4)
// CHECK: float4 in0_v = reinterpret_cast<const float4 *>(in0)[v];
// CHECK: reinterpret_cast<float4 *>(out0)[v] = out0_v;
//
// A bias add, a reshape and an erf-GELU in one kernel: the bias is indexed through the
// add's [8, 32] shape, the reshape is a view (the same flat index).
// CHECK: // parc_kernel_5: elementwise, 256 elements
// CHECK: in1[(0 + ((i / 1LL) % 32LL) * 1LL)]
// CHECK: erff(
module {
  parc.weight @g = dense<1.0> : tensor<64xf32>
  parc.weight @b = dense<0.0> : tensor<64xf32>
  func.func @main(%x: tensor<8x64xf32> {parc.name = "x"}, %s: tensor<2x1x8x8xf32> {parc.name = "scores"}, %m: tensor<8x8xf32> {parc.name = "mask"}, %h: tensor<4x64xf32> {parc.name = "h"}, %bias: tensor<64xf32> {parc.name = "bias"}, %a: tensor<8x64xf16> {parc.name = "a"}, %c: tensor<8x64xf16> {parc.name = "c"}, %e: tensor<8x64xf32> {parc.name = "e"}, %z: tensor<8x32xf32> {parc.name = "z"}, %zb: tensor<32xf32> {parc.name = "zb"}) -> (tensor<8x64xf32>, tensor<2x1x8x8xf32>, tensor<4x64xf32>, tensor<8x64xf16>, tensor<8x64xf32>, tensor<2x4x32xf32>) {
    %eps = parc.constant dense<1.0e-5> : tensor<f32>
    %g = parc.load_weight @g : tensor<64xf32>
    %b = parc.load_weight @b : tensor<64xf32>
    %mean = parc.reduce_mean %x {axes = array<i64: 1>, keep_dims} : tensor<8x64xf32> -> tensor<8x1xf32>
    %cx = parc.sub %x, %mean : tensor<8x64xf32>, tensor<8x1xf32> -> tensor<8x64xf32>
    %sq = parc.mul %cx, %cx : tensor<8x64xf32>, tensor<8x64xf32> -> tensor<8x64xf32>
    %var = parc.reduce_mean %sq {axes = array<i64: 1>, keep_dims} : tensor<8x64xf32> -> tensor<8x1xf32>
    %ve = parc.add %var, %eps : tensor<8x1xf32>, tensor<f32> -> tensor<8x1xf32>
    %sd = parc.sqrt %ve : tensor<8x1xf32>
    %n = parc.div %cx, %sd : tensor<8x64xf32>, tensor<8x1xf32> -> tensor<8x64xf32>
    %ng = parc.mul %n, %g : tensor<8x64xf32>, tensor<64xf32> -> tensor<8x64xf32>
    %y = parc.add %ng, %b : tensor<8x64xf32>, tensor<64xf32> -> tensor<8x64xf32>
    %sm = parc.add %s, %m : tensor<2x1x8x8xf32>, tensor<8x8xf32> -> tensor<2x1x8x8xf32>
    %p = parc.softmax %sm {axis = 3 : i64} : tensor<2x1x8x8xf32>
    %hb = parc.add %h, %bias : tensor<4x64xf32>, tensor<64xf32> -> tensor<4x64xf32>
    %gl = parc.gelu %hb {tanh_approximation} : tensor<4x64xf32>
    %ac = parc.add %a, %c : tensor<8x64xf16>, tensor<8x64xf16> -> tensor<8x64xf16>
    %half = parc.constant dense<0.5> : tensor<f32>
    %es = parc.mul %e, %half : tensor<8x64xf32>, tensor<f32> -> tensor<8x64xf32>
    %ee = parc.exp %es : tensor<8x64xf32>
    %zh = parc.add %z, %zb : tensor<8x32xf32>, tensor<32xf32> -> tensor<8x32xf32>
    %zr = parc.reshape %zh : tensor<8x32xf32> -> tensor<2x4x32xf32>
    %zg = parc.gelu %zr : tensor<2x4x32xf32>
    return %y, %p, %gl, %ac, %ee, %zg : tensor<8x64xf32>, tensor<2x1x8x8xf32>, tensor<4x64xf32>, tensor<8x64xf16>, tensor<8x64xf32>, tensor<2x4x32xf32>
  }
}
