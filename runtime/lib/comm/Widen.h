//===- Widen.h - f16 and bf16 buffers as f32 for reductions -----*- C++ -*-===//
//
// Gloo has no bf16 type and sums f16 in f16; the communication layer sums
// 16-bit floats in f32 and rounds once, through these conversions.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_COMM_WIDEN_H
#define PARC_RUNTIME_COMM_WIDEN_H

#include "parc/Runtime/DType.h"

#include <cstdint>

namespace parc::rt::comm {

/// Whether `type` is f16 or bf16, which reductions carry in f32.
inline bool isHalfFloat(DType type) {
  return type == DType::F16 || type == DType::BF16;
}

/// Converts `count` f16 or bf16 values (`type`) at `src` to f32 at `dst`.
void widenToF32(DType type, const void *src, float *dst, int64_t count);

/// Converts `count` f32 values at `src` to f16 or bf16 (`type`) at `dst`,
/// rounding to nearest even.
void narrowFromF32(DType type, const float *src, void *dst, int64_t count);

} // namespace parc::rt::comm

#endif // PARC_RUNTIME_COMM_WIDEN_H
