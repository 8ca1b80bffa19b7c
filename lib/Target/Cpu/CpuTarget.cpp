//===- CpuTarget.cpp - the cpu compilation target -------------------------===//

#include "parc/Target/Cpu/CpuTarget.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"

using namespace mlir;
using namespace mlir::parc;

namespace {

class CpuArtifactWriter final : public TargetArtifactWriter {
public:
  LogicalResult lowerInstruction(Operation *op, int64_t, int64_t,
                                 ::parc::artifact::Instruction &) override {
    if (isa<FusedOp>(op))
      return op->emitOpError("is a CUDA kernel; a CPU program runs its ops "
                             "(parc-inline-fused)");
    return success();
  }
};

class CpuTarget final : public Target {
public:
  llvm::StringRef getName() const override { return "cpu"; }
  bool runsFusedRegions() const override { return false; }
  std::unique_ptr<TargetArtifactWriter>
  createArtifactWriter(::parc::artifact::Manifest &, llvm::StringRef) const override {
    return std::make_unique<CpuArtifactWriter>();
  }
};

} // namespace

std::unique_ptr<Target> mlir::parc::createCpuTarget() {
  return std::make_unique<CpuTarget>();
}
