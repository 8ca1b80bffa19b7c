//===- TensorRef.cpp - printing tensor shapes -----------------------------===//
//
// Implements formatShape, the `2x3x4` spelling of shapes used in every runtime
// message.
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/TensorRef.h"

namespace parc::rt {

std::string formatShape(const Shape &shape) {
  if (shape.empty())
    return "scalar";
  std::string text;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      text += 'x';
    text += std::to_string(shape[i]);
  }
  return text;
}

} // namespace parc::rt
