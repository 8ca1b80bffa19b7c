//===- Profile.h - where a rank's time went ---------------------*- C++ -*-===//

#ifndef PARC_RUNTIME_LIB_PROFILE_H
#define PARC_RUNTIME_LIB_PROFILE_H

#include "parc/Runtime/Status.h"

#include <string>

namespace parc::artifact {
class Program;
} // namespace parc::artifact

namespace parc::rt {

class Executor;

/// Prints (--profile) the time per op kind and the ten slowest instructions, averaged
/// over `runs` profiled runs.
void printProfile(int rank, const Executor &executor, int runs);

/// Writes (--profile-json FILE) every instruction of `program` with its average time over
/// `runs` runs, the bytes it reads and writes, and for GEMMs their shape:
///   {"device": ..., "runs": N, "instructions": [{"index", "label", "op", "kind",
///    "kernel", "bytes", "ms", "gemm": {"m", "n", "k", "batch", "rhs_batch", "dtype",
///    "epilogue"}}]}  (rhs_batch: the right-hand matrices, 1 for a weight)
/// "kind" is a fused region's kind, "kernel" the generated kernel's index (or -1).
Status writeProfileJson(const std::string &path, const parc::artifact::Program &program,
                        const Executor &executor, int runs, const std::string &device);

} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_PROFILE_H
