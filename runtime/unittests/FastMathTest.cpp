//===- FastMathTest.cpp - accuracy of the vectorizable exp and tanh -------===//

#include "FastMath.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace parc::rt::cpu;

namespace {

/// Relative error against the double-precision libm result.
double relativeError(float actual, double expected) {
  return std::fabs(actual - expected) / std::max(std::fabs(expected), 1e-30);
}

TEST(FastMathTest, ExpIsAccurateOverTheFloatRange) {
  // Stated bound: 4e-7 relative (a few ulp of f32) wherever the result is a normal float.
  double worst = 0;
  for (float x = -87.0f; x <= 88.0f; x += 0.0137f)
    worst = std::max(worst, relativeError(fastExp(x), std::exp(double(x))));
  EXPECT_LT(worst, 4e-7);
  EXPECT_EQ(fastExp(0.0f), 1.0f);
  EXPECT_EQ(fastExp(-100.0f), 0.0f);
  EXPECT_EQ(fastExp(100.0f), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(fastExp(std::nanf(""))));
}

TEST(FastMathTest, TanhIsAccurateAndOdd) {
  // Stated bound: 4e-7 relative, including tiny arguments where tanh(x) ~ x.
  double worst = 0;
  for (float x = -12.0f; x <= 12.0f; x += 0.00731f)
    worst = std::max(worst, relativeError(fastTanh(x), std::tanh(double(x))));
  for (float x = 1e-30f; x < 1.0f; x *= 1.7f)
    worst = std::max(worst, relativeError(fastTanh(x), std::tanh(double(x))));
  EXPECT_LT(worst, 4e-7);
  EXPECT_EQ(fastTanh(-0.3f), -fastTanh(0.3f));
  EXPECT_EQ(fastTanh(50.0f), 1.0f);
  EXPECT_EQ(fastTanh(-50.0f), -1.0f);
}

} // namespace
