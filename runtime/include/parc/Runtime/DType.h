//===- DType.h - element types the runtime handles --------------*- C++ -*-===//
//
// The element types of parc tensors as the runtime stores them. Booleans take one byte
// (0 or 1); f16 and bf16 are stored as their 16-bit patterns and computed in f32.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_DTYPE_H
#define PARC_RUNTIME_DTYPE_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

namespace parc::rt {

enum class DType : uint8_t { F32 = 0, F16 = 1, BF16 = 2, I64 = 3, I32 = 4, Bool = 5 };

/// Bytes per element.
inline size_t dtypeSize(DType type) {
  switch (type) {
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::I64:
    return 8;
  case DType::Bool:
    return 1;
  }
  return 0;
}

/// The name used in manifests and messages: f32 f16 bf16 i64 i32 bool.
const char *dtypeName(DType type);
/// Parses a name printed by dtypeName.
std::optional<DType> parseDType(const std::string &name);

inline bool isFloat(DType type) {
  return type == DType::F32 || type == DType::F16 || type == DType::BF16;
}

/// IEEE half <-> float, round to nearest even.
float halfToFloat(uint16_t bits);
uint16_t floatToHalf(float value);

/// bfloat16 <-> float, round to nearest even.
inline float bf16ToFloat(uint16_t bits) {
  uint32_t word = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &word, sizeof(value));
  return value;
}
inline uint16_t floatToBf16(float value) {
  uint32_t word;
  std::memcpy(&word, &value, sizeof(word));
  if ((word & 0x7fffffffu) > 0x7f800000u) // NaN stays a quiet NaN
    return static_cast<uint16_t>((word >> 16) | 0x40);
  uint32_t rounding = 0x7fffu + ((word >> 16) & 1u);
  return static_cast<uint16_t>((word + rounding) >> 16);
}

} // namespace parc::rt

#endif // PARC_RUNTIME_DTYPE_H
