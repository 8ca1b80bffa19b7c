// RUN: parc-compile %s --target=cuda --emit=cuda -o - | FileCheck %s
// RUN: parc-compile %s --target=cuda --emit=fused -o - | FileCheck %s --check-prefix=FUSED

// The CUDA C++ parc emits for each fused region (no headers: NVRTC compiles it as is).
// FUSED-COUNT-7: parc.fused "{{row|elementwise}}"
//
// Layer norm over rows of 64: one block per row; the inputs read along the row (x, the
// gain, the bias) staged in shared memory with 16-byte loads; the mean and the variance
// in one Welford pass over the staged row, merged across the block with warp shuffles and
// shared memory; the per-row arithmetic once per row with the epsilon a literal, and the
// output in a last pass of 4 columns a thread stored in one 16-byte chunk. The index
// math is 32-bit.
// CHECK: // parc_kernel_0: row, 8 rows of 64
// CHECK: __device__ __forceinline__ float parc_block_reduce(float v, bool max)
// CHECK: __shfl_xor_sync
// CHECK: extern "C" __global__ void __launch_bounds__(64) parc_kernel_0(const float * __restrict__ in0, const float * __restrict__ in1, const float * __restrict__ in2, const float * __restrict__ in3, float * __restrict__ out0)
// CHECK: const int row = blockIdx.x;
// CHECK: __shared__ float parc_row0[64];
// CHECK-NEXT: for (int c = threadIdx.x * 4; c < 64; c += blockDim.x * 4) {
// CHECK: uint4 [[X:t[0-9]+]] = reinterpret_cast<const uint4 *>(in0 + i)[0];
// CHECK: = __uint_as_float([[X]].w);
// CHECK: parc_row0[c + 3] =
// CHECK: __shared__ float parc_row2[64];
// CHECK: reinterpret_cast<const uint4 *>(in2 + (0 + (i % 64)))[0];
// CHECK: __syncthreads();
// CHECK: for (int c = threadIdx.x; c < 64; c += blockDim.x) {
// CHECK: parc_welford_add([[N:t[0-9]+]], [[MEAN:t[0-9]+]], [[M2:t[0-9]+]], (float)(parc_row0[c]));
// CHECK: parc_block_reduce_welford([[N]], [[MEAN]], [[M2]]);
// CHECK: float [[VAR:t[0-9]+]] = [[M2]] / (float)64;
// CHECK-NOT: parc_block_reduce(
// CHECK: = ([[VAR]] + (0x1.4f8b58p-17f));
// CHECK: sqrtf(
// CHECK: for (int c0 = threadIdx.x * 4; c0 < 64; c0 += blockDim.x * 4) {
// CHECK: const int c = c0 + 3;
// CHECK: reinterpret_cast<uint4 *>(out0 + i0)[0] =
//
// Softmax with its mask: online (max and sum in one pass, merged across the block), then
// exp(x - max) / sum in the last pass; the mask broadcast over the batch and heads is
// staged through its row and column.
// CHECK: // parc_kernel_1: row, 16 rows of 8
// CHECK: reinterpret_cast<const uint4 *>(in1 + (0 + (i % 8) + ((i / 8) % 8) * 8))[0];
// CHECK: parc_softmax_add([[M:t[0-9]+]], [[S:t[0-9]+]], (float)(
// CHECK: parc_block_reduce_softmax([[M]], [[S]]);
// CHECK: expf({{t[0-9]+}} - [[M]]) / [[S]]
//
// Bias + tanh-GELU on f32: 4 lanes a step; the bias (along the last dim, 64 = 16 x 4)
// read in 16-byte chunks too.
// CHECK: // parc_kernel_2: elementwise, 256 elements (4 lanes, 16-byte)
// CHECK: for (int v = first; v < 64; v += stride) {
// CHECK: reinterpret_cast<const uint4 *>(in0 + i0)[0];
// CHECK: reinterpret_cast<const uint4 *>(in1 + (0 + (i0 % 64)))[0];
// CHECK: tanhf(
// CHECK: reinterpret_cast<uint4 *>(out0 + i0)[0] =
//
// An f16 residual add: 8 lanes a step, in pairs of a 32-bit word, computed in f32 and
// rounded once when stored.
// CHECK: // parc_kernel_3: elementwise, 512 elements (8 lanes, 16-byte)
// CHECK: float {{t[0-9]+}} = parc_load_f16((parc_f16)({{t[0-9]+}}.w >> 16));
// CHECK: .x = (unsigned int)parc_store_f16({{t[0-9]+}}) | ((unsigned int)parc_store_f16({{t[0-9]+}}) << 16);
//
// A scaled exp on whole f32 tensors: the scale is a literal, not a load.
// CHECK: // parc_kernel_4: elementwise, 512 elements (4 lanes, 16-byte)
// CHECK-NOT: in1[
// CHECK: = ({{t[0-9]+}} * (0x1p-1f));
// CHECK: reinterpret_cast<uint4 *>(out0 + i0)[0] =
//
// A bias add, a reshape and an erf-GELU in one kernel: 16-byte steps over the whole
// input and the output; the bias is read lane by lane through the add's [8, 32] shape
// (the reshape is a view: the same flat index).
// CHECK: // parc_kernel_5: elementwise, 256 elements (4 lanes, 16-byte)
// CHECK: const int i = i0 + 1;
// CHECK-NEXT: float {{t[0-9]+}} = in1[(0 + (i % 32))];
// CHECK: erff(
//
// 63 elements: 15 steps of 4 lanes, then the last 3 one at a time.
// CHECK: // parc_kernel_6: elementwise, 63 elements (4 lanes, 16-byte)
// CHECK: for (int v = first; v < 15; v += stride) {
// CHECK: reinterpret_cast<uint4 *>(out0 + i0)[0] =
// CHECK: for (int i = 60 + first; i < 63; i += stride) {
// CHECK-NEXT: float {{t[0-9]+}} = in0[i];
// CHECK: out0[i] = (float)(
module {
  parc.weight @g = dense<1.0> : tensor<64xf32>
  parc.weight @b = dense<0.0> : tensor<64xf32>
  func.func @main(%x: tensor<8x64xf32> {parc.name = "x"}, %s: tensor<2x1x8x8xf32> {parc.name = "scores"}, %m: tensor<8x8xf32> {parc.name = "mask"}, %h: tensor<4x64xf32> {parc.name = "h"}, %bias: tensor<64xf32> {parc.name = "bias"}, %a: tensor<8x64xf16> {parc.name = "a"}, %c: tensor<8x64xf16> {parc.name = "c"}, %e: tensor<8x64xf32> {parc.name = "e"}, %z: tensor<8x32xf32> {parc.name = "z"}, %zb: tensor<32xf32> {parc.name = "zb"}, %w: tensor<7x9xf32> {parc.name = "w"}) -> (tensor<8x64xf32>, tensor<2x1x8x8xf32>, tensor<4x64xf32>, tensor<8x64xf16>, tensor<8x64xf32>, tensor<2x4x32xf32>, tensor<7x9xf32>) {
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
    %we = parc.exp %w : tensor<7x9xf32>
    return %y, %p, %gl, %ac, %ee, %zg, %we : tensor<8x64xf32>, tensor<2x1x8x8xf32>, tensor<4x64xf32>, tensor<8x64xf16>, tensor<8x64xf32>, tensor<2x4x32xf32>, tensor<7x9xf32>
  }
}
