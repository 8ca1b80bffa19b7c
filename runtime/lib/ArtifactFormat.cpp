//===- ArtifactFormat.cpp - checksums of the artifact layout --------------===//

#include "parc/Runtime/ArtifactFormat.h"

#include <array>
#include <cstring>

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

namespace {
/// The byte-wise table of the reflected Castagnoli polynomial 0x82F63B78.
std::array<uint32_t, 256> makeCrc32cTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? 0x82F63B78u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

#if defined(__x86_64__)
/// The SSE 4.2 crc32 instruction, eight bytes at a time.
__attribute__((target("sse4.2"))) uint32_t crc32cHardware(const unsigned char *bytes,
                                                          size_t size, uint32_t c) {
  uint64_t wide = c;
  for (; size >= 8; bytes += 8, size -= 8) {
    uint64_t word;
    std::memcpy(&word, bytes, 8);
    wide = __builtin_ia32_crc32di(wide, word);
  }
  c = static_cast<uint32_t>(wide);
  for (; size > 0; ++bytes, --size)
    c = __builtin_ia32_crc32qi(c, *bytes);
  return c;
}
#endif
} // namespace

uint32_t parc::rt::crc32cPortable(const void *data, size_t size, uint32_t crc) {
  static const std::array<uint32_t, 256> table = makeCrc32cTable();
  const auto *bytes = static_cast<const unsigned char *>(data);
  uint32_t c = ~crc;
  for (size_t i = 0; i < size; ++i)
    c = table[(c ^ bytes[i]) & 0xFF] ^ (c >> 8);
  return ~c;
}

uint32_t parc::rt::crc32c(const void *data, size_t size, uint32_t crc) {
#if defined(__x86_64__)
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  if (hardware)
    return ~crc32cHardware(static_cast<const unsigned char *>(data), size, ~crc);
#endif
  return crc32cPortable(data, size, crc);
}
