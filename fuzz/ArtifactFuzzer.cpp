//===- ArtifactFuzzer.cpp - fuzz the artifact loader ----------------------===//
//
// Input: the bytes of a .parc file. They are loaded as parc-run loads an artifact: mapped
// and validated (Artifact::open), every rank's weight checksums checked (--verify), and
// every rank's program bound to the CPU backend's kernels (Executor::create: arena, inputs
// and each instruction's params). Each step must succeed or fail with an error; nothing
// runs. A mutated manifest would almost never match the header's CRC-32, so the target
// first rewrites that checksum (when the header's sizes fit the input) so that mutations
// reach the manifest's parser and validation; the checksum check itself is covered by the
// unit and lit tests. Programs declaring more than 64 MB of arena and inputs are not bound
// (the runtime allows them; libFuzzer would report the allocation).
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"

#include "parc/Runtime/Artifact.h"
#include "parc/Runtime/ArtifactFormat.h"
#include "parc/Runtime/Backend.h"
#include "parc/Runtime/Executor.h"
#include "parc/artifact/artifact.pb.h"

#include <cstring>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

using namespace parc::rt;
namespace pa = parc::artifact;

static constexpr uint64_t kBindLimitBytes = 64ull << 20;

/// Whether binding `rank`'s program allocates at most kBindLimitBytes.
static bool smallEnoughToBind(const pa::Manifest &manifest, int rank) {
  uint64_t total = manifest.programs(rank).arena_bytes();
  for (const pa::GraphValue &input : manifest.inputs()) {
    uint64_t bytes = 0;
    if (!tensorBytes(input.type(), bytes) || __builtin_add_overflow(total, bytes, &total))
      return false;
  }
  return total <= kBindLimitBytes;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<char> bytes(data, data + size);
  if (size >= sizeof(ArtifactHeader) &&
      std::memcmp(bytes.data(), kArtifactMagic, sizeof(kArtifactMagic)) == 0) {
    ArtifactHeader header;
    std::memcpy(&header, bytes.data(), sizeof(header));
    if (header.manifestSize <= size - sizeof(header)) {
      header.manifestCrc32 = crc32(bytes.data() + sizeof(header), header.manifestSize);
      std::memcpy(bytes.data(), &header, sizeof(header));
    }
  }
  // The loader maps a file: an anonymous one in memory.
  int fd = memfd_create("artifact.parc", 0);
  FUZZ_CHECK(fd >= 0, "memfd_create");
  for (size_t written = 0; written < bytes.size();) {
    ssize_t n = write(fd, bytes.data() + written, bytes.size() - written);
    FUZZ_CHECK(n > 0, "write");
    written += static_cast<size_t>(n);
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  Status status;
  std::unique_ptr<Artifact> artifact = Artifact::open(path, status);
  if (!artifact) {
    FUZZ_CHECK(::parc::fuzz::isErrorMessage(status.message()), status.message());
    FUZZ_CHECK(status.message().rfind(path + ": ", 0) == 0, status.message());
    ::parc::fuzz::refused();
    close(fd);
    return 0;
  }
  ::parc::fuzz::accepted();
  const pa::Manifest &manifest = artifact->manifest();
  std::unique_ptr<Backend> backend = createCpuBackend(1);
  CommunicatorGroups groups; // none: collectives fail to bind, with an error
  for (int rank = 0; rank < manifest.world_size() && rank < 8; ++rank) {
    Status verified = artifact->verifyWeights(rank);
    FUZZ_CHECK(verified.isOk() || ::parc::fuzz::isErrorMessage(verified.message()),
               verified.message());
    if (!smallEnoughToBind(manifest, rank))
      continue;
    Status bound;
    std::unique_ptr<Executor> executor =
        Executor::create(*artifact, rank, *backend, groups, bound);
    FUZZ_CHECK(executor || ::parc::fuzz::isErrorMessage(bound.message()), bound.message());
  }
  artifact.reset();
  close(fd);
  return 0;
}
