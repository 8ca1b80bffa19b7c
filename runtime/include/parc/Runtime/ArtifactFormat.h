//===- ArtifactFormat.h - the byte layout of a .parc file -------*- C++ -*-===//
//
// A .parc artifact is one file:
//
//   offset 0   ArtifactHeader (32 bytes, little-endian)
//   offset 32  the manifest: a parc.artifact.Manifest protobuf (runtime/schema/artifact.proto)
//   dataOffset the data region, 64-byte aligned: every weight shard at its manifest offset
//   end        dataOffset + Manifest.data_size == file size
//
// The header carries the format version (checked before anything is parsed) and a CRC-32 of
// the manifest bytes, so a truncated, corrupt or foreign file is refused with a clear message;
// the manifest carries a CRC-32C of every weight shard, checked when a rank maps it.
// Shared by the compiler, which writes it, and the runtime, which maps it.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_ARTIFACTFORMAT_H
#define PARC_RUNTIME_ARTIFACTFORMAT_H

#include <cstddef>
#include <cstdint>

namespace parc::rt {

/// The first eight bytes of every artifact.
constexpr char kArtifactMagic[8] = {'P', 'A', 'R', 'C', 'A', 'R', 'T', '\n'};
/// The layout version this build reads and writes.
constexpr uint32_t kArtifactFormatVersion = 3;
/// Alignment of the data region and of every shard in it.
constexpr uint64_t kArtifactDataAlignment = 64;

struct ArtifactHeader {
  char magic[8];
  uint32_t formatVersion;
  uint32_t manifestCrc32;
  uint64_t manifestSize;
  uint64_t dataOffset;
};
static_assert(sizeof(ArtifactHeader) == 32, "the header is 32 bytes");

/// CRC-32 (IEEE 802.3 polynomial) of `size` bytes.
uint32_t crc32(const void *data, size_t size);

/// CRC-32C (Castagnoli polynomial, iSCSI's) of `size` bytes, continuing from `crc`, the
/// CRC-32C of the bytes before them (0 for none): crc32c(b, crc32c(a)) == crc32c(a + b).
/// Uses the SSE 4.2 instruction where the CPU has it (several GB/s), a table otherwise.
uint32_t crc32c(const void *data, size_t size, uint32_t crc = 0);

/// crc32c by the table only (what machines without SSE 4.2 compute; for tests).
uint32_t crc32cPortable(const void *data, size_t size, uint32_t crc = 0);

/// Rounds `offset` up to the data alignment.
constexpr uint64_t alignArtifactOffset(uint64_t offset) {
  return (offset + kArtifactDataAlignment - 1) / kArtifactDataAlignment *
         kArtifactDataAlignment;
}

} // namespace parc::rt

#endif // PARC_RUNTIME_ARTIFACTFORMAT_H
