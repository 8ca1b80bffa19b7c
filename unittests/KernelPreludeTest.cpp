//===- KernelPreludeTest.cpp - the generated kernels' f16/bf16 rounding ---===//
//
// Every generated CUDA kernel starts with the prelude of lib/Target/Cuda/KernelSupport.h,
// whose f16 and bf16 conversions are the only rounding of low-precision results on the GPU.
// The prelude is compiled here for the host exactly as parc-run's CUDA emulator compiles
// kernels (the emulator's shim, then the source, with $PARC_CUDA_EMULATOR_CXX or c++), and
// its conversions must agree bit for bit with the runtime's (runtime/lib/DType.cpp, pinned
// by DTypeTest): loads of every 16-bit pattern; stores at every representable value, at
// every midpoint between neighbours (ties, to even) and one f32 ulp either side, at f32
// subnormals, infinities and NaN, and at a million random f32 bit patterns. Literal ties pin
// the rounding mode itself.
//
//===----------------------------------------------------------------------===//

#include "Cuda/KernelSupport.h"
#include "cuda/EmulatorShim.h"
#include "parc/Runtime/DType.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <unistd.h>

using parc::rt::bf16ToFloat;
using parc::rt::floatToBf16;
using parc::rt::floatToHalf;
using parc::rt::halfToFloat;

namespace {

/// The prelude's conversions, compiled for the host.
struct Prelude {
  uint16_t (*storeF16)(float) = nullptr;
  float (*loadF16)(uint16_t) = nullptr;
  uint16_t (*storeBf16)(float) = nullptr;
  float (*loadBf16)(uint16_t) = nullptr;
  /// Row statistics over x[0, n): folded one by one into two halves [0, split) and
  /// [split, n), then merged, as two threads of a block do.
  void (*softmax)(const float *, int, int, float *, float *) = nullptr;
  void (*welford)(const float *, int, int, float *, float *, float *) = nullptr;
  std::string error;
};

const Prelude &prelude() {
  static Prelude compiled = [] {
    Prelude result;
    char folder[] = "/tmp/parc-prelude-XXXXXX";
    if (!mkdtemp(folder)) {
      result.error = "mkdtemp failed";
      return result;
    }
    std::string base = std::string(folder) + "/prelude";
    {
      std::ofstream source(base + ".cpp");
      source << parc::rt::kEmulatorShim << mlir::parc::kPrelude << R"(
extern "C" unsigned short prelude_store_f16(float f) { return parc_store_f16(f); }
extern "C" float prelude_load_f16(unsigned short h) { return parc_load_f16(h); }
extern "C" unsigned short prelude_store_bf16(float f) { return parc_store_bf16(f); }
extern "C" float prelude_load_bf16(unsigned short b) { return parc_load_bf16(b); }
extern "C" void prelude_softmax(const float *x, int n, int split, float *m, float *s) {
  float m1 = -__int_as_float(0x7f800000), s1 = 0.0f, m2 = m1, s2 = 0.0f;
  for (int i = 0; i < split; ++i) parc_softmax_add(m1, s1, x[i]);
  for (int i = split; i < n; ++i) parc_softmax_add(m2, s2, x[i]);
  parc_softmax_merge(m1, s1, m2, s2);
  *m = m1; *s = s1;
}
extern "C" void prelude_welford(const float *x, int n, int split, float *count, float *mean,
                                float *m2) {
  float n1 = 0.0f, mean1 = 0.0f, m21 = 0.0f, n2 = 0.0f, mean2 = 0.0f, m22 = 0.0f;
  for (int i = 0; i < split; ++i) parc_welford_add(n1, mean1, m21, x[i]);
  for (int i = split; i < n; ++i) parc_welford_add(n2, mean2, m22, x[i]);
  parc_welford_merge(n1, mean1, m21, n2, mean2, m22);
  *count = n1; *mean = mean1; *m2 = m21;
}
)";
    }
    const char *compiler = std::getenv("PARC_CUDA_EMULATOR_CXX");
    std::string command = std::string(compiler && *compiler ? compiler : "c++") +
                          " -std=c++17 -O1 -w -shared -fPIC -o " + base + ".so " + base +
                          ".cpp 2>" + base + ".log";
    if (std::system(command.c_str()) != 0) {
      result.error = "could not compile the prelude: " + command;
      return result;
    }
    void *library = dlopen((base + ".so").c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library) {
      result.error = dlerror();
      return result;
    }
    result.storeF16 = reinterpret_cast<uint16_t (*)(float)>(dlsym(library, "prelude_store_f16"));
    result.loadF16 = reinterpret_cast<float (*)(uint16_t)>(dlsym(library, "prelude_load_f16"));
    result.storeBf16 = reinterpret_cast<uint16_t (*)(float)>(dlsym(library, "prelude_store_bf16"));
    result.loadBf16 = reinterpret_cast<float (*)(uint16_t)>(dlsym(library, "prelude_load_bf16"));
    result.softmax = reinterpret_cast<decltype(result.softmax)>(dlsym(library, "prelude_softmax"));
    result.welford = reinterpret_cast<decltype(result.welford)>(dlsym(library, "prelude_welford"));
    for (const char *file : {".cpp", ".so", ".log"})
      std::remove((base + file).c_str());
    rmdir(folder);
    return result;
  }();
  return compiled;
}

uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

float floatOf(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

/// Two loads agree: the same bits, or both NaN.
void expectSameFloat(float device, float host, uint32_t pattern) {
  if (std::isnan(host))
    EXPECT_TRUE(std::isnan(device)) << "pattern 0x" << std::hex << pattern;
  else
    EXPECT_EQ(bitsOf(device), bitsOf(host)) << "pattern 0x" << std::hex << pattern;
}

/// The f32 values around every finite value of a 16-bit format (given by `load`): the value,
/// the midpoint to its upper neighbour, and one f32 ulp either side of the midpoint, each
/// with both signs.
std::vector<float> valuesAroundEveryRepresentable(float (*load)(uint16_t), uint16_t infinity) {
  std::vector<float> values;
  for (uint32_t bits = 0; bits < infinity; ++bits) {
    double low = load(static_cast<uint16_t>(bits)), high = load(static_cast<uint16_t>(bits + 1));
    float middle = static_cast<float>((low + high) / 2); // exact: one bit more than the format
    for (float value : {static_cast<float>(low), middle,
                        std::nextafter(middle, 0.0f), std::nextafter(middle, INFINITY)}) {
      values.push_back(value);
      values.push_back(-value);
    }
  }
  return values;
}

/// F32 subnormals, infinities, NaN and a million random f32 bit patterns.
std::vector<float> edgesAndRandomBits() {
  std::vector<float> values = {0.0f, -0.0f, INFINITY, -INFINITY,
                               std::numeric_limits<float>::quiet_NaN(),
                               floatOf(0x7f800001u), floatOf(0xffc00001u),
                               std::numeric_limits<float>::max(),
                               std::numeric_limits<float>::denorm_min(),
                               floatOf(0x007fffffu), floatOf(0x80400000u)};
  std::mt19937 generator(42);
  for (int i = 0; i < 1 << 20; ++i)
    values.push_back(floatOf(static_cast<uint32_t>(generator())));
  return values;
}

TEST(KernelPreludeTest, CompilesForTheHostAsTheEmulatorDoes) {
  ASSERT_EQ(prelude().error, "");
  ASSERT_NE(prelude().storeF16, nullptr);
  ASSERT_NE(prelude().storeBf16, nullptr);
}

TEST(KernelPreludeTest, LoadsEveryPatternAsTheRuntimeDoes) {
  const Prelude &p = prelude();
  ASSERT_EQ(p.error, "");
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    expectSameFloat(p.loadF16(static_cast<uint16_t>(bits)), halfToFloat(bits), bits);
    expectSameFloat(p.loadBf16(static_cast<uint16_t>(bits)), bf16ToFloat(bits), bits);
  }
}

TEST(KernelPreludeTest, F16StoresRoundAsTheRuntimeDoes) {
  const Prelude &p = prelude();
  ASSERT_EQ(p.error, "");
  std::vector<float> values = valuesAroundEveryRepresentable(halfToFloat, 0x7c00);
  std::vector<float> more = edgesAndRandomBits();
  values.insert(values.end(), more.begin(), more.end());
  int mismatches = 0;
  for (float value : values) {
    uint16_t device = p.storeF16(value), host = floatToHalf(value);
    bool bothNaN = std::isnan(value) && (device & 0x7c00) == 0x7c00 && (device & 0x3ff) &&
                   (device & 0x8000) == (host & 0x8000);
    if (device != host && !bothNaN && ++mismatches <= 10)
      ADD_FAILURE() << "f16 store of " << value << " (0x" << std::hex << bitsOf(value)
                    << "): kernel 0x" << device << ", runtime 0x" << host;
  }
  EXPECT_EQ(mismatches, 0) << "of " << values.size() << " values";
}

TEST(KernelPreludeTest, Bf16StoresRoundAsTheRuntimeDoes) {
  const Prelude &p = prelude();
  ASSERT_EQ(p.error, "");
  std::vector<float> values = valuesAroundEveryRepresentable(bf16ToFloat, 0x7f80);
  std::vector<float> more = edgesAndRandomBits();
  values.insert(values.end(), more.begin(), more.end());
  int mismatches = 0;
  for (float value : values) {
    uint16_t device = p.storeBf16(value), host = floatToBf16(value);
    if (device != host && ++mismatches <= 10)
      ADD_FAILURE() << "bf16 store of " << value << " (0x" << std::hex << bitsOf(value)
                    << "): kernel 0x" << device << ", runtime 0x" << host;
  }
  EXPECT_EQ(mismatches, 0) << "of " << values.size() << " values";
}

TEST(KernelPreludeTest, TiesGoToEvenOverflowGoesToInfinity) {
  const Prelude &p = prelude();
  ASSERT_EQ(p.error, "");
  // 1 + 2^-8 is halfway between bf16 1 and 1 + 2^-7: even is 1 (truncation gives 1 too,
  // but 1 + 3 * 2^-8 separates them: halfway between 0x3f81 and 0x3f82, even is 0x3f82).
  EXPECT_EQ(p.storeBf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  EXPECT_EQ(p.storeBf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_EQ(p.storeBf16(std::nextafter(1.0f + std::ldexp(1.0f, -8), 2.0f)), 0x3f81);
  EXPECT_EQ(p.storeBf16(-(1.0f + 3 * std::ldexp(1.0f, -8))), 0xbf82);
  EXPECT_EQ(p.storeBf16(std::numeric_limits<float>::max()), 0x7f80); // rounds past bf16's max
  EXPECT_EQ(p.storeF16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(p.storeF16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(p.storeF16(65519.0f), 0x7bff);
  EXPECT_EQ(p.storeF16(65520.0f), 0x7c00);
  EXPECT_EQ(p.storeF16(std::ldexp(1.0f, -25)), 0x0000);  // tie between 0 and 2^-24: 0
  EXPECT_EQ(p.storeF16(std::ldexp(3.0f, -25)), 0x0002);  // tie between 1 and 2 units: 2
  EXPECT_EQ(p.storeF16(std::ldexp(2047.0f, -25)), 0x0400); // up to the smallest normal
  EXPECT_EQ(p.storeF16(-0.0f), 0x8000);
}

/// Online softmax (one pass for a row's max and sum of exp(x - max), merged across
/// threads) against the two-pass definition in double, on random rows split anywhere, and
/// on rows with -inf (masked) entries: a -inf first element, an all -inf half, a row of
/// -inf (NaN, as exp(-inf - -inf) on the CPU).
TEST(KernelPreludeTest, OnlineSoftmaxMatchesTheTwoPassDefinition) {
  const Prelude &p = prelude();
  ASSERT_TRUE(p.error.empty()) << p.error;
  std::mt19937 random(5);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  float inf = std::numeric_limits<float>::infinity();
  std::vector<std::vector<float>> rows = {{-inf, 1.0f, 2.0f}, {-inf, -inf, 0.5f, -1.0f},
                                          {3.0f, 3.0f, 3.0f}, {-inf, -inf}};
  for (int length : {1, 7, 768, 1600}) {
    std::vector<float> row(length);
    for (float &x : row)
      x = normal(random);
    rows.push_back(row);
  }
  for (const std::vector<float> &row : rows) {
    int n = static_cast<int>(row.size());
    double max = -INFINITY, sum = 0;
    for (float x : row)
      max = std::max(max, static_cast<double>(x));
    for (float x : row)
      sum += std::exp(static_cast<double>(x) - max);
    for (int split : {0, n / 3, n}) {
      float m = 0, s = 0;
      p.softmax(row.data(), n, split, &m, &s);
      if (std::isinf(max)) { // every element -inf
        EXPECT_TRUE(std::isinf(m) && m < 0);
        continue;
      }
      EXPECT_EQ(m, static_cast<float>(max)) << "length " << n << " split " << split;
      EXPECT_NEAR(s, sum, 1e-5 * sum) << "length " << n << " split " << split;
    }
  }
  // Two empty halves merge to an empty row, not NaN.
  float m = 0, s = 0;
  p.softmax(nullptr, 0, 0, &m, &s);
  EXPECT_TRUE(std::isinf(m) && m < 0);
  EXPECT_EQ(s, 0.0f);
}

/// Welford's single pass against the two-pass mean and variance in double, on rows far
/// from zero (where sum-of-squares formulas lose every digit), split anywhere.
TEST(KernelPreludeTest, WelfordMatchesTheTwoPassMeanAndVariance) {
  const Prelude &p = prelude();
  ASSERT_TRUE(p.error.empty()) << p.error;
  std::mt19937 random(9);
  for (float offset : {0.0f, 3.0f, 1000.0f}) {
    for (int length : {1, 7, 64, 768, 1600}) {
      std::normal_distribution<float> normal(offset, 1.0f);
      std::vector<float> row(length);
      for (float &x : row)
        x = normal(random);
      double mean = 0, variance = 0;
      for (float x : row)
        mean += x;
      mean /= length;
      for (float x : row)
        variance += (x - mean) * (x - mean);
      variance /= length;
      for (int split : {0, length / 2, length}) {
        float count = 0, m = 0, m2 = 0;
        p.welford(row.data(), length, split, &count, &m, &m2);
        EXPECT_EQ(count, static_cast<float>(length));
        EXPECT_NEAR(m, mean, 1e-6 * std::max(1.0, std::abs(mean)))
            << "offset " << offset << " length " << length << " split " << split;
        EXPECT_NEAR(m2 / length, variance, 2e-5 * std::max(variance, 1e-3))
            << "offset " << offset << " length " << length << " split " << split;
      }
    }
  }
}

} // namespace
