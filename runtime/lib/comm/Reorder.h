//===- Reorder.h - moving parts along an axis -------------------*- C++ -*-===//
//
// Gloo gathers and scatters contiguous byte ranges, i.e. along axis 0. For
// another axis the communication layer views a tensor as [outer, parts, part
// bytes] and swaps the first two dimensions with a plain strided copy.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_COMM_REORDER_H
#define PARC_RUNTIME_COMM_REORDER_H

#include "parc/Runtime/TensorRef.h"

#include <cstddef>
#include <cstdint>

namespace parc::rt::comm {

/// The product of the dims of `shape` before `axis` (1 for axis 0).
int64_t outerCount(const Shape &shape, int64_t axis);

/// Copies `src`, viewed as [rows][cols] blocks of `blockBytes` bytes, to `dst`
/// as [cols][rows]: block (i, j) of src lands at block (j, i) of dst. The two
/// must not overlap.
void swapBlockDims(const void *src, void *dst, int64_t rows, int64_t cols,
                   size_t blockBytes);

} // namespace parc::rt::comm

#endif // PARC_RUNTIME_COMM_REORDER_H
