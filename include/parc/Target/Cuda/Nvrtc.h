//===- Nvrtc.h - compiling generated kernels at compile time ----*- C++ -*-===//
//
// parc-compile --target=cuda compiles every generated kernel with NVRTC for the chosen
// architecture and stores both the cubin (run as is on that architecture) and the PTX
// (JIT-compiled by the driver on newer ones) in the artifact. NVRTC is loaded at run
// time (dlopen), so parc-compile builds and runs where CUDA is not installed and says so
// only when asked for --target=cuda. No GPU is needed.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_TARGET_CUDA_NVRTC_H
#define PARC_TARGET_CUDA_NVRTC_H

#include <string>

namespace mlir::parc {

struct CompiledKernel {
  std::string ptx;
  std::string cubin;
};

/// Compiles CUDA C++ `source` (a file named `name` in messages) for `arch` (e.g. sm_90).
/// On failure returns false and sets `error` (NVRTC missing, or its compile log).
bool compileWithNvrtc(const std::string &source, const std::string &name,
                      const std::string &arch, CompiledKernel &compiled, std::string &error);

} // namespace mlir::parc

#endif // PARC_TARGET_CUDA_NVRTC_H
