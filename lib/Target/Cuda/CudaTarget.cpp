//===- CudaTarget.cpp - the cuda compilation target -----------------------===//
//
// Generates each instruction's kernel, compiles it with NVRTC and stores it in the
// manifest, once per distinct source (the layers of a model share theirs).
//
//===----------------------------------------------------------------------===//

#include "parc/Target/Cuda/CudaTarget.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Target/Artifact/ArtifactWriter.h"
#include "parc/Target/Cuda/KernelEmitter.h"
#include "parc/Target/Cuda/Nvrtc.h"

#include "llvm/ADT/StringMap.h"

#include "parc/artifact/artifact.pb.h"

using namespace mlir;
using namespace mlir::parc;
namespace pa = ::parc::artifact;

namespace {

class CudaArtifactWriter final : public TargetArtifactWriter {
public:
  CudaArtifactWriter(pa::Manifest &manifest, StringRef arch)
      : manifest(manifest), arch(arch.str()) {
    manifest.set_cuda_arch(this->arch);
  }

  LogicalResult lowerInstruction(Operation *op, int64_t groupRank, int64_t groupSize,
                                 pa::Instruction &inst) override {
    if (auto fused = dyn_cast<FusedOp>(op)) {
      // A GEMM runs in cuBLASLt (with its epilogue); every other region is a kernel.
      FailureOr<int> kernel =
          fused.getKind() == "gemm" ? FailureOr<int>(-1) : storeKernel(op, 0, 1);
      if (failed(kernel))
        return failure();
      inst.mutable_kernel()->set_kernel(*kernel);
      return success();
    }
    // cuBLASLt, NCCL (or host staging) and in-place weight updates need no kernel.
    if (isa<MatMulOp, AssignWeightOp, RecvOp, AllReduceOp, AllReduceStartOp, AllGatherOp,
            ReduceScatterOp>(op))
      return success();
    // On a GPU every other op is a generated kernel; one without is an error here, not
    // when the artifact runs.
    if (!hasMovementKernel(op))
      return op->emitOpError("has no CUDA kernel (--target=cuda)");
    FailureOr<int> kernel = storeKernel(op, groupRank, groupSize);
    if (failed(kernel))
      return failure();
    inst.mutable_kernel()->set_kernel(*kernel);
    return success();
  }

private:
  /// The index in the manifest of the kernel computing `op` (a fused region or a
  /// data-movement op, as rank `rank` of `ranks` of its group runs it), generated and
  /// compiled on first use.
  FailureOr<int> storeKernel(Operation *op, int64_t rank, int64_t ranks) {
    // Generated under a placeholder name, so that equal kernels have equal sources.
    constexpr llvm::StringLiteral placeholder = "parc_kernel_PLACEHOLDER";
    auto fused = dyn_cast<FusedOp>(op);
    FailureOr<CudaKernel> kernel = fused ? emitCudaKernel(fused, placeholder)
                                         : emitMovementKernel(op, placeholder, rank, ranks);
    if (failed(kernel))
      return failure();
    // One manifest entry per source and launch shape: a row kernel's source holds the
    // row's length but not the row count, so a layer norm over 8x64 and one over a 2x64
    // slice share a source but not a grid (sharing one wrote 6 rows past the slice).
    std::string identity = kernel->source + "\n// launch: " + (kernel->row ? "row" : "flat") +
                           " lanes " + std::to_string(kernel->lanes) + " elements " +
                           std::to_string(kernel->elements) + " rows " +
                           std::to_string(kernel->rows) + " x " +
                           std::to_string(kernel->rowLength) + " block " +
                           std::to_string(kernel->blockSize);
    auto [known, inserted] =
        kernelWithSource.try_emplace(identity, manifest.cuda_kernels_size());
    if (!inserted)
      return known->second;
    int index = known->second;
    kernel->name = "parc_kernel_" + std::to_string(index);
    for (size_t at; (at = kernel->source.find(placeholder.str())) != std::string::npos;)
      kernel->source.replace(at, placeholder.size(), kernel->name);
    CompiledKernel compiled;
    std::string error;
    if (!compileWithNvrtc(kernel->source, kernel->name + ".cu", arch, compiled, error))
      return op->emitOpError("cannot compile its kernel: ") << error;
    pa::CudaKernel &entry = *manifest.add_cuda_kernels();
    entry.set_name(kernel->name);
    entry.set_source(kernel->source);
    entry.set_ptx(compiled.ptx);
    entry.set_cubin(compiled.cubin);
    entry.set_row(kernel->row);
    entry.set_lanes(kernel->lanes);
    entry.set_elements(kernel->elements);
    entry.set_rows(kernel->rows);
    entry.set_row_length(kernel->rowLength);
    entry.set_block_size(kernel->blockSize);
    entry.set_data_movement(!fused);
    return index;
  }

  pa::Manifest &manifest;
  std::string arch;
  /// Kernels by source and launch shape.
  llvm::StringMap<int> kernelWithSource;
};

class CudaTarget final : public Target {
public:
  llvm::StringRef getName() const override { return "cuda"; }
  std::string trainingUnsupportedReason() const override {
    return "--train with --target=cuda is not supported yet";
  }
  bool runsFusedRegions() const override { return true; }
  std::unique_ptr<TargetArtifactWriter>
  createArtifactWriter(pa::Manifest &manifest, StringRef arch) const override {
    return std::make_unique<CudaArtifactWriter>(manifest, arch);
  }
  void printReport(const ArtifactStats &stats, StringRef arch,
                   llvm::raw_ostream &os) const override {
    os << "  cuda kernels for " << arch << ": " << stats.rowKernels << " row, "
       << stats.elementwiseKernels << " elementwise, " << stats.movementKernels
       << " data movement (NVRTC: " << stats.ptxBytes << " bytes of PTX, "
       << stats.cubinBytes << " bytes of cubins, " << stats.kernelsWithoutBinaries
       << " kernels without both); " << stats.gemms
       << " GEMMs with cuBLASLt epilogues on rank 0\n";
  }
};

} // namespace

std::unique_ptr<Target> mlir::parc::createCudaTarget() {
  return std::make_unique<CudaTarget>();
}
