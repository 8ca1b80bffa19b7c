//===- TestUtils.h - owning tensors and naive references --------*- C++ -*-===//
//
// Helpers shared by the runtime's unit tests: a tensor that owns its bytes,
// constructors from literal values, random data, and the naive index arithmetic
// (row-major strides, numpy broadcasting) that the tests use to compute
// expected values independently of the kernels.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_UNITTESTS_TESTUTILS_H
#define PARC_RUNTIME_UNITTESTS_TESTUTILS_H

#include "parc/Runtime/DType.h"
#include "parc/Runtime/TensorRef.h"

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace parc::rt::test {

/// A tensor that owns its (zero-initialized) bytes.
struct Tensor {
  DType dtype = DType::F32;
  Shape shape;
  std::vector<char> bytes;

  Tensor() = default;
  Tensor(DType dtype, Shape shape)
      : dtype(dtype), shape(std::move(shape)),
        bytes(numElements(this->shape) * dtypeSize(dtype)) {}

  TensorRef ref() const {
    return TensorRef{const_cast<char *>(bytes.data()), dtype, shape};
  }
  int64_t size() const { return numElements(shape); }
  template <typename T> T *data() {
    return reinterpret_cast<T *>(bytes.data());
  }
  template <typename T> const T *data() const {
    return reinterpret_cast<const T *>(bytes.data());
  }
  template <typename T> std::vector<T> values() const {
    return std::vector<T>(data<T>(), data<T>() + size());
  }
  /// Elements of any type as doubles (f16/bf16 widened, bool 0/1).
  std::vector<double> asDoubles() const {
    std::vector<double> result(size());
    for (int64_t i = 0; i < size(); ++i) {
      switch (dtype) {
      case DType::F32:
        result[i] = data<float>()[i];
        break;
      case DType::F16:
        result[i] = halfToFloat(data<uint16_t>()[i]);
        break;
      case DType::BF16:
        result[i] = bf16ToFloat(data<uint16_t>()[i]);
        break;
      case DType::I64:
        result[i] = static_cast<double>(data<int64_t>()[i]);
        break;
      case DType::I32:
        result[i] = data<int32_t>()[i];
        break;
      case DType::Bool:
        result[i] = data<uint8_t>()[i];
        break;
      }
    }
    return result;
  }
};

/// A tensor of `dtype` holding `values` (rounded to nearest even for f16 and
/// bf16, converted with static_cast otherwise).
inline Tensor make(DType dtype, Shape shape,
                   const std::vector<double> &values) {
  Tensor tensor(dtype, std::move(shape));
  for (int64_t i = 0; i < tensor.size(); ++i) {
    double v = values[i];
    switch (dtype) {
    case DType::F32:
      tensor.data<float>()[i] = static_cast<float>(v);
      break;
    case DType::F16:
      tensor.data<uint16_t>()[i] = floatToHalf(static_cast<float>(v));
      break;
    case DType::BF16:
      tensor.data<uint16_t>()[i] = floatToBf16(static_cast<float>(v));
      break;
    case DType::I64:
      tensor.data<int64_t>()[i] = static_cast<int64_t>(v);
      break;
    case DType::I32:
      tensor.data<int32_t>()[i] = static_cast<int32_t>(v);
      break;
    case DType::Bool:
      tensor.data<uint8_t>()[i] = v != 0;
      break;
    }
  }
  return tensor;
}

inline Tensor f32(Shape shape, const std::vector<float> &values) {
  Tensor tensor(DType::F32, std::move(shape));
  std::memcpy(tensor.bytes.data(), values.data(), tensor.bytes.size());
  return tensor;
}
inline Tensor i64(Shape shape, const std::vector<int64_t> &values) {
  Tensor tensor(DType::I64, std::move(shape));
  std::memcpy(tensor.bytes.data(), values.data(), tensor.bytes.size());
  return tensor;
}
inline Tensor i32(Shape shape, const std::vector<int32_t> &values) {
  Tensor tensor(DType::I32, std::move(shape));
  std::memcpy(tensor.bytes.data(), values.data(), tensor.bytes.size());
  return tensor;
}
inline Tensor boolean(Shape shape, const std::vector<uint8_t> &values) {
  Tensor tensor(DType::Bool, std::move(shape));
  std::memcpy(tensor.bytes.data(), values.data(), tensor.bytes.size());
  return tensor;
}

/// Uniform random values in [low, high), reproducible from the seed.
inline std::vector<float> randomFloats(int64_t count, unsigned seed,
                                       float low = -1.0f, float high = 1.0f) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> distribution(low, high);
  std::vector<float> values(count);
  for (float &value : values)
    value = distribution(generator);
  return values;
}

inline Tensor randomF32(Shape shape, unsigned seed) {
  return f32(shape, randomFloats(numElements(shape), seed));
}

/// Row-major strides of `shape`.
inline std::vector<int64_t> stridesOf(const Shape &shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/// The coordinates of row-major element `index` of `shape`.
inline std::vector<int64_t> coordinatesOf(const Shape &shape, int64_t index) {
  std::vector<int64_t> coordinates(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    coordinates[d] = index % shape[d];
    index /= shape[d];
  }
  return coordinates;
}

/// The element of an operand of shape `operand` that numpy broadcasting maps to
/// element `index` of `out`.
inline int64_t broadcastSource(const Shape &operand, const Shape &out,
                               int64_t index) {
  std::vector<int64_t> coordinates = coordinatesOf(out, index);
  std::vector<int64_t> strides = stridesOf(operand);
  size_t offset = out.size() - operand.size();
  int64_t source = 0;
  for (size_t d = 0; d < operand.size(); ++d)
    if (operand[d] != 1)
      source += coordinates[offset + d] * strides[d];
  return source;
}

} // namespace parc::rt::test

#endif // PARC_RUNTIME_UNITTESTS_TESTUTILS_H
