//===- CudaProvider.cpp - running cuda artifacts --------------------------===//
//
// How parc-run places the ranks of a cuda artifact: one rank per GPU (rank % GPUs); ranks
// that outnumber the GPUs share them and stage their communication through the host over
// Gloo (NCCL refuses two ranks on one device). PARC_CUDA_EMULATOR runs the backend on the
// host instead, for tests.
//
//===----------------------------------------------------------------------===//

#include "BackendRegistry.h"
#include "CudaDevice.h"
#include "cuda/CudaBackend.h"

#include "parc/artifact/artifact.pb.h"

#include <cstdio>

using namespace parc::rt;
namespace pa = parc::artifact;

namespace {

Status checkCudaMachine(const pa::Manifest &manifest) {
  int world = manifest.world_size();
  int devices = 1;
  if (cudaEmulatorRequested()) {
    std::fprintf(stderr, "parc-run: PARC_CUDA_EMULATOR is set: the CUDA backend runs on "
                         "the host (kernels compiled for the CPU; for testing)\n");
  } else {
    Status gpu = countCudaDevices(devices);
    if (!gpu)
      return Status::error("targets cuda, but " + gpu.message());
  }
  if (world > 1 && placeRankOnGpu(0, world, devices).stageThroughHost)
    std::fprintf(stderr,
                 "parc-run: %d ranks share %d GPU%s: collectives and pipeline transfers "
                 "are staged through host memory over Gloo (correct, slower than NCCL)\n",
                 world, devices, devices == 1 ? "" : "s");
  return Status::ok();
}

/// The CUDA backend of this rank: GPU rank % GPUs (or the emulator). Collectives run over
/// NCCL when every rank has a GPU of its own, else staged through host memory over the
/// Gloo groups (the launcher said so).
std::unique_ptr<Backend> createGpuBackend(const pa::Manifest &manifest,
                                          const LaunchOptions &options,
                                          const CommunicatorGroups &groups, int /*threads*/,
                                          Status &status) {
  bool emulated = cudaEmulatorRequested();
  int devices = 1;
  if (!emulated) {
    status = countCudaDevices(devices);
    if (!status)
      return nullptr;
  }
  GpuPlacement placement = placeRankOnGpu(options.rank, manifest.world_size(), devices);
  std::unique_ptr<GpuDevice> device =
      emulated ? openEmulatedDevice(options.workDir, status)
               : openDriverDevice(placement.ordinal, status);
  if (!device)
    return nullptr;
  std::unique_ptr<DeviceCollectives> collectives;
  if (!emulated && !placement.stageThroughHost && manifest.world_size() > 1) {
    collectives = createNcclCollectives(*device, groups,
                                        collectiveGroupsOf(manifest, options.rank), status);
    if (!collectives)
      return nullptr;
  }
  return createCudaBackend(manifest, std::move(device), std::move(collectives), status);
}

} // namespace

const BackendProvider &parc::rt::cudaBackendProvider() {
  static const BackendProvider provider{"cuda", checkCudaMachine, createGpuBackend};
  return provider;
}
