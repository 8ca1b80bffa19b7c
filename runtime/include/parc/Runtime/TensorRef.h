//===- TensorRef.h - a typed view of tensor memory --------------*- C++ -*-===//
//
// A non-owning view: a pointer, an element type and a shape, row-major and contiguous.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_TENSORREF_H
#define PARC_RUNTIME_TENSORREF_H

#include "parc/Runtime/DType.h"

#include <cstdint>
#include <string>
#include <vector>

namespace parc::rt {

using Shape = std::vector<int64_t>;

inline int64_t numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t dim : shape)
    n *= dim;
  return n;
}

/// Prints a shape as `2x3x4` (`scalar` for rank 0).
std::string formatShape(const Shape &shape);

struct TensorRef {
  void *data = nullptr;
  DType dtype = DType::F32;
  Shape shape;

  int64_t numElements() const { return rt::numElements(shape); }
  size_t bytes() const { return numElements() * dtypeSize(dtype); }
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  template <typename T> T *as() const { return static_cast<T *>(data); }
};

} // namespace parc::rt

#endif // PARC_RUNTIME_TENSORREF_H
