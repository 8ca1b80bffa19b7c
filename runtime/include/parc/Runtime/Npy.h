//===- Npy.h - reading and writing numpy .npy files -------------*- C++ -*-===//
//
// parc-run takes its inputs and writes its outputs as .npy files (numpy's array
// format, versions 1.0, 2.0 and 3.0). The runtime reads the five numpy types
// that map onto parc element types (float32, float16, int64, int32, bool; numpy
// has no bfloat16) stored little-endian in C order, and writes format 1.0.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_NPY_H
#define PARC_RUNTIME_NPY_H

#include "parc/Runtime/DType.h"
#include "parc/Runtime/Status.h"
#include "parc/Runtime/TensorRef.h"

#include <string>
#include <vector>

namespace parc::rt {

/// An array read from a .npy file: C-order, little-endian element bytes.
struct NpyArray {
  DType dtype = DType::F32;
  Shape shape;
  std::vector<char> data;

  /// A view of the array's bytes.
  TensorRef ref() { return TensorRef{data.data(), dtype, shape}; }
};

/// Reads the .npy file at `path`. Errors are one line naming the file and the
/// cause (missing file, bad magic, unsupported dtype, Fortran order, big-endian
/// data, malformed header, truncated data).
Status readNpy(const std::string &path, NpyArray &out);

/// Reads a .npy file held in memory (`size` bytes at `bytes`), as readNpy reads one on
/// disk; errors name `name`.
Status readNpyBytes(const void *bytes, size_t size, const std::string &name,
                    NpyArray &out);

/// Writes `tensor` as a format 1.0 .npy file. bf16 tensors are written as
/// float32, since numpy has no bfloat16. The file is written under a temporary
/// name in the same directory and renamed into place, so `path` never holds a
/// partial file.
Status writeNpy(const std::string &path, const TensorRef &tensor);

} // namespace parc::rt

#endif // PARC_RUNTIME_NPY_H
