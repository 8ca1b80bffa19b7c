//===- Accumulate.h - the elementwise sum of the reductions -----*- C++ -*-===//
//
// The addition every summing collective uses: IEEE addition for f32, and
// wrap-around (two's complement) addition for integers, done in unsigned
// arithmetic so that overflow is defined.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_COMM_ACCUMULATE_H
#define PARC_RUNTIME_COMM_ACCUMULATE_H

#include <cstddef>
#include <type_traits>

namespace parc::rt::comm {

/// out[i] = a[i] + b[i] for `count` elements of T; `out` may alias `a` or `b`.
template <typename T>
void addElements(T *out, const T *a, const T *b, size_t count) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    for (size_t i = 0; i < count; ++i)
      out[i] = static_cast<T>(static_cast<U>(a[i]) + static_cast<U>(b[i]));
  } else {
    for (size_t i = 0; i < count; ++i)
      out[i] = a[i] + b[i];
  }
}

/// addElements with untyped pointers, as Gloo's
/// AllreduceOptions::setReduceFunction wants.
template <typename T>
void addUntyped(void *out, const void *a, const void *b, size_t count) {
  addElements(static_cast<T *>(out), static_cast<const T *>(a),
              static_cast<const T *>(b), count);
}

} // namespace parc::rt::comm

#endif // PARC_RUNTIME_COMM_ACCUMULATE_H
