//===- Target.h - what a compilation target contributes ---------*- C++ -*-===//
//
// A target (`parc-compile --target=NAME`) says what the compile pipeline does for it and
// how the artifact writer lowers its instructions (the kernels they launch). The built-in
// targets, `cpu` and `cuda`, are found by name in one registry; nothing else in the
// compiler compares target names.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_TARGET_TARGET_H
#define PARC_TARGET_TARGET_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>

namespace parc::artifact {
class Instruction;
class Manifest;
} // namespace parc::artifact

namespace mlir::parc {

struct ArtifactStats;

/// The target's part of writing one artifact: it sees every instruction that computes into
/// the arena (a fused region or a single op) once, after the writer has filled its
/// operands, results and params. Transfers, their waits and weight updates are the
/// runtime's own and are not shown to it.
class TargetArtifactWriter {
public:
  virtual ~TargetArtifactWriter();
  /// Says how `op`, written as `inst`, runs on the target (on a GPU: the generated kernel it
  /// launches). `groupRank` of `groupSize` is the rank's place in the group of a
  /// shard_slice or shard_gather (0 of 1 otherwise), for code that depends on it. An op
  /// the target cannot run is an error on the op, here rather than when the artifact runs.
  virtual LogicalResult lowerInstruction(Operation *op, int64_t groupRank,
                                         int64_t groupSize,
                                         ::parc::artifact::Instruction &inst) = 0;
};

/// One compilation target.
class Target {
public:
  virtual ~Target();
  /// The name `--target` takes and the artifact records ("cpu").
  virtual llvm::StringRef getName() const = 0;
  /// Why `--train` cannot compile for this target, or empty when it can.
  virtual std::string trainingUnsupportedReason() const { return ""; }
  /// Whether its programs run parc.fused regions as kernels, so the compile pipeline fuses
  /// (otherwise regions exist only when --emit=fused asks to see them).
  virtual bool runsFusedRegions() const = 0;
  /// Starts the target's part of writing `manifest`; `arch` is the device architecture
  /// asked for (--cuda-arch), which a target without architectures ignores.
  virtual std::unique_ptr<TargetArtifactWriter>
  createArtifactWriter(::parc::artifact::Manifest &manifest, llvm::StringRef arch) const = 0;
  /// Adds the target's lines to parc-compile --report (its kernels), if any.
  virtual void printReport(const ArtifactStats &stats, llvm::StringRef arch,
                           llvm::raw_ostream &os) const {}
};

/// The target named `name`, or null when none is.
const Target *lookupTarget(llvm::StringRef name);
/// The registered targets' names, for messages: "cpu or cuda".
std::string describeTargetNames();

} // namespace mlir::parc

#endif // PARC_TARGET_TARGET_H
