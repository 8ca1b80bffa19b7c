//===- Reorder.cpp - moving parts along an axis ---------------------------===//
//
// Implements Reorder.h.
//
//===----------------------------------------------------------------------===//

#include "Reorder.h"

#include <cstring>

namespace parc::rt::comm {

int64_t outerCount(const Shape &shape, int64_t axis) {
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  return outer;
}

void swapBlockDims(const void *src, void *dst, int64_t rows, int64_t cols,
                   size_t blockBytes) {
  const char *from = static_cast<const char *>(src);
  char *to = static_cast<char *>(dst);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      std::memcpy(to + (j * rows + i) * blockBytes,
                  from + (i * cols + j) * blockBytes, blockBytes);
}

} // namespace parc::rt::comm
