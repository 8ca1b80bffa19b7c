//===- ConvertTest.cpp - element type conversion --------------------------===//
//
// Checks convert over all 36 type pairs on values every type holds exactly,
// then the edge cases: truncation toward zero, saturation and NaN, != 0 for
// bool, integer wrapping, and single rounding into f16/bf16 (including integers
// too wide for f32).
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"
#include "TestUtils.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace parc::rt;
using namespace parc::rt::test;

namespace {

const DType kAllTypes[] = {DType::F32, DType::F16, DType::BF16,
                           DType::I64, DType::I32, DType::Bool};

Tensor convertTo(const Tensor &in, DType type) {
  Tensor out(type, in.shape);
  cpu::convert(in.ref(), out.ref());
  return out;
}

TEST(ConvertTest, AllPairsOnExactValues) {
  // 0, 1, 3 and -2 are exact in every numeric type; bool sees them as 0/1.
  for (DType from : kAllTypes)
    for (DType to : kAllTypes) {
      std::vector<double> values = {0, 1, 3, -2};
      if (from == DType::Bool)
        values = {0, 1, 1, 1};
      Tensor in = make(from, {2, 2}, values);
      std::vector<double> expected = values;
      if (to == DType::Bool)
        for (double &v : expected)
          v = v != 0;
      EXPECT_EQ(convertTo(in, to).asDoubles(), expected)
          << dtypeName(from) << " -> " << dtypeName(to);
    }
}

TEST(ConvertTest, FloatToIntTruncatesAndSaturates) {
  constexpr float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor in = f32({7}, {2.7f, -2.7f, -0.5f, 1e10f, -1e10f, nan, 2147483520.0f});
  EXPECT_EQ(convertTo(in, DType::I32).values<int32_t>(),
            (std::vector<int32_t>{2, -2, 0, std::numeric_limits<int32_t>::max(),
                                  std::numeric_limits<int32_t>::min(), 0,
                                  2147483520}));
  Tensor big = f32({3}, {1e19f, -1e19f, -9.2233720e18f});
  EXPECT_EQ(convertTo(big, DType::I64).values<int64_t>(),
            (std::vector<int64_t>{std::numeric_limits<int64_t>::max(),
                                  std::numeric_limits<int64_t>::min(),
                                  -9223372036854775807LL - 1}));
}

TEST(ConvertTest, ToBoolTestsNonZero) {
  Tensor in =
      f32({4}, {0.0f, -0.0f, 0.5f, std::numeric_limits<float>::quiet_NaN()});
  EXPECT_EQ(convertTo(in, DType::Bool).values<uint8_t>(),
            (std::vector<uint8_t>{0, 0, 1, 1}));
  Tensor ints = i64({3}, {0, -5, 256});
  EXPECT_EQ(convertTo(ints, DType::Bool).values<uint8_t>(),
            (std::vector<uint8_t>{0, 1, 1}));
}

TEST(ConvertTest, IntegerNarrowingWraps) {
  Tensor in = i64({3}, {(int64_t(1) << 32) + 5, -1, int64_t(1) << 31});
  EXPECT_EQ(convertTo(in, DType::I32).values<int32_t>(),
            (std::vector<int32_t>{5, -1, std::numeric_limits<int32_t>::min()}));
  Tensor narrow = i32({2}, {-3, 7});
  EXPECT_EQ(convertTo(narrow, DType::I64).values<int64_t>(),
            (std::vector<int64_t>{-3, 7}));
}

TEST(ConvertTest, RoundsOnceIntoSixteenBitFloats) {
  // f32 -> f16: 1 + 2^-11 ties to 1; 70000 overflows to infinity.
  Tensor in = f32({3}, {1.0f + std::ldexp(1.0f, -11), 70000.0f, -0.0f});
  EXPECT_EQ(convertTo(in, DType::F16).values<uint16_t>(),
            (std::vector<uint16_t>{0x3c00, 0x7c00, 0x8000}));
  // f16 -> bf16 rounds the f16 value once: 1 + 2^-8 + 2^-10 is above the tie.
  Tensor half =
      make(DType::F16, {1}, {1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -10)});
  EXPECT_EQ(convertTo(half, DType::BF16).values<uint16_t>(),
            (std::vector<uint16_t>{0x3f81}));
  // bf16 -> f32 is exact.
  Tensor bf = Tensor(DType::BF16, {1});
  bf.data<uint16_t>()[0] = 0x3f81;
  EXPECT_EQ(convertTo(bf, DType::F32).values<float>(),
            (std::vector<float>{1.0f + std::ldexp(1.0f, -7)}));
}

TEST(ConvertTest, WideIntegersRoundOnceIntoBFloat16) {
  // 2^25 + 2^17 + 1 is just above the tie between 2^25 and 2^25 + 2^18 (the
  // bf16 neighbours), so it rounds up; going through f32 first would land on
  // the tie 2^25 + 2^17 and round to even (down).
  int64_t value = (int64_t(1) << 25) + (int64_t(1) << 17) + 1;
  Tensor in = i64({2}, {value, -value});
  Tensor out = convertTo(in, DType::BF16);
  EXPECT_EQ(bf16ToFloat(out.data<uint16_t>()[0]),
            static_cast<float>((int64_t(1) << 25) + (int64_t(1) << 18)));
  EXPECT_EQ(bf16ToFloat(out.data<uint16_t>()[1]),
            -static_cast<float>((int64_t(1) << 25) + (int64_t(1) << 18)));
  // An exact tie still rounds to even.
  Tensor tie = i32({1}, {(1 << 25) + (1 << 17)});
  EXPECT_EQ(bf16ToFloat(convertTo(tie, DType::BF16).data<uint16_t>()[0]),
            static_cast<float>(1 << 25));
}

TEST(ConvertTest, LargeConversionAcrossThreads) {
  cpu::setCpuThreads(4);
  std::vector<float> values = randomFloats(100000, 21, -1000.0f, 1000.0f);
  Tensor in = f32({100000}, values);
  Tensor out = convertTo(in, DType::I32);
  for (int i = 0; i < 100000; ++i)
    ASSERT_EQ(out.data<int32_t>()[i],
              static_cast<int32_t>(std::trunc(values[i])));
  cpu::setCpuThreads(2);
}

} // namespace
