//===- StridedLoop.cpp - building strided walks ---------------------------===//
//
// Implements makeStridedPlan (drop size-1 dims, merge adjacent dims that every
// operand walks contiguously) and makeBroadcastPlan (numpy broadcasting
// expressed as stride-0 dims).
//
//===----------------------------------------------------------------------===//

#include "StridedLoop.h"

#include <cassert>

namespace parc::rt::cpu {

std::vector<int64_t> contiguousStrides(const Shape &shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    strides[d] = stride;
    stride *= shape[d];
  }
  return strides;
}

StridedPlan makeStridedPlan(const Shape &dims,
                            const std::vector<std::vector<int64_t>> &strides) {
  StridedPlan plan;
  plan.numOperands = static_cast<int>(strides.size());
  assert(plan.numOperands <= StridedPlan::kMaxOperands);
  plan.total = numElements(dims);

  // Keep the dims of size > 1, merging dim d into the previous kept dim when
  // every operand's stride there equals its stride at d times d's size.
  Shape merged;
  std::vector<StridedPlan::Offsets> mergedStrides;
  for (size_t d = 0; d < dims.size(); ++d) {
    if (dims[d] == 1)
      continue;
    StridedPlan::Offsets current = {};
    for (int k = 0; k < plan.numOperands; ++k)
      current[k] = strides[k][d];
    if (!merged.empty()) {
      bool mergeable = true;
      for (int k = 0; k < plan.numOperands; ++k)
        mergeable &= mergedStrides.back()[k] == current[k] * dims[d];
      if (mergeable) {
        merged.back() *= dims[d];
        mergedStrides.back() = current;
        continue;
      }
    }
    merged.push_back(dims[d]);
    mergedStrides.push_back(current);
  }
  if (merged.empty())
    return plan; // A single element (or none): inner = 1, no outer dims.
  plan.inner = merged.back();
  plan.innerStride = mergedStrides.back();
  merged.pop_back();
  mergedStrides.pop_back();
  plan.outerDims = std::move(merged);
  plan.outerStrides = std::move(mergedStrides);
  return plan;
}

StridedPlan makeBroadcastPlan(const Shape &shape,
                              std::initializer_list<const Shape *> operands) {
  std::vector<std::vector<int64_t>> strides;
  for (const Shape *operand : operands) {
    // Align trailing dims; a size-1 (or missing) dim repeats with stride 0.
    std::vector<int64_t> own = contiguousStrides(*operand);
    std::vector<int64_t> aligned(shape.size(), 0);
    size_t offset = shape.size() - operand->size();
    for (size_t d = 0; d < operand->size(); ++d)
      aligned[offset + d] = (*operand)[d] == 1 ? 0 : own[d];
    strides.push_back(std::move(aligned));
  }
  return makeStridedPlan(shape, strides);
}

} // namespace parc::rt::cpu
