//===- KernelSupport.h - shared helpers of the CPU kernels ------*- C++ -*-===//
//
// Private to the CPU backend: the thread count and the parallel loop every
// kernel uses, the dispatch from an element type to a C++ type, and the
// f16/bf16 <-> f32 widening the kernels use to compute 16-bit floats in f32
// with a single rounding on store.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_CPU_KERNELSUPPORT_H
#define PARC_RUNTIME_CPU_KERNELSUPPORT_H

#include "parc/Runtime/TensorRef.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <vector>

namespace parc::rt::cpu {

/// Loops whose total work (items x cost per item) is below this run on the
/// calling thread: starting a parallel region costs a few microseconds.
constexpr int64_t kParallelWorkThreshold = 32768;

/// The thread count set by setCpuThreads (OpenMP's default until then).
int cpuThreads();

/// Runs body(begin, end) over [0, count), split into one contiguous range per
/// thread when count * costPerItem is large enough to pay for the threads.
template <typename Body>
void parallelFor(int64_t count, int64_t costPerItem, const Body &body) {
  if (count <= 0)
    return;
  int threads = cpuThreads();
  if (threads <= 1 || count < 2 ||
      count * std::max<int64_t>(costPerItem, 1) < kParallelWorkThreshold) {
    body(int64_t(0), count);
    return;
  }
  int64_t parts = std::min<int64_t>(threads, count);
#pragma omp parallel for num_threads(static_cast <int>(parts)) schedule(static)
  for (int64_t part = 0; part < parts; ++part)
    body(count * part / parts, count * (part + 1) / parts);
}

/// Names a C++ type in generic lambdas: `[&](auto tag) { using T = ...; }`.
template <typename T> struct TypeTag { using type = T; };

/// Calls fn(TypeTag<T>{}) with the unsigned integer type of an element's size;
/// kernels that only move bytes use it so each size is compiled once.
template <typename Fn> void dispatchBySize(size_t size, Fn &&fn) {
  switch (size) {
  case 1:
    return fn(TypeTag<uint8_t>{});
  case 2:
    return fn(TypeTag<uint16_t>{});
  case 4:
    return fn(TypeTag<uint32_t>{});
  case 8:
    return fn(TypeTag<uint64_t>{});
  default:
    assert(false && "unexpected element size");
  }
}

inline bool isHalfFloat(DType type) {
  return type == DType::F16 || type == DType::BF16;
}

/// A contiguous f32 copy of a tensor of any element type; f16 and bf16 widen
/// exactly.
std::vector<float> widenToFloat(const TensorRef &tensor);

/// Stores f32 values into `out` (f16 or bf16), rounding to nearest even.
void narrowFromFloat(const float *values, const TensorRef &out);

/// A view of `values` with `shape`, as an f32 tensor.
inline TensorRef floatView(std::vector<float> &values, const Shape &shape) {
  return TensorRef{values.data(), DType::F32, shape};
}

} // namespace parc::rt::cpu

#endif // PARC_RUNTIME_CPU_KERNELSUPPORT_H
