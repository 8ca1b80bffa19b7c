//===- KernelRegistry.h - which CPU kernel runs each instruction -*- C++ -*-===//
//
// The CPU backend finds the kernel of an instruction by its op name here. Each file of
// lib/cpu that implements kernels also binds them (add*Kernels below): it reads the
// instruction's typed params (artifact.proto) and returns the kernel, bound to its operands
// and results. Adding an op's CPU kernel touches that one file.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_LIB_CPU_KERNELREGISTRY_H
#define PARC_RUNTIME_LIB_CPU_KERNELREGISTRY_H

#include "parc/Runtime/Backend.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace parc::rt::cpu {

/// Binds one instruction: its operands, results, params and the rank's communicators.
using KernelBinder = std::function<Status(
    const parc::artifact::Instruction &inst, const std::vector<TensorRef> &in,
    const std::vector<TensorRef> &out, const CommunicatorGroups &groups, BoundKernel &kernel)>;

class KernelRegistry {
public:
  /// Binds instructions of op `op` (the parc op name without "parc.") with `binder`.
  void add(const std::string &op, KernelBinder binder);
  /// The binder of `op`, or null.
  const KernelBinder *find(const std::string &op) const;

private:
  std::map<std::string, KernelBinder> binders;
};

/// Every CPU kernel, bound once (CpuBackend.cpp).
const KernelRegistry &cpuKernels();

/// The kernels each file implements (communication: CpuBackend.cpp).
void addElementwiseKernels(KernelRegistry &kernels);
void addReductionKernels(KernelRegistry &kernels);
void addDataMovementKernels(KernelRegistry &kernels);
void addMatMulKernels(KernelRegistry &kernels);
void addCommunicationKernels(KernelRegistry &kernels);

/// Helpers of the binders: the operand and result counts an op expects (an error saying
/// so otherwise), and a kernel that cannot fail.
Status expectArity(const std::vector<TensorRef> &in, const std::vector<TensorRef> &out,
                   size_t operands, size_t results = 1);
template <typename Fn> BoundKernel infallible(Fn fn) {
  return [fn]() {
    fn();
    return Status::ok();
  };
}

} // namespace parc::rt::cpu

#endif // PARC_RUNTIME_LIB_CPU_KERNELREGISTRY_H
