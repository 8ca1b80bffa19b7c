//===- ArtifactWriter.h - writing .parc artifacts ---------------*- C++ -*-===//
//
// Serializes a planned parc module into a .parc artifact (docs/artifact.md): the manifest
// with one program per rank, and the weights as raw shards in the data region. The module's
// functions must have been through parc-plan-buffers.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_TARGET_ARTIFACT_ARTIFACTWRITER_H
#define PARC_TARGET_ARTIFACT_ARTIFACTWRITER_H

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace mlir::parc {

/// Summary numbers of a written artifact, for reports.
struct ArtifactStats {
  uint64_t fileBytes = 0;
  uint64_t ranks = 1;
  /// Weight bytes one rank maps (its shards and the replicated weights), rank 0's.
  uint64_t weightBytes = 0;
  uint64_t arenaBytes = 0;
  uint64_t instructions = 0;
  /// --target=cuda: the generated kernels (row and elementwise) and their PTX and cubin
  /// bytes; kernels missing either are counted apart.
  uint64_t rowKernels = 0, elementwiseKernels = 0, movementKernels = 0, ptxBytes = 0, cubinBytes = 0;
  uint64_t kernelsWithoutBinaries = 0;
  /// GEMMs with epilogues (fused matmul + bias [+ GELU]) cuBLASLt runs, in rank 0's program.
  uint64_t gemms = 0;
};

/// Writes `module` to `path` for `target`: `@main` runs on every rank of the module's mesh
/// (`parc.mesh`, one rank without one), each rank with its own weight shards. The file is
/// written under a temporary name and renamed at the end, so a failure leaves nothing behind.
/// For target "cuda", every parc.fused op becomes a kernel (CUDA C++, PTX and a cubin for
/// `cudaArch`, compiled with NVRTC). With `randomWeights`, weights are stored without their
/// bytes and parc-run fills them with seeded pseudo-random values (for benchmarks of
/// models too large to copy to the machine that runs them); literals keep theirs.
LogicalResult writeArtifact(ModuleOp module, llvm::StringRef path,
                            llvm::StringRef target, ArtifactStats *stats = nullptr,
                            llvm::StringRef cudaArch = "sm_90", bool randomWeights = false);

} // namespace mlir::parc

#endif // PARC_TARGET_ARTIFACT_ARTIFACTWRITER_H
