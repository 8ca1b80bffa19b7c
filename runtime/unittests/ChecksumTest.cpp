//===- ChecksumTest.cpp - the artifact's CRC-32 and CRC-32C ---------------===//
//
// The checksums against their published check values (the CRC catalogue's "123456789"
// vectors), the SSE 4.2 path against the table on every length and alignment up to a few
// words, and CRC-32C's continuation, which the artifact writer relies on when it checksums
// a tensor-parallel shard piece by piece.
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/ArtifactFormat.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

using namespace parc::rt;

namespace {

TEST(ChecksumTest, PublishedCheckValues) {
  const char *check = "123456789";
  EXPECT_EQ(crc32(check, 9), 0xCBF43926u);
  EXPECT_EQ(crc32c(check, 9), 0xE3069283u);
  EXPECT_EQ(crc32cPortable(check, 9), 0xE3069283u);
  EXPECT_EQ(crc32c(check, 0), 0u);
}

TEST(ChecksumTest, HardwareMatchesTheTableAtEveryLengthAndAlignment) {
  std::mt19937 random(7);
  std::vector<unsigned char> bytes(128);
  for (unsigned char &b : bytes)
    b = static_cast<unsigned char>(random());
  for (size_t start = 0; start < 8; ++start)
    for (size_t length = 0; start + length <= 72; ++length)
      ASSERT_EQ(crc32c(bytes.data() + start, length),
                crc32cPortable(bytes.data() + start, length))
          << "start " << start << ", length " << length;
}

TEST(ChecksumTest, ContinuesAcrossPieces) {
  std::vector<char> bytes(1000);
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<char>(i * 131 + 7);
  uint32_t whole = crc32c(bytes.data(), bytes.size());
  for (size_t cut : {0, 1, 7, 8, 500, 999, 1000}) {
    uint32_t first = crc32c(bytes.data(), cut);
    EXPECT_EQ(crc32c(bytes.data() + cut, bytes.size() - cut, first), whole) << "cut " << cut;
    EXPECT_EQ(crc32cPortable(bytes.data() + cut, bytes.size() - cut, first), whole)
        << "cut " << cut;
  }
  // One flipped bit changes it.
  bytes[321] ^= 0x04;
  EXPECT_NE(crc32c(bytes.data(), bytes.size()), whole);
}

} // namespace
