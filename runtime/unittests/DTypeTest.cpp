//===- DTypeTest.cpp - element type names and 16-bit float conversions ----===//
//
// Checks dtypeName/parseDType, formatShape, and the f16/bf16 conversions
// against literal bit patterns, exhaustive round trips and a double-precision
// nearest-value reference.
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace parc::rt;

namespace {

TEST(DTypeTest, NamesRoundTrip) {
  for (DType type : {DType::F32, DType::F16, DType::BF16, DType::I64,
                     DType::I32, DType::Bool})
    EXPECT_EQ(parseDType(dtypeName(type)), type);
  EXPECT_STREQ(dtypeName(DType::BF16), "bf16");
  EXPECT_STREQ(dtypeName(DType::Bool), "bool");
  EXPECT_EQ(parseDType("float32"), std::nullopt);
  EXPECT_EQ(parseDType(""), std::nullopt);
}

TEST(DTypeTest, FormatShape) {
  EXPECT_EQ(formatShape({2, 3, 4}), "2x3x4");
  EXPECT_EQ(formatShape({7}), "7");
  EXPECT_EQ(formatShape({0, 3}), "0x3");
  EXPECT_EQ(formatShape({}), "scalar");
}

TEST(DTypeTest, HalfToFloatLiterals) {
  EXPECT_EQ(halfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(halfToFloat(0xc000), -2.0f);
  EXPECT_EQ(halfToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(halfToFloat(0x0400), std::ldexp(1.0f, -14)); // smallest normal
  EXPECT_EQ(halfToFloat(0x0001), std::ldexp(1.0f, -24)); // smallest subnormal
  EXPECT_EQ(halfToFloat(0x03ff), std::ldexp(1023.0f, -24));
  EXPECT_EQ(halfToFloat(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(halfToFloat(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(halfToFloat(0x7e00)));
  float negativeZero = halfToFloat(0x8000);
  EXPECT_EQ(negativeZero, 0.0f);
  EXPECT_TRUE(std::signbit(negativeZero));
}

TEST(DTypeTest, FloatToHalfRoundsToNearestEven) {
  EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(floatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(floatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(65519.0f), 0x7bff); // below the halfway point
  EXPECT_EQ(floatToHalf(65520.0f), 0x7c00); // halfway: ties to even = inf
  EXPECT_EQ(floatToHalf(1e6f), 0x7c00);
  EXPECT_EQ(floatToHalf(-1e6f), 0xfc00);
  // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: even is 1.
  EXPECT_EQ(floatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  // 1 + 3 * 2^-11 lies halfway between 0x3c01 and 0x3c02: even is 0x3c02.
  EXPECT_EQ(floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  // Just above a tie rounds up.
  EXPECT_EQ(floatToHalf(std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f)),
            0x3c01);
  // Subnormals: 2^-25 is halfway between 0 and the smallest subnormal.
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(floatToHalf(std::ldexp(3.0f, -26)), 0x0001);
  EXPECT_EQ(floatToHalf(std::ldexp(3.0f, -25)), 0x0002); // tie 1|2 -> 2
  // Halfway between the largest subnormal and the smallest normal.
  EXPECT_EQ(floatToHalf(std::ldexp(2047.0f, -25)), 0x0400);
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -30)), 0x0000);
  EXPECT_EQ(floatToHalf(-0.0f), 0x8000);
  uint16_t nan = floatToHalf(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x03ff, 0);
}

TEST(DTypeTest, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    uint16_t half = static_cast<uint16_t>(bits);
    bool isNaN = (half & 0x7c00) == 0x7c00 && (half & 0x03ff) != 0;
    if (isNaN)
      EXPECT_TRUE(std::isnan(halfToFloat(half))) << bits;
    else
      EXPECT_EQ(floatToHalf(halfToFloat(half)), half) << bits;
  }
}

/// The f16 nearest to `value` (ties to even), found by scanning in double:
/// independent of the bit manipulation under test.
uint16_t nearestHalfByScan(float value) {
  double target = value;
  uint16_t best = 0;
  double bestError = std::numeric_limits<double>::infinity();
  for (uint32_t bits = 0; bits < 0x7c00; ++bits) { // finite non-negative
    double candidate = std::ldexp(1.0, -24) * (bits & 0x3ff);
    if (bits >= 0x400)
      candidate = std::ldexp(1.0 + (bits & 0x3ff) / 1024.0,
                             static_cast<int>(bits >> 10) - 15);
    double error = std::fabs(std::fabs(target) - candidate);
    if (error < bestError || (error == bestError && (bits & 1) == 0)) {
      bestError = error;
      best = static_cast<uint16_t>(bits);
    }
  }
  return static_cast<uint16_t>(best | (value < 0 ? 0x8000 : 0));
}

TEST(DTypeTest, FloatToHalfMatchesNearestValue) {
  std::vector<float> samples =
      parc::rt::test::randomFloats(300, /*seed=*/7, -70000.0f, 70000.0f);
  std::vector<float> small =
      parc::rt::test::randomFloats(300, /*seed=*/8, -1e-4f, 1e-4f);
  samples.insert(samples.end(), small.begin(), small.end());
  for (float value : samples) {
    if (std::fabs(value) >= 65520.0f)
      continue; // Rounds to infinity, checked above.
    EXPECT_EQ(floatToHalf(value), nearestHalfByScan(value)) << value;
  }
}

TEST(DTypeTest, BFloat16RoundsToNearestEven) {
  EXPECT_EQ(floatToBf16(1.0f), 0x3f80);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: even is 1.
  EXPECT_EQ(floatToBf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  // 1 + 3 * 2^-8 is halfway between 0x3f81 and 0x3f82: even is 0x3f82.
  EXPECT_EQ(floatToBf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_EQ(bf16ToFloat(0x3f82), 1.0f + std::ldexp(1.0f, -6));
  EXPECT_TRUE(std::isnan(
      bf16ToFloat(floatToBf16(std::numeric_limits<float>::quiet_NaN()))));
}

} // namespace
