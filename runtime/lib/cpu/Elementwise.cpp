//===- Elementwise.cpp - binary, unary and select kernels -----------------===//
//
// Implements binary (arithmetic, comparisons, logic with numpy broadcasting),
// unary and select. Broadcasting goes through a StridedPlan, so the kernels see
// runs of the output with each operand either contiguous or a repeated scalar;
// each operation is a small functor inlined into four loop shapes (both
// contiguous, either side repeated, both repeated) that the compiler
// vectorizes. f16 and bf16 operands are widened to f32, computed and rounded
// once on store.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"
#include "KernelRegistry.h"

#include "parc/artifact/artifact.pb.h"
#include "KernelSupport.h"
#include "FastMath.h"
#include "StridedLoop.h"

#include <cmath>
#include <string>
#include <type_traits>

namespace parc::rt::cpu {

namespace {

//===----------------------------------------------------------------------===//
// Binary operations
//===----------------------------------------------------------------------===//

/// Integer arithmetic wraps on overflow (as numpy does) rather than being
/// undefined: compute in the unsigned type of the same width.
template <typename T> using Wide = std::make_unsigned_t<T>;

struct AddFn {
  template <typename T> static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>)
      return static_cast<T>(static_cast<Wide<T>>(a) + static_cast<Wide<T>>(b));
    else
      return a + b;
  }
};
struct SubFn {
  template <typename T> static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>)
      return static_cast<T>(static_cast<Wide<T>>(a) - static_cast<Wide<T>>(b));
    else
      return a - b;
  }
};
struct MulFn {
  template <typename T> static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>)
      return static_cast<T>(static_cast<Wide<T>>(a) * static_cast<Wide<T>>(b));
    else
      return a * b;
  }
};
struct DivFn {
  /// Integers truncate toward zero; divisors were checked to be non-zero, and
  /// MIN / -1 wraps to MIN.
  template <typename T> static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      if (b == -1)
        return static_cast<T>(0 - static_cast<Wide<T>>(a));
      return a / b;
    } else {
      return a / b;
    }
  }
};
/// The remainder with the divisor's sign (Python) or, with CStyle, the dividend's (C).
template <bool CStyle> struct RemainderFn {
  template <typename T> static T apply(T a, T b) {
    T r;
    if constexpr (std::is_integral_v<T>) {
      if (b == -1)
        return 0; // also avoids MIN % -1
      r = a % b;
    } else {
      r = std::fmod(a, b);
    }
    if (!CStyle && r != 0 && ((r < 0) != (b < 0)))
      r += b;
    return r;
  }
};
using ModFn = RemainderFn<false>;
using FModFn = RemainderFn<true>;
struct PowFn {
  /// Integer powers by repeated squaring (wrapping); a negative exponent gives
  /// 0 unless the base is 1 or -1, as the exact result truncates.
  template <typename T> static T apply(T base, T exponent) {
    if constexpr (std::is_integral_v<T>) {
      if (exponent < 0) {
        if (base == 1)
          return 1;
        if (base == -1)
          return (exponent & 1) ? -1 : 1;
        return 0;
      }
      Wide<T> result = 1, factor = static_cast<Wide<T>>(base);
      for (auto e = static_cast<Wide<T>>(exponent); e; e >>= 1) {
        if (e & 1)
          result *= factor;
        factor *= factor;
      }
      return static_cast<T>(result);
    } else {
      return std::pow(base, exponent);
    }
  }
};
struct MaxFn {
  /// NaN in either operand gives NaN (numpy.maximum).
  template <typename T> static T apply(T a, T b) {
    if constexpr (std::is_floating_point_v<T>)
      return (a != a || a > b) ? a : b;
    else
      return a > b ? a : b;
  }
};
struct MinFn {
  template <typename T> static T apply(T a, T b) {
    if constexpr (std::is_floating_point_v<T>)
      return (a != a || a < b) ? a : b;
    else
      return a < b ? a : b;
  }
};
struct EqualFn {
  template <typename T> static uint8_t apply(T a, T b) { return a == b; }
};
struct LessFn {
  template <typename T> static uint8_t apply(T a, T b) { return a < b; }
};
struct GreaterFn {
  template <typename T> static uint8_t apply(T a, T b) { return a > b; }
};
struct AndFn {
  static uint8_t apply(uint8_t a, uint8_t b) { return (a != 0) & (b != 0); }
};
struct OrFn {
  static uint8_t apply(uint8_t a, uint8_t b) { return (a != 0) | (b != 0); }
};

/// One run of the output: each input is contiguous (stride 1) or repeated
/// (stride 0). Each case is its own loop so that it vectorizes.
template <typename Fn, typename T, typename R>
void binaryRun(const T *a, int64_t strideA, const T *b, int64_t strideB, R *out,
               int64_t n) {
  if (strideA == 1 && strideB == 1) {
    for (int64_t i = 0; i < n; ++i)
      out[i] = Fn::apply(a[i], b[i]);
  } else if (strideA == 1) {
    const T y = *b;
    for (int64_t i = 0; i < n; ++i)
      out[i] = Fn::apply(a[i], y);
  } else if (strideB == 1) {
    const T x = *a;
    for (int64_t i = 0; i < n; ++i)
      out[i] = Fn::apply(x, b[i]);
  } else {
    const R value = Fn::apply(*a, *b);
    for (int64_t i = 0; i < n; ++i)
      out[i] = value;
  }
}

/// x^2 and x^3 by multiplication: exponents models use often (GPT-2's tanh
/// GELU cubes), and far cheaper than powf. x^2 is exact like powf; x^3 is
/// within an ulp or two.
template <typename T>
bool powBySmallExponent(const T *a, int64_t strideA, T exponent, T *out,
                        int64_t n) {
  if (strideA != 1 || (exponent != T(2) && exponent != T(3)))
    return false;
  if (exponent == T(2))
    for (int64_t i = 0; i < n; ++i)
      out[i] = a[i] * a[i];
  else
    for (int64_t i = 0; i < n; ++i)
      out[i] = a[i] * a[i] * a[i];
  return true;
}

template <typename Fn, typename T, typename R>
void binaryTyped(const TensorRef &lhs, const TensorRef &rhs,
                 const TensorRef &out) {
  StridedPlan plan = makeBroadcastPlan(out.shape, {&lhs.shape, &rhs.shape});
  const T *a = lhs.as<const T>();
  const T *b = rhs.as<const T>();
  R *o = out.as<R>();
  constexpr int64_t cost = std::is_same_v<Fn, PowFn> ? 16 : 1;
  parallelFor(plan.total, cost, [&](int64_t begin, int64_t end) {
    forEachSegment(
        plan, begin, end,
        [&](int64_t position, const StridedPlan::Offsets &offsets, int64_t n) {
          const T *x = a + offsets[0];
          const T *y = b + offsets[1];
          if constexpr (std::is_same_v<Fn, PowFn> &&
                        std::is_floating_point_v<T>)
            if (plan.innerStride[1] == 0 &&
                powBySmallExponent(x, plan.innerStride[0], *y, o + position, n))
              return;
          binaryRun<Fn>(x, plan.innerStride[0], y, plan.innerStride[1],
                        o + position, n);
        });
  });
}

template <typename T> bool containsZero(const TensorRef &tensor) {
  const T *values = tensor.as<const T>();
  for (int64_t i = 0, e = tensor.numElements(); i < e; ++i)
    if (values[i] == 0)
      return true;
  return false;
}

/// Runs Fn over f32, i64 or i32 operands (the numeric types after widening),
/// writing the same type, or Bool when Fn is a comparison.
template <typename Fn, bool Compare>
Status binaryNumeric(const TensorRef &lhs, const TensorRef &rhs,
                     const TensorRef &out) {
  switch (lhs.dtype) {
  case DType::F32:
    binaryTyped<Fn, float, std::conditional_t<Compare, uint8_t, float>>(
        lhs, rhs, out);
    return Status::ok();
  case DType::I64:
    binaryTyped<Fn, int64_t, std::conditional_t<Compare, uint8_t, int64_t>>(
        lhs, rhs, out);
    return Status::ok();
  case DType::I32:
    binaryTyped<Fn, int32_t, std::conditional_t<Compare, uint8_t, int32_t>>(
        lhs, rhs, out);
    return Status::ok();
  case DType::Bool:
    if constexpr (Compare) {
      binaryTyped<Fn, uint8_t, uint8_t>(lhs, rhs, out);
      return Status::ok();
    }
    break;
  default:
    break;
  }
  return Status::error(std::string("takes numeric operands, not ") +
                       dtypeName(lhs.dtype));
}

const char *binaryOpName(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "add";
  case BinaryOp::Sub:
    return "sub";
  case BinaryOp::Mul:
    return "mul";
  case BinaryOp::Div:
    return "div";
  case BinaryOp::Pow:
    return "pow";
  case BinaryOp::Max:
    return "max";
  case BinaryOp::Min:
    return "min";
  case BinaryOp::Mod:
    return "mod";
  case BinaryOp::FMod:
    return "fmod";
  case BinaryOp::Equal:
    return "equal";
  case BinaryOp::Less:
    return "less";
  case BinaryOp::Greater:
    return "greater";
  case BinaryOp::And:
    return "and";
  case BinaryOp::Or:
    return "or";
  }
  return "binary";
}

bool isComparison(BinaryOp op) {
  return op == BinaryOp::Equal || op == BinaryOp::Less ||
         op == BinaryOp::Greater;
}

//===----------------------------------------------------------------------===//
// Unary operations
//===----------------------------------------------------------------------===//

/// Cost of one element relative to an add, to decide when to use threads.
int64_t unaryCost(UnaryOp op) {
  switch (op) {
  case UnaryOp::Neg:
  case UnaryOp::Abs:
  case UnaryOp::Relu:
  case UnaryOp::Not:
  case UnaryOp::Sqrt:
  case UnaryOp::Reciprocal:
    return 1;
  default:
    return 16;
  }
}

/// f(x) for f32 and the integer types (only the numeric ops reach integers).
template <typename T>
void unaryRun(UnaryOp op, const T *in, T *out, int64_t n) {
  switch (op) {
  case UnaryOp::Neg:
    // Integers wrap (-MIN is MIN); floats flip the sign, also of 0 and NaN.
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_integral_v<T>)
        out[i] = SubFn::apply(T(0), in[i]);
      else
        out[i] = -in[i];
    }
    return;
  case UnaryOp::Abs:
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_integral_v<T>)
        out[i] = in[i] < 0 ? SubFn::apply(T(0), in[i]) : in[i];
      else
        out[i] = std::fabs(in[i]);
    }
    return;
  case UnaryOp::Relu:
    // Written so that NaN stays NaN.
    for (int64_t i = 0; i < n; ++i)
      out[i] = in[i] < 0 ? T(0) : in[i];
    return;
  default:
    break;
  }
  if constexpr (std::is_floating_point_v<T>) {
    constexpr float kSqrtHalf = 0.70710678118654752440f;
    constexpr float kSqrtTwoOverPi = 0.79788456080286535588f;
    switch (op) {
    case UnaryOp::Exp:
      for (int64_t i = 0; i < n; ++i)
        out[i] = fastExp(in[i]);
      return;
    case UnaryOp::Log:
      for (int64_t i = 0; i < n; ++i)
        out[i] = std::log(in[i]);
      return;
    case UnaryOp::Sqrt:
      for (int64_t i = 0; i < n; ++i)
        out[i] = std::sqrt(in[i]);
      return;
    case UnaryOp::Reciprocal:
      for (int64_t i = 0; i < n; ++i)
        out[i] = 1.0f / in[i];
      return;
    case UnaryOp::Tanh:
      for (int64_t i = 0; i < n; ++i)
        out[i] = fastTanh(in[i]);
      return;
    case UnaryOp::Erf:
      for (int64_t i = 0; i < n; ++i)
        out[i] = std::erf(in[i]);
      return;
    case UnaryOp::Sigmoid:
      for (int64_t i = 0; i < n; ++i)
        out[i] = 1.0f / (1.0f + fastExp(-in[i]));
      return;
    case UnaryOp::Sin:
      for (int64_t i = 0; i < n; ++i)
        out[i] = std::sin(in[i]);
      return;
    case UnaryOp::Cos:
      for (int64_t i = 0; i < n; ++i)
        out[i] = std::cos(in[i]);
      return;
    case UnaryOp::Gelu:
      for (int64_t i = 0; i < n; ++i)
        out[i] = in[i] * 0.5f * (1.0f + std::erf(in[i] * kSqrtHalf));
      return;
    case UnaryOp::GeluTanh:
      for (int64_t i = 0; i < n; ++i) {
        float x = in[i];
        out[i] =
            0.5f * x *
            (1.0f + fastTanh(kSqrtTwoOverPi * (x + 0.044715f * x * x * x)));
      }
      return;
    default:
      break;
    }
  }
  assert(false && "unary op does not apply to this element type");
}

template <typename T>
void unaryTyped(UnaryOp op, const TensorRef &in, const TensorRef &out) {
  const T *source = in.as<const T>();
  T *target = out.as<T>();
  parallelFor(in.numElements(), unaryCost(op), [&](int64_t begin, int64_t end) {
    unaryRun(op, source + begin, target + begin, end - begin);
  });
}

/// Selects whole elements by their bits: the element type does not matter.
template <typename T>
void selectTyped(const TensorRef &condition, const TensorRef &onTrue,
                 const TensorRef &onFalse, const TensorRef &out) {
  StridedPlan plan = makeBroadcastPlan(
      out.shape, {&condition.shape, &onTrue.shape, &onFalse.shape});
  const uint8_t *c = condition.as<const uint8_t>();
  const T *t = onTrue.as<const T>();
  const T *f = onFalse.as<const T>();
  T *o = out.as<T>();
  parallelFor(plan.total, 1, [&](int64_t begin, int64_t end) {
    forEachSegment(
        plan, begin, end,
        [&](int64_t position, const StridedPlan::Offsets &offsets, int64_t n) {
          const uint8_t *cs = c + offsets[0];
          const T *ts = t + offsets[1];
          const T *fs = f + offsets[2];
          T *os = o + position;
          int64_t sc = plan.innerStride[0], st = plan.innerStride[1],
                  sf = plan.innerStride[2];
          if (sc == 1 && st == 1 && sf == 1) {
            for (int64_t i = 0; i < n; ++i)
              os[i] = cs[i] ? ts[i] : fs[i];
          } else if (sc == 1 && st == 0 && sf == 1) { // masked_fill
            const T value = *ts;
            for (int64_t i = 0; i < n; ++i)
              os[i] = cs[i] ? value : fs[i];
          } else if (sc == 1 && st == 1 && sf == 0) {
            const T value = *fs;
            for (int64_t i = 0; i < n; ++i)
              os[i] = cs[i] ? ts[i] : value;
          } else {
            for (int64_t i = 0; i < n; ++i)
              os[i] = cs[i * sc] ? ts[i * st] : fs[i * sf];
          }
        });
  });
}

} // namespace

Status binary(BinaryOp op, const TensorRef &lhs, const TensorRef &rhs,
              const TensorRef &out) {
  if (lhs.dtype != rhs.dtype)
    return Status::error(std::string(binaryOpName(op)) + ": operands are " +
                         dtypeName(lhs.dtype) + " and " + dtypeName(rhs.dtype));
  bool logical = op == BinaryOp::And || op == BinaryOp::Or;
  if (logical != (lhs.dtype == DType::Bool) && !isComparison(op))
    return Status::error(std::string(binaryOpName(op)) + ": takes " +
                         (logical ? "bool" : "numeric") + " operands, not " +
                         dtypeName(lhs.dtype));
  if (out.numElements() == 0)
    return Status::ok();
  if (isHalfFloat(lhs.dtype)) {
    std::vector<float> a = widenToFloat(lhs), b = widenToFloat(rhs);
    TensorRef wideLhs = floatView(a, lhs.shape),
              wideRhs = floatView(b, rhs.shape);
    if (isComparison(op))
      return binary(op, wideLhs, wideRhs, out);
    std::vector<float> result(out.numElements());
    PARC_RETURN_IF_ERROR(
        binary(op, wideLhs, wideRhs, floatView(result, out.shape)));
    narrowFromFloat(result.data(), out);
    return Status::ok();
  }

  Status status = Status::ok();
  switch (op) {
  case BinaryOp::Add:
    status = binaryNumeric<AddFn, false>(lhs, rhs, out);
    break;
  case BinaryOp::Sub:
    status = binaryNumeric<SubFn, false>(lhs, rhs, out);
    break;
  case BinaryOp::Mul:
    status = binaryNumeric<MulFn, false>(lhs, rhs, out);
    break;
  case BinaryOp::Div:
    if ((lhs.dtype == DType::I64 && containsZero<int64_t>(rhs)) ||
        (lhs.dtype == DType::I32 && containsZero<int32_t>(rhs)))
      return Status::error(std::string("div: integer division by zero (the ") +
                           dtypeName(rhs.dtype) + " divisor of shape " +
                           formatShape(rhs.shape) + " holds a 0)");
    status = binaryNumeric<DivFn, false>(lhs, rhs, out);
    break;
  case BinaryOp::Pow:
    status = binaryNumeric<PowFn, false>(lhs, rhs, out);
    break;
  case BinaryOp::Max:
    status = binaryNumeric<MaxFn, false>(lhs, rhs, out);
    break;
  case BinaryOp::Min:
    status = binaryNumeric<MinFn, false>(lhs, rhs, out);
    break;
  case BinaryOp::Mod:
  case BinaryOp::FMod:
    if ((lhs.dtype == DType::I64 && containsZero<int64_t>(rhs)) ||
        (lhs.dtype == DType::I32 && containsZero<int32_t>(rhs)))
      return Status::error(std::string(binaryOpName(op)) +
                           ": integer remainder by zero (the " +
                           dtypeName(rhs.dtype) + " divisor of shape " +
                           formatShape(rhs.shape) + " holds a 0)");
    if (op == BinaryOp::Mod)
      status = binaryNumeric<ModFn, false>(lhs, rhs, out);
    else
      status = binaryNumeric<FModFn, false>(lhs, rhs, out);
    break;
  case BinaryOp::Equal:
    status = binaryNumeric<EqualFn, true>(lhs, rhs, out);
    break;
  case BinaryOp::Less:
    status = binaryNumeric<LessFn, true>(lhs, rhs, out);
    break;
  case BinaryOp::Greater:
    status = binaryNumeric<GreaterFn, true>(lhs, rhs, out);
    break;
  case BinaryOp::And:
  case BinaryOp::Or:
    if (op == BinaryOp::And)
      binaryTyped<AndFn, uint8_t, uint8_t>(lhs, rhs, out);
    else
      binaryTyped<OrFn, uint8_t, uint8_t>(lhs, rhs, out);
    break;
  }
  if (!status.isOk())
    return Status::error(std::string(binaryOpName(op)) + ": " +
                         status.message());
  return Status::ok();
}

void unary(UnaryOp op, const TensorRef &in, const TensorRef &out) {
  switch (in.dtype) {
  case DType::F32:
    return unaryTyped<float>(op, in, out);
  case DType::F16:
  case DType::BF16: {
    std::vector<float> wide = widenToFloat(in);
    std::vector<float> result(wide.size());
    unaryTyped<float>(op, floatView(wide, in.shape),
                      floatView(result, out.shape));
    return narrowFromFloat(result.data(), out);
  }
  case DType::I64:
    return unaryTyped<int64_t>(op, in, out);
  case DType::I32:
    return unaryTyped<int32_t>(op, in, out);
  case DType::Bool: {
    assert(op == UnaryOp::Not && "only not applies to bool");
    const uint8_t *source = in.as<const uint8_t>();
    uint8_t *target = out.as<uint8_t>();
    parallelFor(in.numElements(), 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        target[i] = source[i] == 0;
    });
    return;
  }
  }
}

void select(const TensorRef &condition, const TensorRef &onTrue,
            const TensorRef &onFalse, const TensorRef &out) {
  if (out.numElements() == 0)
    return;
  dispatchBySize(dtypeSize(out.dtype), [&](auto tag) {
    selectTyped<typename decltype(tag)::type>(condition, onTrue, onFalse, out);
  });
}

} // namespace parc::rt::cpu

void parc::rt::cpu::addElementwiseKernels(KernelRegistry &kernels) {
  static const std::pair<const char *, BinaryOp> binaryOps[] = {
      {"add", BinaryOp::Add},     {"sub", BinaryOp::Sub},         {"mul", BinaryOp::Mul},
      {"div", BinaryOp::Div},     {"pow", BinaryOp::Pow},         {"max", BinaryOp::Max},
      {"min", BinaryOp::Min},     {"equal", BinaryOp::Equal},     {"less", BinaryOp::Less},
      {"greater", BinaryOp::Greater}, {"and", BinaryOp::And},     {"or", BinaryOp::Or}};
  for (auto [name, op] : binaryOps)
    kernels.add(name, [op = op](const artifact::Instruction &, const std::vector<TensorRef> &in,
                                const std::vector<TensorRef> &out, const CommunicatorGroups &,
                                BoundKernel &kernel) {
      PARC_RETURN_IF_ERROR(expectArity(in, out, 2));
      kernel = [=]() { return binary(op, in[0], in[1], out[0]); };
      return Status::ok();
    });
  static const std::pair<const char *, UnaryOp> unaryOps[] = {
      {"neg", UnaryOp::Neg},         {"abs", UnaryOp::Abs},   {"relu", UnaryOp::Relu},
      {"exp", UnaryOp::Exp},         {"log", UnaryOp::Log},   {"sqrt", UnaryOp::Sqrt},
      {"reciprocal", UnaryOp::Reciprocal}, {"tanh", UnaryOp::Tanh}, {"erf", UnaryOp::Erf},
      {"sigmoid", UnaryOp::Sigmoid}, {"sin", UnaryOp::Sin},   {"cos", UnaryOp::Cos},
      {"not", UnaryOp::Not}};
  for (auto [name, op] : unaryOps)
    kernels.add(name, [op = op](const artifact::Instruction &, const std::vector<TensorRef> &in,
                                const std::vector<TensorRef> &out, const CommunicatorGroups &,
                                BoundKernel &kernel) {
      PARC_RETURN_IF_ERROR(expectArity(in, out, 1));
      kernel = infallible([=] { unary(op, in[0], out[0]); });
      return Status::ok();
    });
  kernels.add("mod", [](const artifact::Instruction &inst, const std::vector<TensorRef> &in,
                        const std::vector<TensorRef> &out, const CommunicatorGroups &,
                        BoundKernel &kernel) {
    PARC_RETURN_IF_ERROR(expectArity(in, out, 2));
    BinaryOp op = inst.mod().fmod() ? BinaryOp::FMod : BinaryOp::Mod;
    kernel = [=]() { return binary(op, in[0], in[1], out[0]); };
    return Status::ok();
  });
  kernels.add("gelu", [](const artifact::Instruction &inst, const std::vector<TensorRef> &in,
                         const std::vector<TensorRef> &out, const CommunicatorGroups &,
                         BoundKernel &kernel) {
    PARC_RETURN_IF_ERROR(expectArity(in, out, 1));
    UnaryOp op = inst.gelu().tanh_approximation() ? UnaryOp::GeluTanh : UnaryOp::Gelu;
    kernel = infallible([=] { unary(op, in[0], out[0]); });
    return Status::ok();
  });
  kernels.add("select", [](const artifact::Instruction &, const std::vector<TensorRef> &in,
                           const std::vector<TensorRef> &out, const CommunicatorGroups &,
                           BoundKernel &kernel) {
    PARC_RETURN_IF_ERROR(expectArity(in, out, 3));
    kernel = infallible([=] { select(in[0], in[1], in[2], out[0]); });
    return Status::ok();
  });
  kernels.add("convert", [](const artifact::Instruction &, const std::vector<TensorRef> &in,
                            const std::vector<TensorRef> &out, const CommunicatorGroups &,
                            BoundKernel &kernel) {
    PARC_RETURN_IF_ERROR(expectArity(in, out, 1));
    kernel = infallible([=] { convert(in[0], out[0]); });
    return Status::ok();
  });
}
