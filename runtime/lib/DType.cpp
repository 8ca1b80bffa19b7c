//===- DType.cpp - element type names and 16-bit float conversions --------===//
//
// Implements the element type names used in manifests and messages, and the
// conversions between IEEE binary16 and binary32 (round to nearest, ties to
// even; subnormals, infinities and NaNs preserved) that the runtime uses to
// compute f16 tensors in f32.
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/DType.h"

namespace parc::rt {

const char *dtypeName(DType type) {
  switch (type) {
  case DType::F32:
    return "f32";
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::I64:
    return "i64";
  case DType::I32:
    return "i32";
  case DType::Bool:
    return "bool";
  }
  return "unknown";
}

std::optional<DType> parseDType(const std::string &name) {
  for (DType type : {DType::F32, DType::F16, DType::BF16, DType::I64,
                     DType::I32, DType::Bool})
    if (name == dtypeName(type))
      return type;
  return std::nullopt;
}

static uint32_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

static float bitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

float halfToFloat(uint16_t bits) {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in f32.
    float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return bitsToFloat(sign | floatBits(magnitude));
  }
  if (exponent == 0x1f) // Infinity or NaN, payload kept.
    return bitsToFloat(sign | 0x7f800000u | (mantissa << 13));
  // Normal: rebias the exponent from 15 to 127.
  return bitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t floatToHalf(float value) {
  uint32_t bits = floatBits(value);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u) // NaN: keep the top payload bits, force quiet.
    return sign | 0x7e00u | static_cast<uint16_t>((magnitude >> 13) & 0x3ffu);
  // 65520 is halfway between the largest half (65504) and 2^16; ties go to
  // even, which is upward here, so everything from 65520 on is infinity.
  if (magnitude >= 0x477ff000u)
    return sign | 0x7c00u;
  if (magnitude >= 0x38800000u) {
    // Normal half (>= 2^-14). Add just under half an ulp, plus one when the
    // kept mantissa is odd, so that truncation rounds to nearest even; a carry
    // out of the mantissa correctly bumps the exponent.
    uint32_t odd = (magnitude >> 13) & 1u;
    magnitude += 0xfffu + odd;
    return sign | static_cast<uint16_t>((magnitude - 0x38000000u) >> 13);
  }
  // Subnormal half or zero: the half's unit is 2^-24. Adding 0.5 (whose f32
  // ulp is 2^-24) lets the FPU round the value to that unit, nearest even.
  float shifted = bitsToFloat(magnitude) + 0.5f;
  return sign | static_cast<uint16_t>(floatBits(shifted) - floatBits(0.5f));
}

} // namespace parc::rt
