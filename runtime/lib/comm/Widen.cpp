//===- Widen.cpp - f16 and bf16 buffers as f32 for reductions -------------===//
//
// Implements Widen.h with the runtime's scalar conversions (DType.h).
//
//===----------------------------------------------------------------------===//

#include "Widen.h"

namespace parc::rt::comm {

void widenToF32(DType type, const void *src, float *dst, int64_t count) {
  const uint16_t *bits = static_cast<const uint16_t *>(src);
  if (type == DType::F16) {
    for (int64_t i = 0; i < count; ++i)
      dst[i] = halfToFloat(bits[i]);
  } else {
    for (int64_t i = 0; i < count; ++i)
      dst[i] = bf16ToFloat(bits[i]);
  }
}

void narrowFromF32(DType type, const float *src, void *dst, int64_t count) {
  uint16_t *bits = static_cast<uint16_t *>(dst);
  if (type == DType::F16) {
    for (int64_t i = 0; i < count; ++i)
      bits[i] = floatToHalf(src[i]);
  } else {
    for (int64_t i = 0; i < count; ++i)
      bits[i] = floatToBf16(src[i]);
  }
}

} // namespace parc::rt::comm
