//===- StridedLoop.h - walking strided operands in output order -*- C++ -*-===//
//
// Private to the CPU backend. Broadcasting, slicing and transposition all read
// up to three operands at (per-dim) strides while writing a contiguous output.
// A StridedPlan describes such a walk with adjacent dims merged wherever every
// operand allows it, so that the common cases collapse into one long inner row:
// same shapes become a single row with unit strides, a scalar operand gets
// stride 0, `[B,S,H] + [H]` becomes rows of H over B*S with the bias at stride
// 0 between rows, `[B,S,H] * [B,S,1]` rows of H whose multiplier has inner
// stride 0. forEachSegment then hands the kernel contiguous runs of the output
// with the operands' offsets, advancing the outer indices incrementally (no
// division per element).
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_CPU_STRIDEDLOOP_H
#define PARC_RUNTIME_CPU_STRIDEDLOOP_H

#include "parc/Runtime/TensorRef.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace parc::rt::cpu {

/// A walk over a contiguous output of `total` elements, viewed as outer dims
/// times an inner row of `inner` elements, reading each operand at its strides.
struct StridedPlan {
  static constexpr int kMaxOperands = 3;
  using Offsets = std::array<int64_t, kMaxOperands>;

  int numOperands = 0;
  int64_t total = 0;
  /// Length of the innermost (merged) dim, and each operand's stride along it.
  int64_t inner = 1;
  Offsets innerStride = {};
  /// The remaining merged dims, outermost first, with each operand's strides.
  Shape outerDims;
  std::vector<Offsets> outerStrides;
};

/// Builds a plan for output `dims` where operand k reads element index
/// sum(i_d * strides[k][d]). Size-1 dims are dropped and adjacent dims merged.
StridedPlan makeStridedPlan(const Shape &dims,
                            const std::vector<std::vector<int64_t>> &strides);

/// A plan reading each operand broadcast (numpy rules) to the output `shape`.
StridedPlan makeBroadcastPlan(const Shape &shape,
                              std::initializer_list<const Shape *> operands);

/// Row-major strides of a shape, in elements.
std::vector<int64_t> contiguousStrides(const Shape &shape);

/// Calls fn(position, offsets, length) for every run of output elements in
/// [begin, end) that lies within one inner row: the run starts at output index
/// `position`, and operand k's first element is at offsets[k] and advances by
/// plan.innerStride[k].
template <typename Fn>
void forEachSegment(const StridedPlan &plan, int64_t begin, int64_t end,
                    Fn &&fn) {
  if (begin >= end)
    return;
  const int operands = plan.numOperands;
  const int rank = static_cast<int>(plan.outerDims.size());
  int64_t row = begin / plan.inner;
  int64_t column = begin % plan.inner;
  std::vector<int64_t> counter(rank);
  StridedPlan::Offsets rowOffset = {};
  for (int d = rank - 1; d >= 0; --d) {
    counter[d] = row % plan.outerDims[d];
    row /= plan.outerDims[d];
    for (int k = 0; k < operands; ++k)
      rowOffset[k] += counter[d] * plan.outerStrides[d][k];
  }
  int64_t position = begin;
  while (true) {
    int64_t length = std::min(plan.inner - column, end - position);
    StridedPlan::Offsets offsets;
    for (int k = 0; k < operands; ++k)
      offsets[k] = rowOffset[k] + column * plan.innerStride[k];
    fn(position, offsets, length);
    position += length;
    if (position >= end)
      return;
    column = 0;
    // Advance the outer indices like an odometer.
    for (int d = rank - 1; d >= 0; --d) {
      for (int k = 0; k < operands; ++k)
        rowOffset[k] += plan.outerStrides[d][k];
      if (++counter[d] < plan.outerDims[d])
        break;
      for (int k = 0; k < operands; ++k)
        rowOffset[k] -= plan.outerDims[d] * plan.outerStrides[d][k];
      counter[d] = 0;
    }
  }
}

} // namespace parc::rt::cpu

#endif // PARC_RUNTIME_CPU_STRIDEDLOOP_H
