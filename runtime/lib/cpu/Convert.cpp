//===- Convert.cpp - element type conversion ------------------------------===//
//
// Implements convert (ONNX Cast) between all pairs of the six element types,
// and the f16/bf16 widening and narrowing the other kernels use. Float to
// integer truncates toward zero and saturates (NaN becomes 0); anything to bool
// tests for non-zero; every conversion rounds once: integers reach bf16 through
// a round-to-odd f32, which keeps enough bits for the final
// round-to-nearest-even to be exact.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"
#include "KernelSupport.h"

#include <cmath>
#include <limits>
#include <type_traits>

namespace parc::rt::cpu {

namespace {

/// Storage tags for the 16-bit float types (their bits are uint16_t).
struct Half {};
struct BFloat {};

template <typename T> struct Storage { using type = T; };
template <> struct Storage<Half> { using type = uint16_t; };
template <> struct Storage<BFloat> { using type = uint16_t; };
template <> struct Storage<bool> { using type = uint8_t; };

/// Reads one element as the type it computes in: f32 for floats, the integer
/// itself otherwise (bool is a 0/1 byte).
template <typename T> auto loadValue(typename Storage<T>::type value) {
  if constexpr (std::is_same_v<T, Half>)
    return halfToFloat(value);
  else if constexpr (std::is_same_v<T, BFloat>)
    return bf16ToFloat(value);
  else
    return value;
}

/// An integer as an f32 rounded to odd: truncated toward zero, with the last
/// mantissa bit set when that dropped anything. Rounding this f32 to a float
/// with at least two fewer mantissa bits (bf16) gives the same result as
/// rounding the integer directly.
float intToFloatRoundToOdd(int64_t value) {
  uint64_t magnitude = value < 0 ? 0 - static_cast<uint64_t>(value)
                                 : static_cast<uint64_t>(value);
  float result;
  if (magnitude < (uint64_t(1) << 24)) {
    result = static_cast<float>(magnitude);
  } else {
    int shift = 63 - __builtin_clzll(magnitude) - 23;
    uint64_t kept = magnitude >> shift;
    if (magnitude & ((uint64_t(1) << shift) - 1))
      kept |= 1; // Sticky: the dropped bits were not all zero.
    result = std::ldexp(static_cast<float>(kept), shift);
  }
  return value < 0 ? -result : result;
}

/// f32 to an integer type, truncating toward zero and saturating.
template <typename I> I floatToInt(float value) {
  // 2^31 or 2^63: the first value past the largest integer.
  constexpr float limit =
      static_cast<float>(uint64_t(1) << (sizeof(I) * 8 - 1));
  if (value != value)
    return 0;
  if (value >= limit)
    return std::numeric_limits<I>::max();
  if (value < -limit)
    return std::numeric_limits<I>::min();
  return static_cast<I>(value);
}

/// Converts one value (f32 or an integer) to the storage of type To.
template <typename To, typename From>
typename Storage<To>::type storeValue(From value) {
  constexpr bool fromFloat = std::is_floating_point_v<From>;
  if constexpr (std::is_same_v<To, bool>) {
    return value != 0;
  } else if constexpr (std::is_same_v<To, float>) {
    return static_cast<float>(value);
  } else if constexpr (std::is_same_v<To, Half>) {
    // Integers that f16 can hold (|v| < 65520) are exact in f32.
    return floatToHalf(static_cast<float>(value));
  } else if constexpr (std::is_same_v<To, BFloat>) {
    if constexpr (fromFloat)
      return floatToBf16(value);
    else
      return floatToBf16(intToFloatRoundToOdd(static_cast<int64_t>(value)));
  } else if constexpr (fromFloat) {
    return floatToInt<To>(value);
  } else {
    return static_cast<To>(value); // Integer to integer wraps.
  }
}

template <typename From, typename To>
void convertTyped(const TensorRef &in, const TensorRef &out) {
  using FromStorage = typename Storage<From>::type;
  using ToStorage = typename Storage<To>::type;
  const FromStorage *source = static_cast<const FromStorage *>(in.data);
  ToStorage *target = static_cast<ToStorage *>(out.data);
  parallelFor(in.numElements(), 2, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      target[i] = storeValue<To>(loadValue<From>(source[i]));
  });
}

/// Calls fn(TypeTag<T>{}) with the conversion tag of an element type.
template <typename Fn> void dispatchConvertType(DType type, Fn &&fn) {
  switch (type) {
  case DType::F32:
    return fn(TypeTag<float>{});
  case DType::F16:
    return fn(TypeTag<Half>{});
  case DType::BF16:
    return fn(TypeTag<BFloat>{});
  case DType::I64:
    return fn(TypeTag<int64_t>{});
  case DType::I32:
    return fn(TypeTag<int32_t>{});
  case DType::Bool:
    return fn(TypeTag<bool>{});
  }
}

} // namespace

void convert(const TensorRef &in, const TensorRef &out) {
  if (in.dtype == out.dtype) {
    copy(in, out);
    return;
  }
  dispatchConvertType(in.dtype, [&](auto fromTag) {
    dispatchConvertType(out.dtype, [&](auto toTag) {
      convertTyped<typename decltype(fromTag)::type,
                   typename decltype(toTag)::type>(in, out);
    });
  });
}

std::vector<float> widenToFloat(const TensorRef &tensor) {
  std::vector<float> values(tensor.numElements());
  convert(tensor, TensorRef{values.data(), DType::F32, tensor.shape});
  return values;
}

void narrowFromFloat(const float *values, const TensorRef &out) {
  TensorRef source{const_cast<float *>(values), DType::F32, out.shape};
  convert(source, out);
}

} // namespace parc::rt::cpu
