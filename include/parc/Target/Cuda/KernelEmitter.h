//===- KernelEmitter.h - CUDA C++ for parc.fused regions --------*- C++ -*-===//
//
// Each parc.fused op becomes one CUDA kernel, emitted as self-contained CUDA C++ (no
// headers, so NVRTC compiles it without the toolkit's include folder):
//
//  * "elementwise": a grid-stride loop over the domain's elements, in vector steps of 16
//    bytes of its narrowest tensor when the count allows (4 f32, 8 f16/bf16 lanes): whole
//    and bias-like inputs are loaded and the outputs stored in 16-byte chunks;
//  * "row": one thread block per row of the domain (its last dim); the inputs read along
//    the row are staged in shared memory with 16-byte loads, each reduction (sum, mean,
//    max; softmax's max and sum, online in one pass; a layer norm's mean and variance,
//    Welford's one pass) is a pass over the staged row,
//    reduced with warp shuffles and shared memory, and the outputs are stored in 16-byte
//    chunks in a last pass.
//
// Index arithmetic is 32-bit when the tensors allow; single-element constants (scales,
// epsilons, GELU's exponent) are literals in the source.
//
// Inputs broadcast to the ops reading them (numpy rules). f16 and bf16 are loaded to f32,
// computed in f32 and rounded once when stored.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_TARGET_CUDA_KERNELEMITTER_H
#define PARC_TARGET_CUDA_KERNELEMITTER_H

#include "parc/Dialect/Parc/IR/ParcOps.h"

#include <string>

namespace mlir::parc {

/// A kernel and how to launch it: `extern "C" __global__ void <name>(inputs..., outputs...)`
/// with one pointer per input then per output, in the fused op's order.
struct CudaKernel {
  std::string name;
  std::string source;
  /// Elementwise: grid-stride over `elements`, `lanes` consecutive elements a step (16-byte
  /// vector loads and stores when more than 1). Row: one block per row, `rows` of
  /// `rowLength`.
  bool row = false;
  int64_t lanes = 1;
  int64_t elements = 0;
  int64_t rows = 0;
  int64_t rowLength = 0;
  /// Threads per block the kernel is written for: 256, or for a row kernel the row's
  /// length rounded up to whole warps when that is less.
  int64_t blockSize = 256;
  /// A tiled transpose: its 32 x 32 tiles, one block each (`elements` is tiles x 256).
  int64_t tiles = 0;
};

/// Emits the kernel computing `fused`; fails (with an error at the op) on an op or element
/// type the emitter does not handle.
FailureOr<CudaKernel> emitCudaKernel(FusedOp fused, llvm::StringRef name);

/// Whether `op` runs as a generated data-movement kernel on the GPU (transpose, slice,
/// concat, broadcast_to, gather, shard_slice, shard_gather, reductions over any axes):
/// the ops a program holds besides fused regions, GEMMs, views and communication.
bool hasMovementKernel(Operation *op);

/// Emits the kernel of such an op: a grid-stride loop over the result's elements, each
/// reading the input element it comes from. `rank` of `ranks` is the op's place in its
/// group (shard_slice and shard_gather keep that rank's block).
FailureOr<CudaKernel> emitMovementKernel(Operation *op, llvm::StringRef name, int64_t rank,
                                         int64_t ranks);

} // namespace mlir::parc

#endif // PARC_TARGET_CUDA_KERNELEMITTER_H
