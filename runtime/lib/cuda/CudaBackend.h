//===- CudaBackend.h - the CUDA backend -------------------------*- C++ -*-===//
//
// Binds a --target=cuda program to a GpuDevice: fused regions and data-movement ops launch
// the artifact's generated kernels, GEMMs (with their bias/GELU epilogues) run as
// cuBLASLt calls planned by GemmPlan, reshapes and weight updates are device copies, and
// collectives run either over NCCL on the device or, when ranks share a GPU (or run on
// the emulator), staged through host memory over the rank's Gloo communicators.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_LIB_CUDA_CUDABACKEND_H
#define PARC_RUNTIME_LIB_CUDA_CUDABACKEND_H

#include "GpuDevice.h"

#include "parc/Runtime/Backend.h"

#include <set>
#include <string>

namespace parc::rt {

namespace cuda {
struct Nccl;
} // namespace cuda

class DeviceCollectives;

/// The backend of `device` for `manifest`'s kernels (loaded here). `collectives` runs the
/// program's collectives; null stages them through host memory over the Gloo groups.
std::unique_ptr<Backend> createCudaBackend(const parc::artifact::Manifest &manifest,
                                           std::unique_ptr<GpuDevice> device,
                                           std::unique_ptr<DeviceCollectives> collectives,
                                           Status &status);

/// Collectives on device memory (NCCL): binds all_reduce, all_gather and reduce_scatter.
class DeviceCollectives {
public:
  virtual ~DeviceCollectives() = default;
  virtual Status bind(const std::string &op, const std::string &group, int64_t axis,
                      const TensorRef &in, const TensorRef &out, BoundKernel &kernel) = 0;
};

/// NCCL collectives of the ranks' groups on `device` (which must outlive them), their
/// communicators made from the Gloo `groups` here, for every group in `collectiveGroups`
/// (those the program's collectives name), in name order; through libnccl loaded with
/// dlopen, or the given table of entry points (tests drive them with a fake).
std::unique_ptr<DeviceCollectives>
createNcclCollectives(GpuDevice &device, const CommunicatorGroups &groups,
                      const std::set<std::string> &collectiveGroups, Status &status,
                      const cuda::Nccl *nccl = nullptr);

/// The groups the collectives of rank `rank`'s program run over.
std::set<std::string> collectiveGroupsOf(const parc::artifact::Manifest &manifest, int rank);

} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_CUDA_CUDABACKEND_H
