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
#ifdef __CUDA_ARCH__
__device__ __forceinline__ float parc_load_f16(parc_f16 h) {
  float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f;
}
__device__ __forceinline__ parc_f16 parc_store_f16(float f) {
  parc_f16 h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h;
}
#else  // compiled for the host (parc-run's CUDA emulator)
__device__ __forceinline__ float parc_load_f16(parc_f16 h) {
  _Float16 v; __builtin_memcpy(&v, &h, 2); return (float)v;
}
__device__ __forceinline__ parc_f16 parc_store_f16(float f) {
  _Float16 v = (_Float16)f; parc_f16 h; __builtin_memcpy(&h, &v, 2); return h;
}
#endif
__device__ __forceinline__ float parc_load_bf16(parc_bf16 b) {
  return __uint_as_float(((unsigned int)b) << 16);
}
__device__ __forceinline__ parc_bf16 parc_store_bf16(float f) {
  unsigned int u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (parc_bf16)0x7fc0;  // NaN
  u += 0x7fffu + ((u >> 16) & 1u);                                 // round to nearest even
  return (parc_bf16)(u >> 16);
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
