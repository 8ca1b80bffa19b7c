//===- KernelSupport.h - pieces every generated CUDA kernel shares -*- C++ -*-===//
//
// The prelude each kernel source starts with (f16/bf16 conversions, block reductions) and
// how element types are stored and computed in kernels. Internal to lib/Target/Cuda.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_LIB_TARGET_CUDA_KERNELSUPPORT_H
#define PARC_LIB_TARGET_CUDA_KERNELSUPPORT_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"

#include <string>

namespace mlir::parc {

/// Helpers every kernel carries: f16/bf16 conversions and block reductions.
inline constexpr const char *kPrelude = R"(typedef unsigned short parc_f16;
typedef unsigned short parc_bf16;
// The conversions are integer code, the same on the GPU and in parc-run's CUDA emulator
// (which compiles these sources for the host), so the emulator runs the very rounding the
// GPU does: round to nearest even, overflow to infinity, subnormals kept, NaN stays NaN
// (unittests/KernelPreludeTest.cpp checks them against the runtime's conversions).
__device__ __forceinline__ float parc_load_f16(parc_f16 h) {
  unsigned int sign = ((unsigned int)h & 0x8000u) << 16;
  unsigned int exponent = ((unsigned int)h >> 10) & 0x1fu, mantissa = (unsigned int)h & 0x3ffu;
  if (exponent == 0x1fu) return __uint_as_float(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0u) {  // zero or subnormal: mantissa * 2^-24, exact in f32
    float magnitude = (float)mantissa * 5.9604644775390625e-8f;
    return __uint_as_float(sign | __float_as_uint(magnitude));
  }
  return __uint_as_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}
__device__ __forceinline__ parc_f16 parc_store_f16(float f) {
  unsigned int u = __float_as_uint(f);
  unsigned int sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return (parc_f16)(sign | 0x7e00u);   // NaN
  if (a >= 0x477ff000u) return (parc_f16)(sign | 0x7c00u);  // from 65520 (a tie, to even) on
  if (a >= 0x38800000u) {                                    // a normal half (>= 2^-14)
    a += 0xfffu + ((a >> 13) & 1u);                          // half an ulp, ties to even
    return (parc_f16)(sign | ((a - 0x38000000u) >> 13));     // rebias 127 -> 15
  }
  // A subnormal half (units of 2^-24) or zero: the 24-bit significand shifted right.
  int shift = 126 - (int)(a >> 23);
  if (shift > 24) return (parc_f16)sign;
  unsigned int significand = (a & 0x7fffffu) | 0x800000u;
  unsigned int kept = significand >> shift, rest = significand & ((1u << shift) - 1u);
  unsigned int half = 1u << (shift - 1);
  kept += (rest > half || (rest == half && (kept & 1u))) ? 1u : 0u;
  return (parc_f16)(sign | kept);
}
__device__ __forceinline__ float parc_load_bf16(parc_bf16 b) {
  return __uint_as_float(((unsigned int)b) << 16);
}
__device__ __forceinline__ parc_bf16 parc_store_bf16(float f) {
  unsigned int u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (parc_bf16)((u >> 16) | 0x40u);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);                                           // ties to even
  return (parc_bf16)(u >> 16);
}
/// parc.mod: the remainder with the divisor's sign (Python's %), or with `c_style` the
/// dividend's (C's fmod), as the CPU backend computes it; an integer remainder by -1 (or by
/// zero, an error on the CPU) is 0.
__device__ __forceinline__ float parc_remainder(float a, float b, bool c_style) {
  float r = fmodf(a, b);
  return (!c_style && r != 0.0f && ((r < 0.0f) != (b < 0.0f))) ? r + b : r;
}
template <typename T> __device__ __forceinline__ T parc_remainder(T a, T b, bool c_style) {
  if (b == 0 || b == -1) return 0;
  T r = a % b;
  return (!c_style && r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
/// The sum (or maximum) over the block, in every thread.
__device__ __forceinline__ float parc_block_reduce(float v, bool max) {
  __shared__ float parc_partial[32];
  for (int offset = 16; offset > 0; offset /= 2) {
    float other = __shfl_xor_sync(0xffffffffu, v, offset);
    v = max ? fmaxf(v, other) : v + other;
  }
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) parc_partial[warp] = v;
  __syncthreads();
  int warps = (blockDim.x + 31) >> 5;
  v = lane < warps ? parc_partial[lane] : (max ? -__int_as_float(0x7f800000) : 0.0f);
  for (int offset = 16; offset > 0; offset /= 2) {
    float other = __shfl_xor_sync(0xffffffffu, v, offset);
    v = max ? fmaxf(v, other) : v + other;
  }
  __syncthreads();  // parc_partial is reused by the next reduction
  return v;
}
/// Welford's running mean and sum of squared deviations (M2) over n values: one pass for
/// a layer norm's mean and variance, as stable as the two-pass form.
__device__ __forceinline__ void parc_welford_add(float &n, float &mean, float &m2, float x) {
  n += 1.0f;
  float delta = x - mean;
  mean += delta / n;
  m2 += delta * (x - mean);
}
/// Merges another thread's (n, mean, M2) (Chan et al.'s pairwise update).
__device__ __forceinline__ void parc_welford_merge(float &n, float &mean, float &m2, float on,
                                                  float omean, float om2) {
  if (on == 0.0f) return;
  if (n == 0.0f) { n = on; mean = omean; m2 = om2; return; }
  float total = n + on, delta = omean - mean;
  mean += delta * (on / total);
  m2 += om2 + delta * delta * (n * on / total);
  n = total;
}
/// The row's (n, mean, M2) over the block, in every thread.
__device__ __forceinline__ void parc_block_reduce_welford(float &n, float &mean, float &m2) {
  __shared__ float parc_partial_n[32], parc_partial_mean[32], parc_partial_m2[32];
  for (int offset = 16; offset > 0; offset /= 2)
    parc_welford_merge(n, mean, m2, __shfl_xor_sync(0xffffffffu, n, offset),
                       __shfl_xor_sync(0xffffffffu, mean, offset),
                       __shfl_xor_sync(0xffffffffu, m2, offset));
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) { parc_partial_n[warp] = n; parc_partial_mean[warp] = mean; parc_partial_m2[warp] = m2; }
  __syncthreads();
  int warps = (blockDim.x + 31) >> 5;
  n = lane < warps ? parc_partial_n[lane] : 0.0f;
  mean = lane < warps ? parc_partial_mean[lane] : 0.0f;
  m2 = lane < warps ? parc_partial_m2[lane] : 0.0f;
  for (int offset = 16; offset > 0; offset /= 2)
    parc_welford_merge(n, mean, m2, __shfl_xor_sync(0xffffffffu, n, offset),
                       __shfl_xor_sync(0xffffffffu, mean, offset),
                       __shfl_xor_sync(0xffffffffu, m2, offset));
  __syncthreads();
}
/// Online softmax (one pass for the row's max and sum of exp(x - max)): folds element x
/// into the running (max m, sum s), rescaling s when the max grows. x == m adds exp(0); a
/// row that starts at -inf gets its 1s scaled to 0 by the first finite max.
__device__ __forceinline__ void parc_softmax_add(float &m, float &s, float x) {
  if (x > m) { s = s * expf(m - x) + 1.0f; m = x; }
  else s += x == m ? 1.0f : expf(x - m);
}
/// Merges another thread's (max, sum); a side whose max is the merged one is not
/// rescaled, so two empty sides (-inf, 0) stay (-inf, 0) instead of NaN.
__device__ __forceinline__ void parc_softmax_merge(float &m, float &s, float om, float os) {
  float mm = fmaxf(m, om);
  s = (m == mm ? s : s * expf(m - mm)) + (om == mm ? os : os * expf(om - mm));
  m = mm;
}
/// The row's (max, sum) over the block, in every thread.
__device__ __forceinline__ void parc_block_reduce_softmax(float &m, float &s) {
  __shared__ float parc_partial_max[32], parc_partial_sum[32];
  for (int offset = 16; offset > 0; offset /= 2)
    parc_softmax_merge(m, s, __shfl_xor_sync(0xffffffffu, m, offset),
                       __shfl_xor_sync(0xffffffffu, s, offset));
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) { parc_partial_max[warp] = m; parc_partial_sum[warp] = s; }
  __syncthreads();
  int warps = (blockDim.x + 31) >> 5;
  m = lane < warps ? parc_partial_max[lane] : -__int_as_float(0x7f800000);
  s = lane < warps ? parc_partial_sum[lane] : 0.0f;
  for (int offset = 16; offset > 0; offset /= 2)
    parc_softmax_merge(m, s, __shfl_xor_sync(0xffffffffu, m, offset),
                       __shfl_xor_sync(0xffffffffu, s, offset));
  __syncthreads();
}
)";

/// The C types of an element type: how it is stored, and what it is computed in.
struct ElementKind {
  std::string storage, compute;
  std::string load(const std::string &x) const {
    if (storage == "parc_f16")
      return "parc_load_f16(" + x + ")";
    if (storage == "parc_bf16")
      return "parc_load_bf16(" + x + ")";
    return x;
  }
  std::string store(const std::string &x) const {
    if (storage == "parc_f16")
      return "parc_store_f16(" + x + ")";
    if (storage == "parc_bf16")
      return "parc_store_bf16(" + x + ")";
    return "(" + storage + ")(" + x + ")";
  }
};

/// Bytes of one stored element.
inline int64_t storageBytes(const ElementKind &kind) {
  if (kind.storage == "long long")
    return 8;
  if (kind.storage == "float" || kind.storage == "int")
    return 4;
  if (kind.storage == "bool")
    return 1;
  return 2; // parc_f16, parc_bf16
}

inline FailureOr<ElementKind> kindOf(Type type, Operation *where) {
  Type element = cast<RankedTensorType>(type).getElementType();
  if (element.isF32())
    return ElementKind{"float", "float"};
  if (element.isF16())
    return ElementKind{"parc_f16", "float"};
  if (element.isBF16())
    return ElementKind{"parc_bf16", "float"};
  if (element.isInteger(64))
    return ElementKind{"long long", "long long"};
  if (element.isInteger(32))
    return ElementKind{"int", "int"};
  if (element.isInteger(1))
    return ElementKind{"bool", "bool"};
  return where->emitOpError("element type ") << element << " has no CUDA kernel";
}

} // namespace mlir::parc

#endif // PARC_LIB_TARGET_CUDA_KERNELSUPPORT_H
