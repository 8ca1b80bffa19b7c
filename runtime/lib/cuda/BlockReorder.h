//===- BlockReorder.h - NCCL's rank-major blocks vs parc's axes -*- C++ -*-===//
//
// NCCL's all-gather writes each rank's buffer whole, rank after rank, and its
// reduce-scatter gives rank r the r-th contiguous part. parc gathers and scatters along
// any axis: with `outer` rows before the axis, a tensor is [outer, ranks, block] (block:
// one rank's part of the axis times everything after it, in bytes), while NCCL's layout
// is [ranks, outer, block]. These copies convert between the two, one strided copy per
// rank on the device's stream.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_LIB_CUDA_BLOCKREORDER_H
#define PARC_RUNTIME_LIB_CUDA_BLOCKREORDER_H

#include "GpuDevice.h"

namespace parc::rt {

/// [ranks, outer, block] (an NCCL all-gather's result) -> [outer, ranks, block].
Status rankMajorToAxis(GpuDevice &device, void *to, const void *from, size_t outer,
                       size_t block, int ranks);

/// [outer, ranks, block] -> [ranks, outer, block] (an NCCL reduce-scatter's input).
Status axisToRankMajor(GpuDevice &device, void *to, const void *from, size_t outer,
                       size_t block, int ranks);

} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_CUDA_BLOCKREORDER_H
