//===- ElementwiseTest.cpp - binary, unary and select kernels -------------===//
//
// Expected values are literals for tiny inputs, or come from a naive loop over
// output coordinates (TestUtils' broadcastSource) for random ones. f32 results
// of single operations must match the reference exactly, since both round the
// same IEEE operation once.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"
#include "TestUtils.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

using namespace parc::rt;
using namespace parc::rt::test;
using cpu::BinaryOp;
using cpu::UnaryOp;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// Runs a binary op, expecting success.
Tensor runBinary(BinaryOp op, const Tensor &lhs, const Tensor &rhs,
                 DType outType, Shape outShape) {
  Tensor out(outType, std::move(outShape));
  Status status = cpu::binary(op, lhs.ref(), rhs.ref(), out.ref());
  EXPECT_TRUE(status.isOk()) << status.message();
  return out;
}

/// Checks an f32 binary op against a naive broadcasting loop.
void expectBroadcastAdd(const Shape &lhsShape, const Shape &rhsShape,
                        const Shape &outShape) {
  Tensor lhs = randomF32(lhsShape, 1), rhs = randomF32(rhsShape, 2);
  Tensor out = runBinary(BinaryOp::Add, lhs, rhs, DType::F32, outShape);
  for (int64_t i = 0; i < out.size(); ++i) {
    float expected = lhs.data<float>()[broadcastSource(lhsShape, outShape, i)] +
                     rhs.data<float>()[broadcastSource(rhsShape, outShape, i)];
    ASSERT_EQ(out.data<float>()[i], expected)
        << "element " << i << " of " << formatShape(lhsShape) << " + "
        << formatShape(rhsShape);
  }
}

TEST(ElementwiseTest, AddSameShape) {
  Tensor out = runBinary(BinaryOp::Add, f32({2, 2}, {1, 2, 3, 4}),
                         f32({2, 2}, {10, 20, 30, 40}), DType::F32, {2, 2});
  EXPECT_EQ(out.values<float>(), (std::vector<float>{11, 22, 33, 44}));
}

TEST(ElementwiseTest, BroadcastFastPaths) {
  expectBroadcastAdd({2, 3, 4}, {4}, {2, 3, 4});       // bias along last dim
  expectBroadcastAdd({2, 3, 4}, {2, 3, 1}, {2, 3, 4}); // per-row scale
  expectBroadcastAdd({2, 3, 4}, {}, {2, 3, 4});        // rhs scalar
  expectBroadcastAdd({}, {2, 3, 4}, {2, 3, 4});        // lhs scalar
  expectBroadcastAdd({1}, {5}, {5});
  expectBroadcastAdd({}, {}, {});
}

TEST(ElementwiseTest, BroadcastGeneralPath) {
  expectBroadcastAdd({2, 1, 4}, {3, 1}, {2, 3, 4});
  expectBroadcastAdd({3, 1, 5}, {1, 4, 1}, {3, 4, 5});
  expectBroadcastAdd({2, 1, 3, 1}, {4, 1, 2}, {2, 4, 3, 2});
  expectBroadcastAdd({1, 3}, {2, 1}, {2, 3});
}

TEST(ElementwiseTest, BroadcastAcrossThreads) {
  // Over the parallel threshold, with thread ranges that start mid-row.
  for (int threads : {1, 3, 4}) {
    cpu::setCpuThreads(threads);
    expectBroadcastAdd({64, 33, 40}, {33, 1}, {64, 33, 40});
    expectBroadcastAdd({64, 33, 40}, {40}, {64, 33, 40});
    expectBroadcastAdd({7, 1, 41}, {1, 997, 1}, {7, 997, 41});
  }
  cpu::setCpuThreads(2);
}

TEST(ElementwiseTest, ArithmeticOnF32) {
  Tensor a = f32({4}, {1, -2, 3, 4}), b = f32({4}, {4, 5, -8, 0.5f});
  auto run = [&](BinaryOp op) {
    return runBinary(op, a, b, DType::F32, {4}).values<float>();
  };
  EXPECT_EQ(run(BinaryOp::Sub), (std::vector<float>{-3, -7, 11, 3.5f}));
  EXPECT_EQ(run(BinaryOp::Mul), (std::vector<float>{4, -10, -24, 2}));
  EXPECT_EQ(run(BinaryOp::Div), (std::vector<float>{0.25f, -0.4f, -0.375f, 8}));
  EXPECT_EQ(run(BinaryOp::Max), (std::vector<float>{4, 5, 3, 4}));
  EXPECT_EQ(run(BinaryOp::Min), (std::vector<float>{1, -2, -8, 0.5f}));
  std::vector<float> power = run(BinaryOp::Pow);
  EXPECT_FLOAT_EQ(power[0], 1.0f);
  EXPECT_FLOAT_EQ(power[1], std::pow(-2.0f, 5.0f));
  EXPECT_FLOAT_EQ(power[2], std::pow(3.0f, -8.0f));
  EXPECT_FLOAT_EQ(power[3], 2.0f);
}

TEST(ElementwiseTest, PowByScalarExponent) {
  // Exponents 2 and 3 take a multiplication path: within 2 ulp of powf.
  Tensor base = randomF32({100}, 3);
  for (float exponent : {2.0f, 3.0f, 0.5f, -1.5f}) {
    Tensor x = f32({100}, base.values<float>());
    if (exponent == 0.5f || exponent == -1.5f)
      for (int i = 0; i < 100; ++i)
        x.data<float>()[i] = std::fabs(x.data<float>()[i]);
    Tensor out =
        runBinary(BinaryOp::Pow, x, f32({}, {exponent}), DType::F32, {100});
    for (int i = 0; i < 100; ++i) {
      float expected = std::pow(x.data<float>()[i], exponent);
      EXPECT_NEAR(out.data<float>()[i], expected,
                  2 * std::numeric_limits<float>::epsilon() *
                      std::fabs(expected))
          << "x = " << x.data<float>()[i] << ", exponent " << exponent;
    }
  }
}

TEST(ElementwiseTest, MaxMinPropagateNaN) {
  Tensor a = f32({3}, {kNaN, 1, 2}), b = f32({3}, {0, kNaN, 1});
  for (BinaryOp op : {BinaryOp::Max, BinaryOp::Min}) {
    std::vector<float> out =
        runBinary(op, a, b, DType::F32, {3}).values<float>();
    EXPECT_TRUE(std::isnan(out[0]));
    EXPECT_TRUE(std::isnan(out[1]));
    EXPECT_EQ(out[2], op == BinaryOp::Max ? 2.0f : 1.0f);
  }
}

TEST(ElementwiseTest, IntegerDivisionTruncatesTowardZero) {
  Tensor a = i64({5}, {7, -7, 7, -7, std::numeric_limits<int64_t>::min()});
  Tensor b = i64({5}, {2, 2, -2, -2, -1});
  Tensor out = runBinary(BinaryOp::Div, a, b, DType::I64, {5});
  EXPECT_EQ(out.values<int64_t>(),
            (std::vector<int64_t>{3, -3, -3, 3,
                                  std::numeric_limits<int64_t>::min()}));
  Tensor c = i32({3}, {9, -9, 1}), d = i32({}, {4});
  EXPECT_EQ(runBinary(BinaryOp::Div, c, d, DType::I32, {3}).values<int32_t>(),
            (std::vector<int32_t>{2, -2, 0}));
}

TEST(ElementwiseTest, IntegerDivisionByZeroIsAnError) {
  for (DType type : {DType::I64, DType::I32}) {
    Tensor a = make(type, {3}, {1, 2, 3}), b = make(type, {3}, {1, 0, 1});
    Tensor out(type, {3});
    Status status = cpu::binary(BinaryOp::Div, a.ref(), b.ref(), out.ref());
    ASSERT_FALSE(status.isOk());
    EXPECT_NE(status.message().find("division by zero"), std::string::npos)
        << status.message();
  }
  // Float division by zero is IEEE: infinity.
  Tensor out =
      runBinary(BinaryOp::Div, f32({1}, {1}), f32({1}, {0}), DType::F32, {1});
  EXPECT_EQ(out.data<float>()[0], std::numeric_limits<float>::infinity());
}

TEST(ElementwiseTest, IntegerPowerAndWrapping) {
  Tensor base = i64({6}, {2, 3, 2, -1, 1, -3});
  Tensor exponent = i64({6}, {10, 0, -1, -3, -5, 3});
  EXPECT_EQ(runBinary(BinaryOp::Pow, base, exponent, DType::I64, {6})
                .values<int64_t>(),
            (std::vector<int64_t>{1024, 1, 0, -1, 1, -27}));
  Tensor big = i32({2}, {std::numeric_limits<int32_t>::max(), -5});
  Tensor one = i32({}, {1});
  EXPECT_EQ(
      runBinary(BinaryOp::Add, big, one, DType::I32, {2}).values<int32_t>(),
      (std::vector<int32_t>{std::numeric_limits<int32_t>::min(), -4}));
  EXPECT_EQ(
      runBinary(BinaryOp::Max, big, one, DType::I32, {2}).values<int32_t>(),
      (std::vector<int32_t>{std::numeric_limits<int32_t>::max(), 1}));
}

TEST(ElementwiseTest, ComparisonsWriteBool) {
  Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, kNaN}), b = f32({3}, {1, 5, 2});
  EXPECT_EQ(
      runBinary(BinaryOp::Equal, a, b, DType::Bool, {2, 3}).values<uint8_t>(),
      (std::vector<uint8_t>{1, 0, 0, 0, 1, 0}));
  EXPECT_EQ(
      runBinary(BinaryOp::Less, a, b, DType::Bool, {2, 3}).values<uint8_t>(),
      (std::vector<uint8_t>{0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(
      runBinary(BinaryOp::Greater, a, b, DType::Bool, {2, 3}).values<uint8_t>(),
      (std::vector<uint8_t>{0, 0, 1, 1, 0, 0}));
  Tensor x = i64({3}, {-1, 0, 1}), y = i64({}, {0});
  EXPECT_EQ(runBinary(BinaryOp::Less, x, y, DType::Bool, {3}).values<uint8_t>(),
            (std::vector<uint8_t>{1, 0, 0}));
  Tensor p = boolean({2}, {0, 1}), q = boolean({2}, {0, 0});
  EXPECT_EQ(
      runBinary(BinaryOp::Equal, p, q, DType::Bool, {2}).values<uint8_t>(),
      (std::vector<uint8_t>{1, 0}));
  Tensor h = make(DType::F16, {2}, {0.5, 2}), g = make(DType::F16, {}, {1});
  EXPECT_EQ(runBinary(BinaryOp::Less, h, g, DType::Bool, {2}).values<uint8_t>(),
            (std::vector<uint8_t>{1, 0}));
}

TEST(ElementwiseTest, LogicalOps) {
  Tensor a = boolean({4}, {0, 0, 1, 1}), b = boolean({4}, {0, 1, 0, 1});
  EXPECT_EQ(runBinary(BinaryOp::And, a, b, DType::Bool, {4}).values<uint8_t>(),
            (std::vector<uint8_t>{0, 0, 0, 1}));
  EXPECT_EQ(runBinary(BinaryOp::Or, a, b, DType::Bool, {4}).values<uint8_t>(),
            (std::vector<uint8_t>{0, 1, 1, 1}));
}

TEST(ElementwiseTest, TypeErrors) {
  Tensor out(DType::Bool, {2});
  Tensor flags = boolean({2}, {0, 1}), x = f32({2}, {0, 1}),
         y = i64({2}, {0, 1});
  Tensor h = make(DType::F16, {2}, {0, 1});
  auto message = [&](BinaryOp op, const Tensor &a, const Tensor &b) {
    return cpu::binary(op, a.ref(), b.ref(), out.ref()).message();
  };
  EXPECT_EQ(message(BinaryOp::Add, flags, flags),
            "add: takes numeric operands, not bool");
  EXPECT_EQ(message(BinaryOp::And, x, x), "and: takes bool operands, not f32");
  EXPECT_EQ(message(BinaryOp::Or, h, h), "or: takes bool operands, not f16");
  EXPECT_EQ(message(BinaryOp::Add, x, y), "add: operands are f32 and i64");
}

TEST(ElementwiseTest, HalfPrecisionRoundsOnceToNearestEven) {
  // f16: 1 + 2^-11 is a tie between 1 and 1 + 2^-10 (even: 1); 1 + 3 * 2^-11
  // a tie between 0x3c01 and 0x3c02 (even: 0x3c02).
  Tensor a = make(DType::F16, {2}, {1, 1});
  Tensor b =
      make(DType::F16, {2}, {std::ldexp(1.0, -11), 3 * std::ldexp(1.0, -11)});
  Tensor sum = runBinary(BinaryOp::Add, a, b, DType::F16, {2});
  EXPECT_EQ(sum.values<uint16_t>(), (std::vector<uint16_t>{0x3c00, 0x3c02}));
  // bf16: the same ties one mantissa width up.
  Tensor c = make(DType::BF16, {2}, {1, 1});
  Tensor d =
      make(DType::BF16, {2}, {std::ldexp(1.0, -8), 3 * std::ldexp(1.0, -8)});
  Tensor bsum = runBinary(BinaryOp::Add, c, d, DType::BF16, {2});
  EXPECT_EQ(bsum.values<uint16_t>(), (std::vector<uint16_t>{0x3f80, 0x3f82}));
}

TEST(ElementwiseTest, HalfPrecisionMatchesF32ComputeThenRound) {
  for (DType type : {DType::F16, DType::BF16}) {
    auto round = [&](float v) {
      return type == DType::F16 ? floatToHalf(v) : floatToBf16(v);
    };
    auto widen = [&](uint16_t v) {
      return type == DType::F16 ? halfToFloat(v) : bf16ToFloat(v);
    };
    std::vector<float> av = randomFloats(3 * 40, 11), bv = randomFloats(40, 12);
    Tensor a(type, {3, 40}), b(type, {40});
    for (int i = 0; i < 120; ++i)
      a.data<uint16_t>()[i] = round(av[i]);
    for (int i = 0; i < 40; ++i)
      b.data<uint16_t>()[i] = round(bv[i]);
    Tensor out = runBinary(BinaryOp::Mul, a, b, type, {3, 40});
    for (int i = 0; i < 120; ++i)
      EXPECT_EQ(out.data<uint16_t>()[i],
                round(widen(a.data<uint16_t>()[i]) *
                      widen(b.data<uint16_t>()[i % 40])))
          << dtypeName(type) << " element " << i;
  }
}

TEST(ElementwiseTest, UnaryFloatOps) {
  std::vector<float> values = {-2.5f, -1.0f, -0.1f, 0.0f, 0.3f, 1.0f, 4.0f};
  Tensor in = f32({7}, values);
  auto run = [&](UnaryOp op) {
    Tensor out(DType::F32, {7});
    cpu::unary(op, in.ref(), out.ref());
    return out.values<float>();
  };
  struct Case {
    UnaryOp op;
    std::function<float(float)> reference;
  };
  std::vector<Case> cases = {
      {UnaryOp::Neg, [](float x) { return -x; }},
      {UnaryOp::Abs, [](float x) { return std::fabs(x); }},
      {UnaryOp::Relu, [](float x) { return x > 0 ? x : 0.0f; }},
      {UnaryOp::Exp, [](float x) { return std::exp(x); }},
      {UnaryOp::Tanh, [](float x) { return std::tanh(x); }},
      {UnaryOp::Erf, [](float x) { return std::erf(x); }},
      {UnaryOp::Sin, [](float x) { return std::sin(x); }},
      {UnaryOp::Cos, [](float x) { return std::cos(x); }},
      {UnaryOp::Reciprocal, [](float x) { return 1.0f / x; }},
      {UnaryOp::Sigmoid,
       [](float x) {
         return static_cast<float>(1 / (1 + std::exp(-double(x))));
       }},
  };
  for (const Case &c : cases) {
    std::vector<float> out = run(c.op);
    for (size_t i = 0; i < values.size(); ++i) {
      float expected = c.reference(values[i]);
      if (std::isinf(expected)) {
        EXPECT_EQ(out[i], expected);
        continue;
      }
      // Library functions of different precision: 4 ulp.
      EXPECT_NEAR(out[i], expected,
                  4 * std::numeric_limits<float>::epsilon() *
                      std::max(1.0f, std::fabs(expected)))
          << "op " << static_cast<int>(c.op) << " at " << values[i];
    }
  }
  Tensor positive = f32({3}, {0.25f, 1.0f, 9.0f});
  Tensor out(DType::F32, {3});
  cpu::unary(UnaryOp::Sqrt, positive.ref(), out.ref());
  EXPECT_EQ(out.values<float>(), (std::vector<float>{0.5f, 1.0f, 3.0f}));
  cpu::unary(UnaryOp::Log, positive.ref(), out.ref());
  EXPECT_FLOAT_EQ(out.data<float>()[0], -1.3862943611198906f);
  EXPECT_EQ(out.data<float>()[1], 0.0f);
  // Signed zeros: abs clears the sign, neg flips it.
  Tensor zeros = f32({2}, {-0.0f, 0.0f}), signs(DType::F32, {2});
  cpu::unary(UnaryOp::Abs, zeros.ref(), signs.ref());
  EXPECT_FALSE(std::signbit(signs.data<float>()[0]));
  cpu::unary(UnaryOp::Neg, zeros.ref(), signs.ref());
  EXPECT_FALSE(std::signbit(signs.data<float>()[0]));
  EXPECT_TRUE(std::signbit(signs.data<float>()[1]));
  Tensor nan = f32({1}, {kNaN});
  Tensor relu(DType::F32, {1});
  cpu::unary(UnaryOp::Relu, nan.ref(), relu.ref());
  EXPECT_TRUE(std::isnan(relu.data<float>()[0]));
}

TEST(ElementwiseTest, GeluForms) {
  // Reference values computed in double precision from the formulas:
  // erf form x/2 (1 + erf(x / sqrt 2)), tanh form with 0.044715 x^3.
  Tensor in = f32({4}, {-1, 0, 1, 3});
  Tensor out(DType::F32, {4});
  cpu::unary(UnaryOp::Gelu, in.ref(), out.ref());
  std::vector<double> erfForm = {-0.15865525393145707, 0.0, 0.8413447460685429,
                                 2.99595030590511};
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(out.data<float>()[i], erfForm[i], 1e-6) << i;
  cpu::unary(UnaryOp::GeluTanh, in.ref(), out.ref());
  std::vector<double> tanhForm = {-0.15880800939172324, 0.0, 0.8411919906082768,
                                  2.996362607918227};
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(out.data<float>()[i], tanhForm[i], 1e-6) << i;
}

TEST(ElementwiseTest, UnaryIntegerBoolAndHalf) {
  Tensor ints = i32({3}, {-3, 0, 5});
  Tensor out(DType::I32, {3});
  cpu::unary(UnaryOp::Neg, ints.ref(), out.ref());
  EXPECT_EQ(out.values<int32_t>(), (std::vector<int32_t>{3, 0, -5}));
  cpu::unary(UnaryOp::Abs, ints.ref(), out.ref());
  EXPECT_EQ(out.values<int32_t>(), (std::vector<int32_t>{3, 0, 5}));
  cpu::unary(UnaryOp::Relu, ints.ref(), out.ref());
  EXPECT_EQ(out.values<int32_t>(), (std::vector<int32_t>{0, 0, 5}));
  Tensor longs = i64({2}, {-7, 8}), longOut(DType::I64, {2});
  cpu::unary(UnaryOp::Abs, longs.ref(), longOut.ref());
  EXPECT_EQ(longOut.values<int64_t>(), (std::vector<int64_t>{7, 8}));

  Tensor flags = boolean({2}, {0, 1}), notFlags(DType::Bool, {2});
  cpu::unary(UnaryOp::Not, flags.ref(), notFlags.ref());
  EXPECT_EQ(notFlags.values<uint8_t>(), (std::vector<uint8_t>{1, 0}));

  Tensor half = make(DType::F16, {2}, {0.5, -1}), halfOut(DType::F16, {2});
  cpu::unary(UnaryOp::Exp, half.ref(), halfOut.ref());
  EXPECT_EQ(halfOut.data<uint16_t>()[0], floatToHalf(std::exp(0.5f)));
  EXPECT_EQ(halfOut.data<uint16_t>()[1], floatToHalf(std::exp(-1.0f)));
}

TEST(ElementwiseTest, SelectBroadcasts) {
  // condition [2, 1], onTrue scalar, onFalse [2, 3].
  Tensor condition = boolean({2, 1}, {1, 0});
  Tensor onTrue = f32({}, {-1});
  Tensor onFalse = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor out(DType::F32, {2, 3});
  cpu::select(condition.ref(), onTrue.ref(), onFalse.ref(), out.ref());
  EXPECT_EQ(out.values<float>(), (std::vector<float>{-1, -1, -1, 4, 5, 6}));

  // Same shapes; a masked fill (scalar onTrue, contiguous condition).
  Tensor mask = boolean({4}, {1, 0, 0, 1});
  Tensor x = i64({4}, {1, 2, 3, 4}), y = i64({4}, {10, 20, 30, 40});
  Tensor picked(DType::I64, {4});
  cpu::select(mask.ref(), x.ref(), y.ref(), picked.ref());
  EXPECT_EQ(picked.values<int64_t>(), (std::vector<int64_t>{1, 20, 30, 4}));
  Tensor fill = f32({}, {-1e9f}), scores = f32({4}, {1, 2, 3, 4});
  Tensor filled(DType::F32, {4});
  cpu::select(mask.ref(), fill.ref(), scores.ref(), filled.ref());
  EXPECT_EQ(filled.values<float>(), (std::vector<float>{-1e9f, 2, 3, -1e9f}));

  // Random, over the parallel threshold, general broadcast.
  Shape shape = {40, 30, 50};
  Tensor cond(DType::Bool, {40, 1, 50});
  for (int64_t i = 0; i < cond.size(); ++i)
    cond.data<uint8_t>()[i] = (i * 7) % 3 == 0;
  Tensor a = randomF32({30, 1}, 5), b = randomF32(shape, 6);
  Tensor result(DType::F32, shape);
  cpu::select(cond.ref(), a.ref(), b.ref(), result.ref());
  for (int64_t i = 0; i < result.size(); ++i) {
    bool c = cond.data<uint8_t>()[broadcastSource({40, 1, 50}, shape, i)];
    float expected = c ? a.data<float>()[broadcastSource({30, 1}, shape, i)]
                       : b.data<float>()[i];
    ASSERT_EQ(result.data<float>()[i], expected) << i;
  }
}

} // namespace

namespace {

TEST(ElementwiseTest, ModTakesTheDivisorSignAndFModTheDividends) {
  // Python: 7 % -3 == -2, -7 % 3 == 2; C fmod: fmod(7, -3) == 1, fmod(-7, 3) == -1.
  Tensor a = i64({4}, {7, -7, 7, -7}), b = i64({4}, {-3, 3, 3, -3});
  EXPECT_EQ(runBinary(BinaryOp::Mod, a, b, DType::I64, {4}).values<int64_t>(),
            (std::vector<int64_t>{-2, 2, 1, -1}));
  EXPECT_EQ(runBinary(BinaryOp::FMod, a, b, DType::I64, {4}).values<int64_t>(),
            (std::vector<int64_t>{1, -1, 1, -1}));
  Tensor x = f32({2}, {5.5f, -5.5f}), y = f32({}, {2.0f});
  EXPECT_EQ(runBinary(BinaryOp::Mod, x, y, DType::F32, {2}).values<float>(),
            (std::vector<float>{1.5f, 0.5f}));
  EXPECT_EQ(runBinary(BinaryOp::FMod, x, y, DType::F32, {2}).values<float>(),
            (std::vector<float>{1.5f, -1.5f}));
}

TEST(ElementwiseTest, IntegerModByZeroIsAnError) {
  Tensor out(DType::I32, {2});
  Status status = cpu::binary(BinaryOp::Mod, i32({2}, {1, 2}).ref(),
                              i32({2}, {1, 0}).ref(), out.ref());
  ASSERT_FALSE(status.isOk());
  EXPECT_EQ(status.message(),
            "mod: integer remainder by zero (the i32 divisor of shape 2 holds a 0)");
}

} // namespace
