//===- ArtifactFormat.cpp - checksums of the artifact layout --------------===//

#include "parc/Runtime/ArtifactFormat.h"

#include <array>

namespace {
/// The byte-wise lookup table of the reflected IEEE polynomial 0xEDB88320.
std::array<uint32_t, 256> makeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
} // namespace

uint32_t parc::rt::crc32(const void *data, size_t size) {
  static const std::array<uint32_t, 256> table = makeCrcTable();
  const auto *bytes = static_cast<const unsigned char *>(data);
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i)
    c = table[(c ^ bytes[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}
