//===- Reductions.cpp - sum, mean, max, softmax, cumsum and top k ---------===//
//
// Implements reduce (sum, mean, max over sorted axes), softmax / log-softmax, the
// running sum (cumsum) and the top-k positions along one axis. A reduction first groups the input dims into alternating runs
// of reduced and kept dims (size-1 dims dropped), so that every case is one of:
// contiguous rows reduced to a value, rows accumulated elementwise into kept
// columns, or a nest of those. Parallelism comes from the outermost kept run,
// from splitting the columns, or from partial results of one long row. Floats
// accumulate in f32 with SIMD partial sums; integers in i64 (i32 is widened),
// wrapping. Max propagates NaN. f16/bf16 are widened to f32 and rounded once.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"
#include "KernelRegistry.h"

#include "parc/artifact/artifact.pb.h"
#include "FastMath.h"
#include "KernelSupport.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>

namespace parc::rt::cpu {

namespace {

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

/// A run of adjacent dims that are all reduced or all kept.
struct DimGroup {
  int64_t size;
  bool reduced;
};

std::vector<DimGroup> groupDims(const Shape &shape,
                                const std::vector<int64_t> &axes) {
  std::vector<DimGroup> groups;
  size_t nextAxis = 0;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    bool reduced = nextAxis < axes.size() && axes[nextAxis] == d;
    if (reduced)
      ++nextAxis;
    if (shape[d] == 1)
      continue;
    if (!groups.empty() && groups.back().reduced == reduced)
      groups.back().size *= shape[d];
    else
      groups.push_back({shape[d], reduced});
  }
  return groups;
}

/// The element operations of a reduction over T (float or int64_t). Mean
/// accumulates as Sum and divides at the end.
template <typename T, bool IsMax> struct Reducer {
  static T identity() {
    if constexpr (!IsMax)
      return T(0);
    else if constexpr (std::is_floating_point_v<T>)
      return -std::numeric_limits<T>::infinity();
    else
      return std::numeric_limits<T>::lowest();
  }

  static T combine(T acc, T value) {
    if constexpr (IsMax) {
      if constexpr (std::is_floating_point_v<T>)
        return (value != value || value > acc) ? value : acc;
      else
        return value > acc ? value : acc;
    } else if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(static_cast<uint64_t>(acc) +
                            static_cast<uint64_t>(value));
    } else {
      return acc + value;
    }
  }

  /// Reduces a contiguous row with SIMD partial results.
  static T reduceRow(const T *x, int64_t n) {
    if constexpr (IsMax) {
      T best = identity();
      int sawNaN = 0;
      if constexpr (std::is_floating_point_v<T>) {
#pragma omp simd reduction(max : best) reduction(| : sawNaN)
        for (int64_t i = 0; i < n; ++i) {
          best = x[i] > best ? x[i] : best;
          sawNaN |= x[i] != x[i];
        }
      } else {
#pragma omp simd reduction(max : best)
        for (int64_t i = 0; i < n; ++i)
          best = x[i] > best ? x[i] : best;
      }
      return sawNaN ? std::numeric_limits<T>::quiet_NaN() : best;
    } else if constexpr (std::is_integral_v<T>) {
      uint64_t sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t i = 0; i < n; ++i)
        sum += static_cast<uint64_t>(x[i]);
      return static_cast<T>(sum);
    } else {
      T sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t i = 0; i < n; ++i)
        sum += x[i];
      return sum;
    }
  }

  /// acc[j] = combine(acc[j], x[j]) for a contiguous row.
  static void combineRow(T *acc, const T *x, int64_t n) {
    for (int64_t j = 0; j < n; ++j)
      acc[j] = combine(acc[j], x[j]);
  }
};

/// Reduces `in` (laid out as `groups`) into `out` (its kept elements), on the
/// calling thread: walks the input row by row, the innermost group being the
/// row, and combines each row into its output element(s).
template <typename T, bool IsMax>
void reduceGroupsSerial(const T *in, const DimGroup *groups, int count,
                        T *out) {
  using R = Reducer<T, IsMax>;
  // Output strides of the outer groups: kept groups step through the output,
  // reduced groups stay in place.
  std::vector<int64_t> outStride(count, 0);
  int64_t outSize = 1;
  for (int g = count - 1; g >= 0; --g)
    if (!groups[g].reduced) {
      outStride[g] = outSize;
      outSize *= groups[g].size;
    }
  std::fill(out, out + outSize, R::identity());
  const DimGroup &last = groups[count - 1];
  int64_t rows = 1;
  for (int g = 0; g < count - 1; ++g)
    rows *= groups[g].size;
  std::vector<int64_t> counter(count, 0);
  int64_t outOffset = 0;
  for (int64_t row = 0; row < rows; ++row) {
    const T *x = in + row * last.size;
    if (last.reduced)
      out[outOffset] = R::combine(out[outOffset], R::reduceRow(x, last.size));
    else
      R::combineRow(out + outOffset, x, last.size);
    for (int g = count - 2; g >= 0; --g) {
      outOffset += outStride[g];
      if (++counter[g] < groups[g].size)
        break;
      outOffset -= groups[g].size * outStride[g];
      counter[g] = 0;
    }
  }
}

/// Reduces `in` into `out`, choosing how to split the work across threads.
template <typename T, bool IsMax>
void reduceGroups(const T *in, const std::vector<DimGroup> &groups, T *out) {
  using R = Reducer<T, IsMax>;
  int count = static_cast<int>(groups.size());
  int64_t total = 1;
  for (const DimGroup &group : groups)
    total *= group.size;

  if (count >= 2 && !groups[0].reduced) {
    // Each index of the outermost kept group owns a disjoint output block.
    int64_t inBlock = total / groups[0].size;
    int64_t outBlock = 1;
    for (int g = 1; g < count; ++g)
      if (!groups[g].reduced)
        outBlock *= groups[g].size;
    parallelFor(groups[0].size, inBlock, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        reduceGroupsSerial<T, IsMax>(in + i * inBlock, groups.data() + 1,
                                     count - 1, out + i * outBlock);
    });
    return;
  }
  if (count == 2) {
    // [reduced, kept]: split the kept columns across threads.
    int64_t rows = groups[0].size, columns = groups[1].size;
    parallelFor(columns, rows, [&](int64_t begin, int64_t end) {
      std::fill(out + begin, out + end, R::identity());
      for (int64_t r = 0; r < rows; ++r)
        R::combineRow(out + begin, in + r * columns + begin, end - begin);
    });
    return;
  }
  if (count == 1) {
    // Everything reduced: partial results of equal chunks, then combined.
    int64_t chunks = std::min<int64_t>(
        cpuThreads(), std::max<int64_t>(1, total / kParallelWorkThreshold));
    std::vector<T> partial(chunks);
    parallelFor(chunks, kParallelWorkThreshold,
                [&](int64_t begin, int64_t end) {
                  for (int64_t c = begin; c < end; ++c) {
                    int64_t from = total * c / chunks;
                    int64_t to = total * (c + 1) / chunks;
                    partial[c] = R::reduceRow(in + from, to - from);
                  }
                });
    T result = R::identity();
    for (T value : partial)
      result = R::combine(result, value);
    *out = result;
    return;
  }
  reduceGroupsSerial<T, IsMax>(in, groups.data(), count, out);
}

template <typename T>
void reduceTyped(ReduceOp op, const T *in, const Shape &shape,
                 const std::vector<int64_t> &axes, T *out, int64_t outSize) {
  using SumReducer = Reducer<T, false>;
  using MaxReducer = Reducer<T, true>;
  int64_t count = 1;
  for (int64_t axis : axes)
    count *= shape[axis];
  if (numElements(shape) == 0) {
    // Nothing to reduce: the identity (Mean of nothing is NaN for floats).
    T value =
        op == ReduceOp::Max ? MaxReducer::identity() : SumReducer::identity();
    if (op == ReduceOp::Mean && std::is_floating_point_v<T>)
      value = std::numeric_limits<T>::quiet_NaN();
    std::fill(out, out + outSize, value);
    return;
  }
  std::vector<DimGroup> groups = groupDims(shape, axes);
  bool reducesSomething = false;
  for (const DimGroup &group : groups)
    reducesSomething |= group.reduced;
  if (!reducesSomething) {
    // Only size-1 dims are reduced: the layout is unchanged.
    std::copy(in, in + outSize, out);
    return;
  }
  if (op == ReduceOp::Max)
    reduceGroups<T, true>(in, groups, out);
  else
    reduceGroups<T, false>(in, groups, out);
  if (op == ReduceOp::Mean) {
    parallelFor(outSize, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        out[i] /= static_cast<T>(count);
    });
  }
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

/// Softmax of contiguous rows.
void softmaxRow(const float *x, float *y, int64_t n, bool logarithm) {
  float max = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : max)
  for (int64_t i = 0; i < n; ++i)
    max = x[i] > max ? x[i] : max;
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    y[i] = fastExp(x[i] - max);
    sum += y[i];
  }
  if (logarithm) {
    float logSum = std::log(sum);
    for (int64_t i = 0; i < n; ++i)
      y[i] = (x[i] - max) - logSum;
  } else {
    for (int64_t i = 0; i < n; ++i)
      y[i] /= sum;
  }
}

/// Softmax along the middle dim of a [length, inner] block, for `width`
/// columns starting at x and y; the column statistics are kept in vectors so
/// that the inner loops run along contiguous memory.
void softmaxColumns(const float *x, float *y, int64_t length, int64_t inner,
                    int64_t width, bool logarithm, float *max, float *sum) {
  std::fill(max, max + width, -std::numeric_limits<float>::infinity());
  std::fill(sum, sum + width, 0.0f);
  for (int64_t l = 0; l < length; ++l) {
    const float *row = x + l * inner;
    for (int64_t j = 0; j < width; ++j)
      max[j] = row[j] > max[j] ? row[j] : max[j];
  }
  for (int64_t l = 0; l < length; ++l) {
    const float *row = x + l * inner;
    float *outRow = y + l * inner;
    for (int64_t j = 0; j < width; ++j) {
      outRow[j] = fastExp(row[j] - max[j]);
      sum[j] += outRow[j];
    }
  }
  if (logarithm) {
    for (int64_t j = 0; j < width; ++j)
      sum[j] = std::log(sum[j]);
    for (int64_t l = 0; l < length; ++l)
      for (int64_t j = 0; j < width; ++j)
        y[l * inner + j] = (x[l * inner + j] - max[j]) - sum[j];
  } else {
    for (int64_t l = 0; l < length; ++l)
      for (int64_t j = 0; j < width; ++j)
        y[l * inner + j] /= sum[j];
  }
}

void softmaxFloat(const float *x, float *y, const Shape &shape, int64_t axis,
                  bool logarithm) {
  int64_t outer = 1, inner = 1, length = shape[axis];
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  for (int64_t d = axis + 1; d < static_cast<int64_t>(shape.size()); ++d)
    inner *= shape[d];
  constexpr int64_t kExpCost = 16;
  if (inner == 1) {
    parallelFor(outer, length * kExpCost, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r)
        softmaxRow(x + r * length, y + r * length, length, logarithm);
    });
    return;
  }
  // Blocks of columns: enough to vectorize, few enough to stay in cache.
  constexpr int64_t kColumns = 256;
  int64_t blocksPerOuter = (inner + kColumns - 1) / kColumns;
  parallelFor(outer * blocksPerOuter, length * kColumns * kExpCost,
              [&](int64_t begin, int64_t end) {
                float max[kColumns], sum[kColumns];
                for (int64_t item = begin; item < end; ++item) {
                  int64_t o = item / blocksPerOuter;
                  int64_t column = item % blocksPerOuter * kColumns;
                  int64_t offset = o * length * inner + column;
                  softmaxColumns(x + offset, y + offset, length, inner,
                                 std::min(kColumns, inner - column), logarithm,
                                 max, sum);
                }
              });
}

} // namespace

void reduce(ReduceOp op, const TensorRef &in, const std::vector<int64_t> &axes,
            const TensorRef &out) {
  int64_t outSize = out.numElements();
  if (outSize == 0)
    return;
  switch (in.dtype) {
  case DType::F32:
    return reduceTyped(op, in.as<const float>(), in.shape, axes,
                       out.as<float>(), outSize);
  case DType::I64:
    return reduceTyped(op, in.as<const int64_t>(), in.shape, axes,
                       out.as<int64_t>(), outSize);
  case DType::F16:
  case DType::BF16: {
    std::vector<float> wide = widenToFloat(in), result(outSize);
    reduceTyped(op, wide.data(), in.shape, axes, result.data(), outSize);
    return narrowFromFloat(result.data(), out);
  }
  case DType::I32: {
    // Sum in i64 so that Mean divides the true sum; the result wraps to i32.
    std::vector<int64_t> wide(in.numElements()), result(outSize);
    convert(in, TensorRef{wide.data(), DType::I64, in.shape});
    reduceTyped(op, wide.data(), in.shape, axes, result.data(), outSize);
    return convert(TensorRef{result.data(), DType::I64, out.shape}, out);
  }
  case DType::Bool:
    assert(false && "reductions do not take bool");
    return;
  }
}

void softmax(const TensorRef &in, int64_t axis, bool logarithm,
             const TensorRef &out) {
  if (out.numElements() == 0)
    return;
  if (in.dtype == DType::F32)
    return softmaxFloat(in.as<const float>(), out.as<float>(), in.shape, axis,
                        logarithm);
  std::vector<float> wide = widenToFloat(in), result(wide.size());
  softmaxFloat(wide.data(), result.data(), in.shape, axis, logarithm);
  narrowFromFloat(result.data(), out);
}

//===----------------------------------------------------------------------===//
// Running sum
//===----------------------------------------------------------------------===//

namespace {

/// The inclusive running sum along the middle dim of [outer, length, inner], accumulated in
/// order in `Acc` (as numpy and PyTorch do: each element adds the previous running value).
template <typename T, typename Acc>
void cumsumTyped(const T *x, T *y, int64_t outer, int64_t length, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < inner; ++c) {
      Acc total = 0;
      for (int64_t k = 0; k < length; ++k) {
        int64_t at = (o * length + k) * inner + c;
        total += static_cast<Acc>(x[at]);
        y[at] = static_cast<T>(total);
      }
    }
}

void cumsum(const TensorRef &in, int64_t axis, const TensorRef &out) {
  int64_t outer = 1, inner = 1, length = in.shape[axis];
  for (int64_t d = 0; d < axis; ++d)
    outer *= in.shape[d];
  for (int64_t d = axis + 1; d < in.rank(); ++d)
    inner *= in.shape[d];
  switch (in.dtype) {
  case DType::F32:
    return cumsumTyped<float, float>(in.as<const float>(), out.as<float>(), outer, length,
                                     inner);
  case DType::I64:
    return cumsumTyped<int64_t, int64_t>(in.as<const int64_t>(), out.as<int64_t>(), outer,
                                         length, inner);
  case DType::I32:
    return cumsumTyped<int32_t, int32_t>(in.as<const int32_t>(), out.as<int32_t>(), outer,
                                         length, inner);
  case DType::F16:
  case DType::BF16: {
    // Accumulated in f32, each running value rounded once.
    std::vector<float> wide = widenToFloat(in), result(wide.size());
    cumsumTyped<float, float>(wide.data(), result.data(), outer, length, inner);
    return narrowFromFloat(result.data(), out);
  }
  case DType::Bool:
    assert(false && "cumsum does not take bool");
    return;
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Top k
//===----------------------------------------------------------------------===//

namespace {

/// Writes, per line along the middle dim of [outer, length, inner], the positions of its k
/// largest (or smallest) values in order, equal values by increasing position: a partial
/// sort under that strict order, so the result is deterministic.
template <typename T>
void topKTyped(const T *x, int64_t *positions, int64_t outer, int64_t length, int64_t inner,
               int64_t k, bool largest) {
  std::vector<int64_t> order(length);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < inner; ++c) {
      auto at = [&](int64_t j) { return x[(o * length + j) * inner + c]; };
      std::iota(order.begin(), order.end(), int64_t{0});
      std::partial_sort(order.begin(), order.begin() + k, order.end(),
                        [&](int64_t a, int64_t b) {
                          if (at(a) != at(b))
                            return largest ? at(a) > at(b) : at(a) < at(b);
                          return a < b;
                        });
      for (int64_t j = 0; j < k; ++j)
        positions[(o * k + j) * inner + c] = order[j];
    }
}

void topK(const TensorRef &in, int64_t axis, int64_t k, bool largest, const TensorRef &out) {
  int64_t outer = 1, inner = 1, length = in.shape[axis];
  for (int64_t d = 0; d < axis; ++d)
    outer *= in.shape[d];
  for (int64_t d = axis + 1; d < in.rank(); ++d)
    inner *= in.shape[d];
  int64_t *positions = out.as<int64_t>();
  switch (in.dtype) {
  case DType::F32:
    return topKTyped(in.as<const float>(), positions, outer, length, inner, k, largest);
  case DType::I64:
    return topKTyped(in.as<const int64_t>(), positions, outer, length, inner, k, largest);
  case DType::I32:
    return topKTyped(in.as<const int32_t>(), positions, outer, length, inner, k, largest);
  case DType::F16:
  case DType::BF16: {
    // Widening is exact, so the order is the narrow values' order.
    std::vector<float> wide = widenToFloat(in);
    return topKTyped(wide.data(), positions, outer, length, inner, k, largest);
  }
  case DType::Bool:
    assert(false && "top_k does not take bool");
    return;
  }
}

} // namespace

} // namespace parc::rt::cpu

void parc::rt::cpu::addReductionKernels(KernelRegistry &kernels) {
  for (auto [name, op] : {std::pair{"reduce_sum", ReduceOp::Sum},
                          std::pair{"reduce_mean", ReduceOp::Mean},
                          std::pair{"reduce_max", ReduceOp::Max}})
    kernels.add(name, [op = op](const artifact::Instruction &inst,
                                const std::vector<TensorRef> &in,
                                const std::vector<TensorRef> &out, const CommunicatorGroups &,
                                BoundKernel &kernel) {
      PARC_RETURN_IF_ERROR(expectArity(in, out, 1));
      std::vector<int64_t> axes(inst.reduce().axes().begin(), inst.reduce().axes().end());
      kernel = infallible([=] { reduce(op, in[0], axes, out[0]); });
      return Status::ok();
    });
  for (auto [name, logarithm] : {std::pair{"softmax", false}, std::pair{"log_softmax", true}})
    kernels.add(name, [logarithm = logarithm](const artifact::Instruction &inst,
                                              const std::vector<TensorRef> &in,
                                              const std::vector<TensorRef> &out,
                                              const CommunicatorGroups &, BoundKernel &kernel) {
      PARC_RETURN_IF_ERROR(expectArity(in, out, 1));
      int64_t axis = inst.axis().axis();
      kernel = infallible([=] { softmax(in[0], axis, logarithm, out[0]); });
      return Status::ok();
    });
  kernels.add("cumsum", [](const artifact::Instruction &inst, const std::vector<TensorRef> &in,
                           const std::vector<TensorRef> &out, const CommunicatorGroups &,
                           BoundKernel &kernel) {
    PARC_RETURN_IF_ERROR(expectArity(in, out, 1));
    int64_t axis = inst.axis().axis();
    if (axis < 0 || axis >= in[0].rank())
      return Status::error("cumsum axis " + std::to_string(axis) + " is out of range");
    kernel = infallible([=] { cumsum(in[0], axis, out[0]); });
    return Status::ok();
  });
  kernels.add("top_k", [](const artifact::Instruction &inst, const std::vector<TensorRef> &in,
                          const std::vector<TensorRef> &out, const CommunicatorGroups &,
                          BoundKernel &kernel) {
    PARC_RETURN_IF_ERROR(expectArity(in, out, 1));
    const artifact::TopKParams &params = inst.top_k();
    int64_t axis = params.axis(), k = params.k();
    if (axis < 0 || axis >= in[0].rank() || k < 1 || k > in[0].shape[axis])
      return Status::error("top_k axis " + std::to_string(axis) + " and k " +
                           std::to_string(k) + " do not fit the input");
    if (out[0].dtype != DType::I64)
      return Status::error("top_k writes int64 positions");
    bool largest = params.largest();
    kernel = infallible([=] { topK(in[0], axis, k, largest, out[0]); });
    return Status::ok();
  });
}
