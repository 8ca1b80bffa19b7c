//===- BlockReorder.cpp - NCCL's rank-major blocks vs parc's axes ---------===//

#include "BlockReorder.h"

using namespace parc::rt;

Status parc::rt::rankMajorToAxis(GpuDevice &device, void *to, const void *from, size_t outer,
                                 size_t block, int ranks) {
  for (int r = 0; r < ranks; ++r)
    PARC_RETURN_IF_ERROR(device.copyRowsOnDevice(
        static_cast<char *>(to) + r * block, block * ranks,
        static_cast<const char *>(from) + r * outer * block, block, block, outer));
  return Status::ok();
}

Status parc::rt::axisToRankMajor(GpuDevice &device, void *to, const void *from, size_t outer,
                                 size_t block, int ranks) {
  for (int r = 0; r < ranks; ++r)
    PARC_RETURN_IF_ERROR(device.copyRowsOnDevice(
        static_cast<char *>(to) + r * outer * block, block,
        static_cast<const char *>(from) + r * block, block * ranks, block, outer));
  return Status::ok();
}
