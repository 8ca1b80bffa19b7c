//===- TargetRegistry.cpp - the built-in compilation targets --------------===//

#include "parc/Target/Target.h"

#include "parc/Target/Cpu/CpuTarget.h"
#include "parc/Target/Cuda/CudaTarget.h"

#include <vector>

using namespace mlir;
using namespace mlir::parc;

TargetArtifactWriter::~TargetArtifactWriter() = default;
Target::~Target() = default;

namespace {

/// The targets, in the order messages list them.
const std::vector<std::unique_ptr<Target>> &registeredTargets() {
  static const std::vector<std::unique_ptr<Target>> targets = [] {
    std::vector<std::unique_ptr<Target>> all;
    all.push_back(createCpuTarget());
    all.push_back(createCudaTarget());
    return all;
  }();
  return targets;
}

} // namespace

const Target *mlir::parc::lookupTarget(llvm::StringRef name) {
  for (const std::unique_ptr<Target> &target : registeredTargets())
    if (target->getName() == name)
      return target.get();
  return nullptr;
}

std::string mlir::parc::describeTargetNames() {
  std::string names;
  const auto &targets = registeredTargets();
  for (size_t i = 0; i < targets.size(); ++i) {
    if (i > 0)
      names += i + 1 == targets.size() ? " or " : ", ";
    names += targets[i]->getName().str();
  }
  return names;
}
