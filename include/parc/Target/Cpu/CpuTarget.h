//===- CpuTarget.h - the cpu compilation target -----------------*- C++ -*-===//

#ifndef PARC_TARGET_CPU_CPUTARGET_H
#define PARC_TARGET_CPU_CPUTARGET_H

#include "parc/Target/Target.h"

namespace mlir::parc {

/// `--target=cpu`: parc-run's CPU backend runs every op by name (runtime/lib/cpu); its
/// programs hold no fused regions and need nothing beyond the instructions.
std::unique_ptr<Target> createCpuTarget();

} // namespace mlir::parc

#endif // PARC_TARGET_CPU_CPUTARGET_H
