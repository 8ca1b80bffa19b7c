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

} // namespace
