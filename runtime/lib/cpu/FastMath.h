//===- FastMath.h - vectorizable exp and tanh for f32 kernels ---*- C++ -*-===//
//
// Branch-free float versions of exp and tanh that the compiler vectorizes inside kernel
// loops (the libm calls do not vectorize without -ffast-math). Accuracy is within a few ulp
// over the whole float range, far inside every tolerance the tests state:
//   exp:  range reduction x = n ln2 + r, |r| <= ln2/2, a degree-7 Taylor polynomial for
//         e^r (truncation below 1e-9 relative), then scaling by 2^n through the exponent bits.
//   tanh: an odd Taylor polynomial to x^19 for |x| < 0.625 (truncation below 6e-8
//         relative), 1 - 2 / (e^{2|x|} + 1) above, with the sign restored.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_CPU_FASTMATH_H
#define PARC_RUNTIME_CPU_FASTMATH_H

#include <cmath>
#include <cstdint>
#include <cstring>

namespace parc::rt::cpu {

/// e^x for x in [-87.3, 88.7] (no checks: the callers clamp).
inline float expInRange(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693145751953125f;
  constexpr float kLn2Lo = 1.428606765330187045e-06f;
  // Round to nearest by adding and subtracting 1.5 * 2^23 (vectorizes, unlike nearbyint).
  constexpr float kRound = 12582912.0f;
  float n = (x * kLog2e + kRound) - kRound;
  float r = x - n * kLn2Hi - n * kLn2Lo;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

/// e^x; 0 below -87.3 (underflow), +inf above 88.7, NaN stays NaN.
inline float fastExp(float x) {
  // Comparisons rather than fminf/fmaxf, which stay library calls without -ffast-math.
  float clamped = x < -87.33654f ? -87.33654f : x;
  clamped = clamped > 88.72283f ? 88.72283f : clamped;
  float result = expInRange(clamped);
  result = x < -87.33654f ? 0.0f : result;
  result = x > 88.72283f ? INFINITY : result;
  return x != x ? x : result;
}

/// tanh(x), odd, exact to a few ulp; +-1 for large |x|.
inline float fastTanh(float x) {
  float a = std::fabs(x);
  float s = a * a;
  // Taylor coefficients of tanh(x)/x - 1 in powers of x^2, highest first.
  float p = -443861162.0f / 1856156927625.0f;
  p = p * s + 6404582.0f / 10854718875.0f;
  p = p * s - 929569.0f / 638512875.0f;
  p = p * s + 21844.0f / 6081075.0f;
  p = p * s - 1382.0f / 155925.0f;
  p = p * s + 62.0f / 2835.0f;
  p = p * s - 17.0f / 315.0f;
  p = p * s + 2.0f / 15.0f;
  p = p * s - 1.0f / 3.0f;
  float small = a + a * s * p;
  float capped = a < 10.0f ? a : 10.0f;
  float large = 1.0f - 2.0f / (expInRange(2.0f * capped) + 1.0f);
  float magnitude = a < 0.625f ? small : large;
  return x < 0.0f ? -magnitude : magnitude;
}

} // namespace parc::rt::cpu

#endif // PARC_RUNTIME_CPU_FASTMATH_H
