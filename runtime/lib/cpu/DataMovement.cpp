//===- DataMovement.cpp - transpose, slice, concat, gather, broadcast -----===//
//
// Implements the kernels that move elements without computing on them: copy,
// transpose, slice, broadcastTo, concat and gather. They work on element bits
// (one instantiation per element size). Transpose, slice and broadcastTo read
// the input through a StridedPlan: when the innermost merged dim is contiguous
// in the input (slices with unit inner stride, the attention transpose
// [0,2,1,3], broadcasts of whole rows) each run is one memcpy; a transpose that
// moves the innermost dim is done in square tiles so that both the reads and
// the writes stay within a few cache lines.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"
#include "KernelRegistry.h"

#include "parc/artifact/artifact.pb.h"
#include "KernelSupport.h"
#include "StridedLoop.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace parc::rt::cpu {

namespace {

/// out[i] = in[offset of i under plan] for a one-operand plan.
template <typename T>
void copyStrided(const T *in, const StridedPlan &plan, T *out) {
  parallelFor(plan.total, 1, [&](int64_t begin, int64_t end) {
    forEachSegment(
        plan, begin, end,
        [&](int64_t position, const StridedPlan::Offsets &offsets, int64_t n) {
          const T *source = in + offsets[0];
          T *target = out + position;
          int64_t stride = plan.innerStride[0];
          if (stride == 1) {
            std::memcpy(target, source, n * sizeof(T));
          } else if (stride == 0) {
            const T value = *source;
            for (int64_t i = 0; i < n; ++i)
              target[i] = value;
          } else {
            for (int64_t i = 0; i < n; ++i)
              target[i] = source[i * stride];
          }
        });
  });
}

/// A transpose whose innermost output dim is strided in the input. Works on
/// the output's last dim and the dim that is contiguous-most in the input, in
/// blocks of kBlock x kBlock (whose pages fit the TLB and whose lines fit L2)
/// made of kTile x kTile tiles (whose lines fit L1); the remaining dims are
/// walked one block row at a time.
template <typename T>
void transposeTiled(const T *in, const StridedPlan &plan, T *out) {
  constexpr int64_t kTile = 8, kBlock = 256;
  // Output dims (merged) with their input strides and output strides.
  Shape dims = plan.outerDims;
  dims.push_back(plan.inner);
  std::vector<int64_t> inStrides;
  for (const StridedPlan::Offsets &strides : plan.outerStrides)
    inStrides.push_back(strides[0]);
  inStrides.push_back(plan.innerStride[0]);
  std::vector<int64_t> outStrides = contiguousStrides(dims);

  int last = static_cast<int>(dims.size()) - 1;
  int rowsDim = 0; // The outer dim with the smallest input stride.
  for (int d = 1; d < last; ++d)
    if (inStrides[d] < inStrides[rowsDim])
      rowsDim = d;
  int64_t rows = dims[rowsDim], columns = dims[last];
  int64_t rowInStride = inStrides[rowsDim], rowOutStride = outStrides[rowsDim];
  int64_t columnInStride = inStrides[last];

  // The other dims, walked by decomposing the work item's index.
  std::vector<int64_t> otherDims, otherIn, otherOut;
  for (int d = 0; d < last; ++d)
    if (d != rowsDim) {
      otherDims.push_back(dims[d]);
      otherIn.push_back(inStrides[d]);
      otherOut.push_back(outStrides[d]);
    }
  int64_t rowBlocks = (rows + kBlock - 1) / kBlock;
  int64_t items = numElements(otherDims) * rowBlocks;
  parallelFor(items, kBlock * columns, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      int64_t rest = item / rowBlocks;
      int64_t blockRow0 = item % rowBlocks * kBlock;
      int64_t inBase = 0, outBase = 0;
      for (int64_t d = static_cast<int64_t>(otherDims.size()) - 1; d >= 0;
           --d) {
        int64_t index = rest % otherDims[d];
        rest /= otherDims[d];
        inBase += index * otherIn[d];
        outBase += index * otherOut[d];
      }
      int64_t blockRowEnd = std::min(rows, blockRow0 + kBlock);
      for (int64_t blockColumn0 = 0; blockColumn0 < columns;
           blockColumn0 += kBlock) {
        int64_t blockColumnEnd = std::min(columns, blockColumn0 + kBlock);
        for (int64_t row0 = blockRow0; row0 < blockRowEnd; row0 += kTile) {
          int64_t rowEnd = std::min(blockRowEnd, row0 + kTile);
          for (int64_t column0 = blockColumn0; column0 < blockColumnEnd;
               column0 += kTile) {
            int64_t columnCount = std::min(blockColumnEnd - column0, kTile);
            for (int64_t r = row0; r < rowEnd; ++r) {
              const T *source =
                  in + inBase + r * rowInStride + column0 * columnInStride;
              T *target = out + outBase + r * rowOutStride + column0;
              for (int64_t c = 0; c < columnCount; ++c)
                target[c] = source[c * columnInStride];
            }
          }
        }
      }
    }
  });
}

/// Copies gathered slices: out row (p, j) is input row (p, index[j]), each
/// `rowSize` elements, for p < outer and j < indices.size().
template <typename T>
void gatherRows(const T *in, const std::vector<int64_t> &indices, int64_t outer,
                int64_t axisSize, int64_t rowSize, T *out) {
  int64_t count = static_cast<int64_t>(indices.size());
  parallelFor(outer * count, rowSize, [&](int64_t begin, int64_t end) {
    int64_t p = begin / count, j = begin % count;
    for (int64_t item = begin; item < end; ++item) {
      const T *source = in + (p * axisSize + indices[j]) * rowSize;
      T *target = out + item * rowSize;
      for (int64_t e = 0; e < rowSize; ++e)
        target[e] = source[e];
      if (++j == count) {
        j = 0;
        ++p;
      }
    }
  });
}

template <typename I>
Status normalizeIndices(const TensorRef &indices, int64_t axisSize,
                        std::vector<int64_t> &normalized) {
  const I *values = indices.as<const I>();
  int64_t count = indices.numElements();
  normalized.resize(count);
  for (int64_t i = 0; i < count; ++i) {
    int64_t index = values[i];
    int64_t wrapped = index < 0 ? index + axisSize : index;
    if (wrapped < 0 || wrapped >= axisSize)
      return Status::error("gather: index " + std::to_string(index) +
                           " is out of range for a dim of size " +
                           std::to_string(axisSize));
    normalized[i] = wrapped;
  }
  return Status::ok();
}

/// normalizeIndices for i64 or i32 indices; other types are an error naming `op`.
Status normalizeAnyIndices(const TensorRef &indices, int64_t axisSize,
                           const char *op, std::vector<int64_t> &normalized) {
  if (indices.dtype == DType::I64)
    return normalizeIndices<int64_t>(indices, axisSize, normalized);
  if (indices.dtype == DType::I32)
    return normalizeIndices<int32_t>(indices, axisSize, normalized);
  return Status::error(std::string(op) + ": indices must be i64 or i32, not " +
                       dtypeName(indices.dtype));
}

} // namespace

void copy(const TensorRef &in, const TensorRef &out) {
  const char *source = static_cast<const char *>(in.data);
  char *target = static_cast<char *>(out.data);
  parallelFor(static_cast<int64_t>(out.bytes()), 1,
              [&](int64_t begin, int64_t end) {
                std::memcpy(target + begin, source + begin, end - begin);
              });
}

void transpose(const TensorRef &in, const std::vector<int64_t> &permutation,
               const TensorRef &out) {
  if (out.numElements() == 0)
    return;
  std::vector<int64_t> inStrides = contiguousStrides(in.shape);
  std::vector<int64_t> strides(permutation.size());
  for (size_t d = 0; d < permutation.size(); ++d)
    strides[d] = inStrides[permutation[d]];
  StridedPlan plan = makeStridedPlan(out.shape, {strides});
  dispatchBySize(dtypeSize(in.dtype), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (plan.innerStride[0] == 1 || plan.outerDims.empty())
      copyStrided(in.as<const T>(), plan, out.as<T>());
    else
      transposeTiled(in.as<const T>(), plan, out.as<T>());
  });
}

void slice(const TensorRef &in, const std::vector<int64_t> &starts,
           const std::vector<int64_t> &strides, const TensorRef &out) {
  if (out.numElements() == 0)
    return;
  std::vector<int64_t> inStrides = contiguousStrides(in.shape);
  std::vector<int64_t> stepStrides(in.shape.size());
  int64_t base = 0;
  for (size_t d = 0; d < in.shape.size(); ++d) {
    base += starts[d] * inStrides[d];
    stepStrides[d] = strides[d] * inStrides[d];
  }
  StridedPlan plan = makeStridedPlan(out.shape, {stepStrides});
  dispatchBySize(dtypeSize(in.dtype), [&](auto tag) {
    using T = typename decltype(tag)::type;
    copyStrided(in.as<const T>() + base, plan, out.as<T>());
  });
}

void broadcastTo(const TensorRef &in, const TensorRef &out) {
  if (out.numElements() == 0)
    return;
  StridedPlan plan = makeBroadcastPlan(out.shape, {&in.shape});
  dispatchBySize(dtypeSize(in.dtype), [&](auto tag) {
    using T = typename decltype(tag)::type;
    copyStrided(in.as<const T>(), plan, out.as<T>());
  });
}

void concat(const std::vector<TensorRef> &inputs, int64_t axis,
            const TensorRef &out) {
  if (out.numElements() == 0)
    return;
  size_t elementSize = dtypeSize(out.dtype);
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= out.shape[d];
  // Per outer index, each input contributes one contiguous block of bytes
  // (empty inputs contribute nothing and are skipped).
  std::vector<const char *> sources;
  std::vector<int64_t> blockBytes;
  int64_t rowBytes = 0;
  for (const TensorRef &input : inputs) {
    int64_t bytes = static_cast<int64_t>(input.bytes()) / outer;
    if (bytes == 0)
      continue;
    sources.push_back(static_cast<const char *>(input.data));
    blockBytes.push_back(bytes);
    rowBytes += bytes;
  }
  char *target = static_cast<char *>(out.data);
  parallelFor(outer, rowBytes / static_cast<int64_t>(elementSize),
              [&](int64_t begin, int64_t end) {
                for (int64_t o = begin; o < end; ++o) {
                  char *row = target + o * rowBytes;
                  for (size_t i = 0; i < sources.size(); ++i) {
                    std::memcpy(row, sources[i] + o * blockBytes[i],
                                blockBytes[i]);
                    row += blockBytes[i];
                  }
                }
              });
}

Status gather(const TensorRef &in, const TensorRef &indices, int64_t axis,
              const TensorRef &out) {
  int64_t axisSize = in.shape[axis];
  std::vector<int64_t> normalized;
  PARC_RETURN_IF_ERROR(
      normalizeAnyIndices(indices, axisSize, "gather", normalized));
  if (out.numElements() == 0)
    return Status::ok();
  int64_t outer = 1, rowSize = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= in.shape[d];
  for (int64_t d = axis + 1; d < in.rank(); ++d)
    rowSize *= in.shape[d];
  dispatchBySize(dtypeSize(in.dtype), [&](auto tag) {
    using T = typename decltype(tag)::type;
    gatherRows(in.as<const T>(), normalized, outer, axisSize, rowSize,
               out.as<T>());
  });
  return Status::ok();
}

Status scatterAdd(const TensorRef &updates, const TensorRef &indices, int64_t axis,
                  const TensorRef &out) {
  if (updates.dtype != DType::F32 || out.dtype != DType::F32)
    return Status::error("scatter_add supports f32 only");
  int64_t axisSize = out.shape[axis];
  std::vector<int64_t> normalized;
  PARC_RETURN_IF_ERROR(
      normalizeAnyIndices(indices, axisSize, "scatter_add", normalized));
  int64_t outer = 1, rowSize = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= out.shape[d];
  for (int64_t d = axis + 1; d < out.rank(); ++d)
    rowSize *= out.shape[d];
  float *target = out.as<float>();
  const float *source = updates.as<const float>();
  std::fill(target, target + out.numElements(), 0.0f);
  int64_t count = static_cast<int64_t>(normalized.size());
  // Sequential over the indices (they may repeat); parallel over the outer dims.
  parallelFor(outer, count * rowSize, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p)
      for (int64_t j = 0; j < count; ++j) {
        float *row = target + (p * axisSize + normalized[j]) * rowSize;
        const float *update = source + (p * count + j) * rowSize;
        for (int64_t e = 0; e < rowSize; ++e)
          row[e] += update[e];
      }
  });
  return Status::ok();
}

Status gatherElements(const TensorRef &in, const TensorRef &indices,
                      int64_t axis, const TensorRef &out) {
  int64_t axisSize = in.shape[axis];
  std::vector<int64_t> normalized;
  PARC_RETURN_IF_ERROR(
      normalizeAnyIndices(indices, axisSize, "gather_elements", normalized));
  // Walk the indices' coordinates; the source is the same place with the axis
  // coordinate replaced by the index.
  int64_t rank = in.rank();
  std::vector<int64_t> inStrides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    inStrides[d] = inStrides[d + 1] * in.shape[d + 1];
  int64_t count = out.numElements();
  std::vector<int64_t> sources(count);
  for (int64_t i = 0; i < count; ++i) {
    int64_t rest = i, source = 0;
    for (int64_t d = rank - 1; d >= 0; --d) {
      int64_t coordinate = rest % indices.shape[d];
      rest /= indices.shape[d];
      source += (d == axis ? normalized[i] : coordinate) * inStrides[d];
    }
    sources[i] = source;
  }
  dispatchBySize(dtypeSize(in.dtype), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *source = in.as<const T>();
    T *target = out.as<T>();
    for (int64_t i = 0; i < count; ++i)
      target[i] = source[sources[i]];
  });
  return Status::ok();
}

} // namespace parc::rt::cpu

void parc::rt::cpu::addDataMovementKernels(KernelRegistry &kernels) {
  using Inst = artifact::Instruction;
  using Tensors = std::vector<TensorRef>;
  kernels.add("transpose", [](const Inst &inst, const Tensors &in, const Tensors &out,
                              const CommunicatorGroups &, BoundKernel &kernel) {
    PARC_RETURN_IF_ERROR(expectArity(in, out, 1));
    std::vector<int64_t> permutation(inst.transpose().permutation().begin(),
                                     inst.transpose().permutation().end());
    kernel = infallible([=] { transpose(in[0], permutation, out[0]); });
    return Status::ok();
  });
  kernels.add("concat", [](const Inst &inst, const Tensors &in, const Tensors &out,
                           const CommunicatorGroups &, BoundKernel &kernel) {
    if (in.empty() || out.size() != 1)
      return Status::error("expects operands and 1 result");
    int64_t axis = inst.axis().axis();
    kernel = infallible([=] { concat(in, axis, out[0]); });
    return Status::ok();
  });
  kernels.add("slice", [](const Inst &inst, const Tensors &in, const Tensors &out,
                          const CommunicatorGroups &, BoundKernel &kernel) {
    PARC_RETURN_IF_ERROR(expectArity(in, out, 1));
    std::vector<int64_t> starts(inst.slice().start_indices().begin(),
                                inst.slice().start_indices().end());
    std::vector<int64_t> strides(inst.slice().strides().begin(), inst.slice().strides().end());
    kernel = infallible([=] { slice(in[0], starts, strides, out[0]); });
    return Status::ok();
  });
  // Indexed ops: a tensor, its indices and an axis.
  using Indexed = Status (*)(const TensorRef &, const TensorRef &, int64_t, const TensorRef &);
  for (auto [name, run] : {std::pair<const char *, Indexed>{"gather", gather},
                           {"gather_elements", gatherElements},
                           {"scatter_add", scatterAdd}})
    kernels.add(name, [run = run](const Inst &inst, const Tensors &in, const Tensors &out,
                                  const CommunicatorGroups &, BoundKernel &kernel) {
      PARC_RETURN_IF_ERROR(expectArity(in, out, 2));
      int64_t axis = inst.axis().axis();
      kernel = [=]() { return run(in[0], in[1], axis, out[0]); };
      return Status::ok();
    });
  kernels.add("broadcast_to", [](const Inst &, const Tensors &in, const Tensors &out,
                                 const CommunicatorGroups &, BoundKernel &kernel) {
    PARC_RETURN_IF_ERROR(expectArity(in, out, 1));
    kernel = infallible([=] { broadcastTo(in[0], out[0]); });
    return Status::ok();
  });
  kernels.add("reshape", [](const Inst &, const Tensors &in, const Tensors &out,
                            const CommunicatorGroups &, BoundKernel &kernel) {
    PARC_RETURN_IF_ERROR(expectArity(in, out, 1));
    kernel = infallible([=] { copy(in[0], out[0]); });
    return Status::ok();
  });
  kernels.add("assign_weight", [](const Inst &, const Tensors &in, const Tensors &out,
                                  const CommunicatorGroups &, BoundKernel &kernel) {
    if (in.size() != 2 || !out.empty())
      return Status::error("expects 2 operands (the weight, its new value) and no result");
    kernel = infallible([=] { copy(in[1], in[0]); });
    return Status::ok();
  });
}
