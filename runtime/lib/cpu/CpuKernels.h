//===- CpuKernels.h - the CPU backend's kernels -----------------*- C++ -*-===//
//
// One function per core parc op, computing `out` from the inputs on the host. Shapes and
// element types were checked by the compiler: each function may assume its operands have the
// shapes and types the op's verifier allows (see docs/dialect.md); outputs are preallocated,
// contiguous and never alias an input. f16 and bf16 compute in f32 and round once; integer
// division truncates toward zero; booleans are bytes holding 0 or 1.
//
// Large loops run on the threads set by setCpuThreads (OpenMP); GEMMs go to OpenBLAS.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_CPU_CPUKERNELS_H
#define PARC_RUNTIME_CPU_CPUKERNELS_H

#include "parc/Runtime/Status.h"
#include "parc/Runtime/TensorRef.h"

#include <vector>

namespace parc::rt::cpu {

/// Sets the threads used by kernels and by OpenBLAS.
void setCpuThreads(int threads);

/// Mod takes the divisor's sign (Python's %), FMod the dividend's (C's fmod).
enum class BinaryOp {
  Add, Sub, Mul, Div, Pow, Max, Min, Mod, FMod, Equal, Less, Greater, And, Or
};
enum class UnaryOp {
  Neg, Abs, Relu, Exp, Log, Sqrt, Reciprocal, Tanh, Erf, Sigmoid, Sin, Cos, Not,
  Gelu, GeluTanh
};
enum class ReduceOp { Sum, Mean, Max };

/// out = lhs (op) rhs with numpy broadcasting. Comparisons write Bool; And/Or take Bool.
/// Integer division by zero is an error.
Status binary(BinaryOp op, const TensorRef &lhs, const TensorRef &rhs,
              const TensorRef &out);
/// out = op(in), same shape and type.
void unary(UnaryOp op, const TensorRef &in, const TensorRef &out);
/// out = condition ? onTrue : onFalse, all three broadcast to out.
void select(const TensorRef &condition, const TensorRef &onTrue,
            const TensorRef &onFalse, const TensorRef &out);
/// Element type conversion (ONNX Cast): float -> int truncates, anything -> Bool is != 0.
void convert(const TensorRef &in, const TensorRef &out);
/// Batched matrix product, [..., m, k] x [..., k, n] -> [..., m, n], batch dims broadcast.
void matmul(const TensorRef &lhs, const TensorRef &rhs, const TensorRef &out);
/// Reduces the sorted `axes`; `out` has the kept shape (with or without unit dims).
void reduce(ReduceOp op, const TensorRef &in, const std::vector<int64_t> &axes,
            const TensorRef &out);
/// Softmax (or log-softmax) along `axis`, computed stably (max subtracted).
void softmax(const TensorRef &in, int64_t axis, bool logarithm,
             const TensorRef &out);
/// out dim i = in dim permutation[i].
void transpose(const TensorRef &in, const std::vector<int64_t> &permutation,
               const TensorRef &out);
/// Joins inputs along axis.
void concat(const std::vector<TensorRef> &inputs, int64_t axis,
            const TensorRef &out);
/// out[i...] = in[start + i * stride ...] per dim.
void slice(const TensorRef &in, const std::vector<int64_t> &starts,
           const std::vector<int64_t> &strides, const TensorRef &out);
/// out = take(in, indices, axis); negative indices count from the end; an index out of
/// range is an error naming it.
Status gather(const TensorRef &in, const TensorRef &indices, int64_t axis,
              const TensorRef &out);
/// The adjoint of gather: out = 0, then out[.., indices[j], ..] += updates[.., j, ..]
/// along `axis` (repeated indices accumulate); f32 only. An index out of range is an error.
Status scatterAdd(const TensorRef &updates, const TensorRef &indices, int64_t axis,
                  const TensorRef &out);
/// out[i][j] = in[indices[i][j]][j] along `axis` (ONNX GatherElements); out has the
/// indices' shape; negative indices wrap; an index out of range is an error.
Status gatherElements(const TensorRef &in, const TensorRef &indices, int64_t axis,
                      const TensorRef &out);
/// numpy broadcast of in to out's shape.
void broadcastTo(const TensorRef &in, const TensorRef &out);
/// Copies bytes (reshape to a distinct buffer).
void copy(const TensorRef &in, const TensorRef &out);

} // namespace parc::rt::cpu

#endif // PARC_RUNTIME_CPU_CPUKERNELS_H
