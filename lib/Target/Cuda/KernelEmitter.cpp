//===- KernelEmitter.cpp - CUDA C++ for parc.fused regions ----------------===//

#include "parc/Target/Cuda/KernelEmitter.h"

#include "KernelSupport.h"

#include "llvm/ADT/DenseMap.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <map>
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::parc;

namespace {

/// The 32-bit words of a uint4, in memory order.
constexpr const char *kWords[] = {"x", "y", "z", "w"};

/// Code computing values at one element, with each value computed once.
struct Scope {
  std::string code;
  llvm::DenseMap<Value, std::string> names;
  /// Input loads, by their expression.
  std::map<std::string, std::string> loads;
};

class Emitter {
public:
  Emitter(FusedOp fused, StringRef name) : fused(fused), body(fused.getBody().front()) {
    kernel.name = name.str();
    auto domainType = [&](Value v) { return cast<RankedTensorType>(v.getType()); };
    // The domain: the largest shape in the group (a row op's input for row groups).
    for (Operation &op : body.without_terminator())
      for (Value v : llvm::concat<Value>(op.getOperands(), op.getResults()))
        if (!domain || domainType(v).getNumElements() > domain.getNumElements())
          domain = domainType(v);
  }

  FailureOr<CudaKernel> emit();

private:
  int64_t elements() const { return domain.getNumElements(); }
  /// Index arithmetic is 32-bit when every index fits (with room for a grid-stride
  /// loop's last step): 64-bit division and remainder cost several times more.
  bool narrowIndex() const { return elements() <= (int64_t(1) << 30); }
  std::string indexType() const { return narrowIndex() ? "int" : "long long"; }
  /// An integer literal of the index type.
  std::string lit(int64_t n) const { return std::to_string(n) + (narrowIndex() ? "" : "LL"); }
  int64_t rowLength() const { return domain.getRank() ? domain.getShape().back() : 1; }
  bool isPerRow(Value v) const {
    auto type = cast<RankedTensorType>(v.getType());
    return kernel.row && type.getRank() == domain.getRank() && type.getRank() > 0 &&
           type.getShape().back() == 1 && rowLength() != 1 &&
           type.getShape().drop_back() == domain.getShape().drop_back();
  }
  std::string fresh() { return "t" + std::to_string(counter++); }

  /// The index into input `type`, read by an op computing shape `reader`, of the element
  /// at flat index `i` (numpy broadcasting, aligned to the right). Elementwise groups may
  /// reshape: flat indices are the same in every shape of the domain's element count.
  std::string indexOf(RankedTensorType type, RankedTensorType reader,
                      const std::string &flat = "i") const;
  /// The value of a single-element input that is a parc.constant, if it is one.
  std::optional<double> constantOf(Value v) const;
  /// That value as a C literal of the value's compute type (hex floats are exact).
  std::optional<std::string> literalOf(Value v) const;
  /// How the lanes i0 .. i0 + lanes - 1 of a vector step read input `argument` (i0 a
  /// multiple of `lanes`): whole 16-byte chunks at an index, one value for every lane, or
  /// a load per lane.
  enum class LaneAccess { Chunks, Uniform, PerLane };
  LaneAccess laneAccess(BlockArgument argument, int64_t lanes) const;
  /// Emits the 16-byte loads of `lanes` consecutive elements of `argument` from element
  /// `base` on; returns the lanes' values (in the compute type).
  SmallVector<std::string> loadChunks(BlockArgument argument, const std::string &base,
                                      int64_t lanes, std::string &code);
  /// Emits the 16-byte stores of `values` (one per lane) into output `result` from
  /// element `base` on.
  void storeChunks(unsigned result, ArrayRef<std::string> values, const std::string &base,
                   std::string &code);
  /// Lanes of a vector step: 16 bytes of the narrowest of `values`' element types.
  int64_t lanesFor(ValueRange values) const;
  bool hasReshape() const {
    return llvm::any_of(body.without_terminator(),
                        [](Operation &op) { return isa<ReshapeOp>(op); });
  }
  /// Emits into `scope` the value of `v` at the element the scope is at, as the op
  /// computing shape `reader` reads it; returns its name.
  FailureOr<std::string> valueAt(Value v, Scope &scope, RankedTensorType reader = {});
  /// The expression of elementwise `op` from its operands' names.
  FailureOr<std::string> expression(Operation *op, ArrayRef<std::string> operands);
  /// Emits a pass over the row reducing `input` (sum or max) into a new per-row name.
  FailureOr<std::string> reduceRow(Value input, bool max, std::string &code);
  /// Emits into `scope` every output's value; `store(i, name, kind)` gives the statement
  /// writing output i.
  FailureOr<std::string>
  storeOutputs(Scope &scope,
               llvm::function_ref<std::string(size_t, const std::string &, const ElementKind &)>
                   store);
  FailureOr<CudaKernel> emitRow();
  /// A loop of the row kernel's threads over the row's columns `column`, `lanes` of them
  /// a thread and step, with `element` the domain index of the first.
  std::string rowLoop(const std::string &inner, int64_t lanes = 1,
                      const std::string &column = "c",
                      const std::string &element = "i") const;
  /// When `op` is a row's mean m = mean(x) and the body later takes the variance
  /// mean((x - m)^2) (as x - m times itself or to the power 2), that variance.
  ReduceMeanOp varianceOf(Operation &op) const;
  /// Stages in shared memory (as f32) the inputs a row kernel reads along the whole row,
  /// with 16-byte loads, so that its passes read the row from global memory once; binds
  /// them to the staged values. Returns the staging code ("" when none is staged).
  std::string stageRowInputs();
  /// The body of a vector step computing `results` (result numbers) for `lanes`
  /// consecutive elements from i0 (and, in a row kernel, columns from c0): each lane's
  /// values in a block of its own, with laneInputs bound, then 16-byte stores.
  FailureOr<std::string> emitLanes(ArrayRef<unsigned> results, int64_t lanes, bool row);
  FailureOr<CudaKernel> emitElementwise();
  std::string signature();

  FusedOp fused;
  Block &body;
  RankedTensorType domain;
  CudaKernel kernel;
  int counter = 0;
  /// Per-row values computed so far (row kernels), by name.
  llvm::DenseMap<Value, std::string> perRow;
  /// softmax / log_softmax: the names of the row's max and sum of exp(x - max).
  llvm::DenseMap<Operation *, std::pair<std::string, std::string>> softmaxStats;
  /// Inputs bound to names: the staged row of a row kernel, a vector step's lanes.
  llvm::DenseMap<Value, std::string> boundInputs;
  /// A vector step's inputs loaded before its lanes: each lane's value.
  llvm::DenseMap<Value, SmallVector<std::string>> laneInputs;
};

std::string Emitter::indexOf(RankedTensorType type, RankedTensorType reader,
                             const std::string &flat) const {
  RankedTensorType within =
      reader && reader.getNumElements() == domain.getNumElements() ? reader : domain;
  if (type.getNumElements() == within.getNumElements() && type.getRank() == within.getRank() &&
      type.getShape() == within.getShape())
    return flat;
  if (type.getNumElements() == 1)
    return "0";
  // Per-coordinate: the domain's coordinate d where the input's dim is not 1.
  std::string index = "0";
  int64_t stride = 1;
  int64_t offset = within.getRank() - type.getRank();
  int64_t domainStride = 1;
  SmallVector<std::string> terms;
  for (int64_t d = within.getRank() - 1; d >= 0; --d) {
    int64_t size = within.getDimSize(d);
    int64_t inputDim = d - offset;
    if (inputDim >= 0 && type.getDimSize(inputDim) != 1) {
      std::string coordinate = domainStride == 1 ? flat : "(" + flat + " / " + lit(domainStride) + ")";
      // The outermost dim needs no remainder: the index is below the element count.
      if (domainStride * size != within.getNumElements())
        coordinate = "(" + coordinate + " % " + lit(size) + ")";
      terms.push_back(stride == 1 ? coordinate : coordinate + " * " + lit(stride));
      stride *= type.getDimSize(inputDim);
    }
    domainStride *= size;
  }
  for (const std::string &term : terms)
    index += " + " + term;
  return "(" + index + ")";
}

std::optional<double> Emitter::constantOf(Value v) const {
  auto argument = dyn_cast<BlockArgument>(v);
  if (!argument || argument.getOwner() != &body)
    return std::nullopt;
  auto constant = fused->getOperand(argument.getArgNumber()).getDefiningOp<ConstantOp>();
  if (!constant)
    return std::nullopt;
  auto value = dyn_cast<ElementsAttr>(constant.getValue());
  if (!value || value.getNumElements() != 1)
    return std::nullopt;
  Type element = value.getElementType();
  if (isa<FloatType>(element)) {
    APFloat x = *value.getValues<APFloat>().begin();
    bool lost = false;
    x.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
    return x.convertToDouble();
  }
  if (element.isInteger(1))
    return (*value.getValues<APInt>().begin()).getBoolValue() ? 1.0 : 0.0;
  if (element.isInteger(32) || element.isInteger(64)) {
    int64_t x = (*value.getValues<APInt>().begin()).getSExtValue();
    if (static_cast<int64_t>(static_cast<double>(x)) != x)
      return std::nullopt; // not exact as a double: stays a load
    return static_cast<double>(x);
  }
  return std::nullopt;
}

std::optional<std::string> Emitter::literalOf(Value v) const {
  std::optional<double> x = constantOf(v);
  if (!x)
    return std::nullopt;
  FailureOr<ElementKind> kind = kindOf(v.getType(), fused);
  if (failed(kind))
    return std::nullopt;
  if (kind->compute == "bool")
    return std::string(*x != 0 ? "true" : "false");
  if (kind->compute == "int")
    return "(" + std::to_string(static_cast<int64_t>(*x)) + ")";
  if (kind->compute == "long long")
    return "(" + std::to_string(static_cast<int64_t>(*x)) + "LL)";
  float f = static_cast<float>(*x); // f16, bf16 and f32 values are all exact in f32
  if (std::isnan(f))
    return std::string("__int_as_float(0x7fc00000)");
  if (std::isinf(f))
    return std::string(f > 0 ? "__int_as_float(0x7f800000)" : "__int_as_float(0xff800000)");
  char text[64];
  std::snprintf(text, sizeof(text), "%af", static_cast<double>(f));
  return "(" + std::string(text) + ")";
}

int64_t Emitter::lanesFor(ValueRange values) const {
  int64_t narrowest = 16;
  for (Value v : values)
    narrowest = std::min(narrowest, storageBytes(*kindOf(v.getType(), fused)));
  return 16 / narrowest;
}

Emitter::LaneAccess Emitter::laneAccess(BlockArgument argument, int64_t lanes) const {
  auto type = cast<RankedTensorType>(argument.getType());
  if (type.getNumElements() == 1 || literalOf(argument))
    return LaneAccess::Uniform;
  if (type.getNumElements() == elements())
    return LaneAccess::Chunks; // read at the flat index by every reader
  // A broadcast input: the lanes lie in one row of the domain when its last dim is a
  // multiple of the lanes; they read consecutive elements of the input when its last dim
  // is the domain's (a bias), the same element when it is 1. Reshapes index inputs
  // through other shapes: those are read lane by lane.
  if (hasReshape() || domain.getRank() == 0 || domain.getShape().back() % lanes != 0)
    return LaneAccess::PerLane;
  if (type.getRank() == 0 || type.getShape().back() == 1)
    return LaneAccess::Uniform;
  if (type.getShape().back() == domain.getShape().back() &&
      (lanes * storageBytes(*kindOf(type, fused))) % 16 == 0)
    return LaneAccess::Chunks;
  return LaneAccess::PerLane;
}

SmallVector<std::string> Emitter::loadChunks(BlockArgument argument, const std::string &base,
                                             int64_t lanes, std::string &code) {
  ElementKind kind = *kindOf(argument.getType(), fused);
  int64_t bytes = storageBytes(kind), perChunk = 16 / bytes;
  std::string in = "in" + std::to_string(argument.getArgNumber());
  SmallVector<std::string> values;
  for (int64_t chunk = 0; chunk * perChunk < lanes; ++chunk) {
    std::string raw = fresh();
    code += "    uint4 " + raw + " = reinterpret_cast<const uint4 *>(" + in + " + " + base +
            ")[" + std::to_string(chunk) + "];\n";
    for (int64_t e = 0; e < perChunk; ++e) {
      std::string word = raw + "." + kWords[e * bytes / 4];
      std::string value;
      if (bytes == 8)
        value = "(long long)(((unsigned long long)" + raw + "." + kWords[2 * e + 1] +
                " << 32) | " + word + ")";
      else if (bytes == 4)
        value = kind.compute == "float" ? "__uint_as_float(" + word + ")" : "(int)" + word;
      else if (bytes == 2)
        value = kind.load("(" + kind.storage + ")(" + word + " >> " +
                          std::to_string(16 * (e % 2)) + ")");
      else
        value = "(((" + word + " >> " + std::to_string(8 * (e % 4)) + ") & 0xffu) != 0u)";
      std::string name = fresh();
      code += "    " + kind.compute + " " + name + " = " + value + ";\n";
      values.push_back(name);
    }
  }
  return values;
}

void Emitter::storeChunks(unsigned result, ArrayRef<std::string> values,
                          const std::string &base, std::string &code) {
  ElementKind kind = *kindOf(fused.getResult(result).getType(), fused);
  int64_t bytes = storageBytes(kind), perChunk = 16 / bytes;
  auto bits = [&](const std::string &value) -> std::string {
    if (bytes == 8)
      return "(unsigned long long)(" + value + ")";
    if (bytes == 4)
      return kind.compute == "float" ? "__float_as_uint(" + kind.store(value) + ")"
                                     : "(unsigned int)(" + value + ")";
    if (bytes == 2)
      return "(unsigned int)" + kind.store(value);
    return "(unsigned int)((" + value + ") ? 1u : 0u)";
  };
  std::string out = "out" + std::to_string(result);
  for (size_t chunk = 0; chunk * perChunk < values.size(); ++chunk) {
    std::string raw = fresh();
    code += "    uint4 " + raw + ";\n";
    for (int w = 0; w < 4; ++w) {
      std::string word;
      if (bytes == 8) {
        std::string lane = bits(values[chunk * perChunk + w / 2]);
        word = w % 2 ? "(unsigned int)(" + lane + " >> 32)" : "(unsigned int)" + lane;
      } else {
        for (int64_t e = 0; e < 4 / bytes; ++e) {
          std::string lane = bits(values[chunk * perChunk + w * (4 / bytes) + e]);
          std::string shifted = e ? "(" + lane + " << " + std::to_string(8 * bytes * e) + ")" : lane;
          word += (word.empty() ? "" : " | ") + shifted;
        }
      }
      code += "    " + raw + "." + kWords[w] + " = " + word + ";\n";
    }
    code += "    reinterpret_cast<uint4 *>(" + out + " + " + base + ")[" + std::to_string(chunk) +
            "] = " + raw + ";\n";
  }
}

FailureOr<std::string> Emitter::expression(Operation *op, ArrayRef<std::string> x) {
  auto bin = [&](const char *symbol) { return "(" + x[0] + " " + symbol + " " + x[1] + ")"; };
  auto call = [&](const char *fn) { return std::string(fn) + "(" + x[0] + ")"; };
  if (isa<AddOp>(op)) return bin("+");
  if (isa<SubOp>(op)) return bin("-");
  if (isa<MulOp>(op)) return bin("*");
  if (isa<DivOp>(op)) return bin("/");
  if (isa<PowOp>(op)) {
    // A constant exponent is folded: GELU's x^3 was a run-time powf of a loaded 3.0.
    std::optional<double> exponent = constantOf(op->getOperand(1));
    if (exponent == 1.0) return x[0];
    if (exponent == 2.0) return "(" + x[0] + " * " + x[0] + ")";
    if (exponent == 3.0) return "(" + x[0] + " * " + x[0] + " * " + x[0] + ")";
    if (exponent == 0.5) return "sqrtf(" + x[0] + ")";
    if (exponent == -1.0) return "(1.0f / " + x[0] + ")";
    return "powf(" + x[0] + ", " + x[1] + ")";
  }
  if (isa<MaxOp>(op)) return "(" + x[0] + " > " + x[1] + " ? " + x[0] + " : " + x[1] + ")";
  if (isa<MinOp>(op)) return "(" + x[0] + " < " + x[1] + " ? " + x[0] + " : " + x[1] + ")";
  if (isa<EqualOp>(op)) return bin("==");
  if (isa<LessOp>(op)) return bin("<");
  if (isa<GreaterOp>(op)) return bin(">");
  if (isa<AndOp>(op)) return bin("&&");
  if (isa<OrOp>(op)) return bin("||");
  if (isa<NotOp>(op)) return "(!" + x[0] + ")";
  if (auto mod = dyn_cast<ModOp>(op))
    return "parc_remainder(" + x[0] + ", " + x[1] + ", " + (mod.getFmod() ? "true" : "false") +
           ")";
  if (isa<NegOp>(op)) return "(-" + x[0] + ")";
  if (isa<AbsOp>(op)) return "(" + x[0] + " < 0 ? -" + x[0] + " : " + x[0] + ")";
  if (isa<ReluOp>(op)) return "(" + x[0] + " > 0 ? " + x[0] + " : 0)";
  if (isa<ExpOp>(op)) return call("expf");
  if (isa<LogOp>(op)) return call("logf");
  if (isa<SqrtOp>(op)) return call("sqrtf");
  if (isa<ReciprocalOp>(op)) return "(1.0f / " + x[0] + ")";
  if (isa<TanhOp>(op)) return call("tanhf");
  if (isa<ErfOp>(op)) return call("erff");
  if (isa<SinOp>(op)) return call("sinf");
  if (isa<CosOp>(op)) return call("cosf");
  if (isa<SigmoidOp>(op)) return "(1.0f / (1.0f + expf(-" + x[0] + ")))";
  if (auto gelu = dyn_cast<GeluOp>(op)) {
    if (gelu.getTanhApproximation())
      return "(0.5f * " + x[0] + " * (1.0f + tanhf(0.7978845608028654f * (" + x[0] +
             " + 0.044715f * " + x[0] + " * " + x[0] + " * " + x[0] + "))))";
    return "(0.5f * " + x[0] + " * (1.0f + erff(" + x[0] + " * 0.7071067811865476f)))";
  }
  if (isa<SelectOp>(op)) return "(" + x[0] + " ? " + x[1] + " : " + x[2] + ")";
  if (isa<ConvertOp>(op)) {
    FailureOr<ElementKind> to = kindOf(op->getResult(0).getType(), op);
    if (failed(to))
      return failure();
    if (to->compute == "bool")
      return "(" + x[0] + " != 0)";
    // A conversion to f16/bf16 is a rounding, even where the value stays in a register:
    // round to the type and back (values in between ops are otherwise kept in f32).
    if (to->storage != to->compute)
      return to->load(to->store(x[0]));
    return "((" + to->compute + ")(" + x[0] + "))";
  }
  return op->emitOpError("has no CUDA expression");
}

FailureOr<std::string> Emitter::valueAt(Value v, Scope &scope, RankedTensorType reader) {
  if (auto it = scope.names.find(v); it != scope.names.end())
    return it->second;
  if (auto it = perRow.find(v); it != perRow.end())
    return it->second;
  if (auto bound = boundInputs.find(v); bound != boundInputs.end())
    return bound->second;
  if (std::optional<std::string> literal = literalOf(v))
    return *literal; // a constant input is part of the source
  if (auto argument = dyn_cast<BlockArgument>(v)) {
    // An input is loaded once per index expression (readers of different shapes index
    // it differently).
    FailureOr<ElementKind> kind = kindOf(v.getType(), fused);
    if (failed(kind))
      return failure();
    std::string index = isPerRow(v) ? "row"
                                    : indexOf(cast<RankedTensorType>(v.getType()),
                                              reader ? reader
                                                     : cast<RankedTensorType>(v.getType()));
    std::string load =
        kind->load("in" + std::to_string(argument.getArgNumber()) + "[" + index + "]");
    std::string &name = scope.loads[load];
    if (name.empty()) {
      name = fresh();
      scope.code += "    " + kind->compute + " " + name + " = " + load + ";\n";
    }
    return name;
  }
  std::string name = fresh();
  Operation *op = v.getDefiningOp();
  if (auto reshape = dyn_cast<ReshapeOp>(op)) {
    // A view: the same element at the same flat index.
    FailureOr<std::string> input = valueAt(reshape.getInput(), scope,
                                           cast<RankedTensorType>(reshape.getType()));
    if (failed(input))
      return failure();
    return scope.names[v] = *input;
  }
  if (isa<SoftmaxOp, LogSoftmaxOp>(op)) {
    FailureOr<std::string> x = valueAt(op->getOperand(0), scope);
    if (failed(x))
      return failure();
    auto [max, sum] = softmaxStats.lookup(op);
    std::string value = isa<SoftmaxOp>(op) ? "expf(" + *x + " - " + max + ") / " + sum
                                           : *x + " - " + max + " - logf(" + sum + ")";
    scope.code += "    float " + name + " = " + value + ";\n";
    return scope.names[v] = name;
  }
  SmallVector<std::string> operands;
  for (Value operand : op->getOperands()) {
    FailureOr<std::string> x = valueAt(operand, scope, cast<RankedTensorType>(v.getType()));
    if (failed(x))
      return failure();
    operands.push_back(*x);
  }
  FailureOr<std::string> value = expression(op, operands);
  FailureOr<ElementKind> kind = kindOf(v.getType(), op);
  if (failed(value) || failed(kind))
    return failure();
  scope.code += "    " + kind->compute + " " + name + " = " + *value + ";\n";
  return scope.names[v] = name;
}

std::string Emitter::rowLoop(const std::string &inner, int64_t lanes, const std::string &column,
                             const std::string &element) const {
  std::string perThread = lanes == 1 ? "" : " * " + lit(lanes);
  return "  for (" + indexType() + " " + column + " = threadIdx.x" + perThread + "; " + column +
         " < " + lit(rowLength()) + "; " + column + " += blockDim.x" + perThread +
         ") {\n    const " + indexType() + " " + element + " = row * " + lit(rowLength()) +
         " + " + column + ";\n" + inner + "  }\n";
}

FailureOr<std::string> Emitter::reduceRow(Value input, bool max, std::string &code) {
  Scope scope;
  FailureOr<std::string> x = valueAt(input, scope);
  if (failed(x))
    return failure();
  std::string accumulator = fresh();
  code += "  float " + accumulator + " = " +
          (max ? "-__int_as_float(0x7f800000)" : "0.0f") + ";\n";
  code += rowLoop(scope.code + (max ? "    " + accumulator + " = fmaxf(" + accumulator +
                                          ", (float)(" + *x + "));\n"
                                    : "    " + accumulator + " += (float)(" + *x + ");\n"));
  code += "  " + accumulator + " = parc_block_reduce(" + accumulator + ", " +
          (max ? "true" : "false") + ");\n";
  return accumulator;
}

std::string Emitter::signature() {
  std::string parameters;
  for (BlockArgument argument : body.getArguments()) {
    ElementKind kind = *kindOf(argument.getType(), fused);
    parameters += (parameters.empty() ? "" : ", ") + std::string("const ") + kind.storage +
                  " * __restrict__ in" + std::to_string(argument.getArgNumber());
  }
  for (auto [i, result] : llvm::enumerate(fused.getResults())) {
    ElementKind kind = *kindOf(result.getType(), fused);
    parameters += (parameters.empty() ? "" : ", ") + kind.storage + " * __restrict__ out" +
                  std::to_string(i);
  }
  return "extern \"C\" __global__ void __launch_bounds__(" +
         std::to_string(kernel.blockSize) + ") " + kernel.name + "(" + parameters + ")";
}

ReduceMeanOp Emitter::varianceOf(Operation &op) const {
  auto mean = dyn_cast<ReduceMeanOp>(op);
  if (!mean)
    return nullptr;
  Value x = mean->getOperand(0);
  for (Operation *user : mean->getResult(0).getUsers()) {
    auto deviation = dyn_cast<SubOp>(user);
    if (!deviation || deviation->getOperand(0) != x || deviation->getOperand(1) != mean->getResult(0))
      continue;
    for (Operation *square : deviation->getResult(0).getUsers()) {
      bool squared =
          (isa<MulOp>(square) && square->getOperand(0) == deviation->getResult(0) &&
           square->getOperand(1) == deviation->getResult(0)) ||
          (isa<PowOp>(square) && constantOf(square->getOperand(1)) == 2.0);
      if (!squared || !square->getResult(0).hasOneUse())
        continue;
      auto variance = dyn_cast<ReduceMeanOp>(*square->getResult(0).getUsers().begin());
      if (variance && variance->getBlock() == &body &&
          variance->getResult(0).getType() == mean->getResult(0).getType() &&
          isPerRow(variance->getResult(0)))
        return variance;
    }
  }
  return nullptr;
}

std::string Emitter::stageRowInputs() {
  if (hasReshape() || rowLength() <= 1)
    return "";
  SmallVector<std::pair<BlockArgument, int64_t>> staged; // with its lanes a 16-byte load
  for (BlockArgument argument : body.getArguments()) {
    auto type = cast<RankedTensorType>(argument.getType());
    ElementKind kind = *kindOf(type, fused);
    int64_t lanes = 16 / storageBytes(kind);
    if (argument.use_empty() || kind.compute != "float" || literalOf(argument) ||
        isPerRow(argument) || type.getRank() == 0 || type.getShape().back() != rowLength() ||
        rowLength() % lanes != 0)
      continue;
    staged.push_back({argument, lanes});
  }
  // Static shared memory is 48 KB a block; the block reductions take 384 bytes of it.
  if (staged.empty() || int64_t(staged.size()) * rowLength() * 4 > 40 * 1024)
    return "";
  std::string code;
  for (auto [argument, lanes] : staged) {
    auto type = cast<RankedTensorType>(argument.getType());
    std::string array = "parc_row" + std::to_string(argument.getArgNumber());
    std::string loop;
    SmallVector<std::string> values = loadChunks(argument, indexOf(type, domain), lanes, loop);
    for (auto [lane, value] : llvm::enumerate(values))
      loop += "    " + array + "[c + " + std::to_string(lane) + "] = " + value + ";\n";
    code += "  __shared__ float " + array + "[" + std::to_string(rowLength()) + "];\n" +
            rowLoop(loop, lanes);
    boundInputs[argument] = array + "[c]";
  }
  return code + "  __syncthreads();\n";
}

FailureOr<CudaKernel> Emitter::emitRow() {
  kernel.row = true;
  kernel.rowLength = rowLength();
  // Whole warps, no more threads than the row has columns (up to 256): a row of 16
  // (attention scores of a short sequence) gets one warp, not eight mostly idle ones.
  kernel.blockSize = std::clamp<int64_t>((rowLength() + 31) / 32 * 32, 32, 256);
  kernel.rows = elements() / std::max<int64_t>(1, rowLength());
  // `i` outside the passes is the row's first element (for inputs constant along it).
  std::string code = "  const " + indexType() + " row = blockIdx.x;\n  const " + indexType() +
                     " i = row * " + lit(rowLength()) + ";\n";
  code += stageRowInputs();
  for (Operation &op : body.without_terminator()) {
    // A mean divides by the row's length as the CPU backend does (a float conversion of
    // the count, then a division), not by a printed reciprocal: std::to_string's six
    // decimals made 1/768 0.001302f, 6.4e-5 off in every layer norm of hidden 768.
    auto reduce = [&](bool max, int64_t divisor) -> LogicalResult {
      FailureOr<std::string> total = reduceRow(op.getOperand(0), max, code);
      if (failed(total))
        return failure();
      if (divisor != 1)
        code += "  " + *total + " /= (float)" + std::to_string(divisor) + ";\n";
      perRow[op.getResult(0)] = *total;
      return success();
    };
    if (perRow.count(op.getResult(0))) {
      continue; // a variance computed with its mean
    } else if (ReduceMeanOp variance = varianceOf(op)) {
      // Welford: the mean and the mean of squared deviations from it in one pass.
      Scope scope;
      FailureOr<std::string> x = valueAt(op.getOperand(0), scope);
      if (failed(x))
        return failure();
      std::string count = fresh(), mean = fresh(), m2 = fresh();
      code += "  float " + count + " = 0.0f, " + mean + " = 0.0f, " + m2 + " = 0.0f;\n";
      code += rowLoop(scope.code + "    parc_welford_add(" + count + ", " + mean + ", " + m2 +
                      ", (float)(" + *x + "));\n");
      code += "  parc_block_reduce_welford(" + count + ", " + mean + ", " + m2 + ");\n";
      std::string var = fresh();
      code += "  float " + var + " = " + m2 + " / (float)" + std::to_string(rowLength()) + ";\n";
      perRow[op.getResult(0)] = mean;
      perRow[variance.getResult()] = var;
    } else if (isa<ReduceSumOp>(op)) {
      if (failed(reduce(false, 1)))
        return failure();
    } else if (isa<ReduceMeanOp>(op)) {
      if (failed(reduce(false, rowLength())))
        return failure();
    } else if (isa<ReduceMaxOp>(op)) {
      if (failed(reduce(true, 1)))
        return failure();
    } else if (isa<SoftmaxOp, LogSoftmaxOp>(op)) {
      // Online softmax: the max and the sum of exp(x - max) in one pass.
      Scope scope;
      FailureOr<std::string> x = valueAt(op.getOperand(0), scope);
      if (failed(x))
        return failure();
      std::string max = fresh(), sum = fresh();
      code += "  float " + max + " = -__int_as_float(0x7f800000), " + sum + " = 0.0f;\n";
      code += rowLoop(scope.code + "    parc_softmax_add(" + max + ", " + sum + ", (float)(" +
                      *x + "));\n");
      code += "  parc_block_reduce_softmax(" + max + ", " + sum + ");\n";
      softmaxStats[&op] = {max, sum};
    } else if (isPerRow(op.getResult(0))) {
      // A per-row value from per-row values: once per row, in every thread.
      Scope scope;
      FailureOr<std::string> value = valueAt(op.getResult(0), scope);
      if (failed(value))
        return failure();
      code += scope.code;
      perRow[op.getResult(0)] = *value;
    }
  }
  // Every result: per-row ones by thread 0, the others in one last pass over the row.
  Operation *yield = body.getTerminator();
  SmallVector<unsigned> rowResults;
  for (auto [i, value] : llvm::enumerate(yield->getOperands())) {
    if (!isPerRow(value)) {
      rowResults.push_back(i);
      continue;
    }
    ElementKind kind = *kindOf(value.getType(), fused);
    code += "  if (threadIdx.x == 0) out" + std::to_string(i) + "[row] = " +
            kind.store(perRow.lookup(value)) + ";\n";
  }
  if (rowResults.empty()) {
    kernel.source = std::string(kPrelude) + "\n" + signature() + " {\n" + code + "}\n";
    return kernel;
  }
  SmallVector<Value> stored;
  for (unsigned i : rowResults)
    stored.push_back(fused.getResult(i));
  int64_t lanes = lanesFor(stored);
  if (hasReshape() || rowLength() % lanes != 0) {
    Scope scope;
    std::string stores;
    for (unsigned i : rowResults) {
      Value value = yield->getOperand(i);
      FailureOr<std::string> name = valueAt(value, scope);
      if (failed(name))
        return failure();
      stores += "    out" + std::to_string(i) + "[i] = " +
                kindOf(value.getType(), fused)->store(*name) + ";\n";
    }
    code += rowLoop(scope.code + stores);
  } else {
    // Each thread computes `lanes` consecutive columns and stores them in 16-byte chunks.
    FailureOr<std::string> lanesCode = emitLanes(rowResults, lanes, /*row=*/true);
    if (failed(lanesCode))
      return failure();
    code += rowLoop(*lanesCode, lanes, "c0", "i0");
  }
  kernel.source = std::string(kPrelude) + "\n" + signature() + " {\n" + code + "}\n";
  return kernel;
}

FailureOr<std::string> Emitter::emitLanes(ArrayRef<unsigned> results, int64_t lanes, bool row) {
  Operation *yield = body.getTerminator();
  std::string code;
  SmallVector<SmallVector<std::string>> laneNames(results.size());
  for (auto [k, i] : llvm::enumerate(results)) {
    ElementKind kind = *kindOf(yield->getOperand(i).getType(), fused);
    for (int64_t lane = 0; lane < lanes; ++lane) {
      laneNames[k].push_back(fresh());
      code += "    " + kind.compute + " " + laneNames[k].back() + ";\n";
    }
  }
  llvm::DenseMap<Value, std::string> rowBound = boundInputs;
  for (int64_t lane = 0; lane < lanes; ++lane) {
    boundInputs = rowBound;
    for (auto &[argument, values] : laneInputs)
      boundInputs[argument] = values[lane];
    Scope scope;
    std::string assignments;
    for (auto [k, i] : llvm::enumerate(results)) {
      FailureOr<std::string> name = valueAt(yield->getOperand(i), scope);
      if (failed(name))
        return failure();
      assignments += "      " + laneNames[k][lane] + " = " + *name + ";\n";
    }
    std::string position = "      const " + indexType() + " i = i0 + " + lit(lane) + ";\n";
    if (row)
      position += "      const " + indexType() + " c = c0 + " + lit(lane) + ";\n";
    code += "    {\n" + position + scope.code + assignments + "    }\n";
  }
  boundInputs = rowBound;
  for (auto [k, i] : llvm::enumerate(results))
    storeChunks(i, laneNames[k], "i0", code);
  return code;
}

FailureOr<std::string> Emitter::storeOutputs(
    Scope &scope,
    llvm::function_ref<std::string(size_t, const std::string &, const ElementKind &)> store) {
  std::string stores;
  for (auto [i, value] : llvm::enumerate(body.getTerminator()->getOperands())) {
    FailureOr<std::string> name = valueAt(value, scope);
    if (failed(name))
      return failure();
    stores += store(i, *name, *kindOf(value.getType(), fused));
  }
  return stores;
}

FailureOr<CudaKernel> Emitter::emitElementwise() {
  kernel.elements = elements();
  // Vector steps when every output has the domain's element count (a trailing reshape
  // keeps the flat index): `lanes` elements a step, 16 bytes of the narrowest tensor; the
  // elements past the last whole step one at a time.
  SmallVector<Value> moved;
  bool vectorizable = fused.getNumResults() > 0;
  for (Value result : fused.getResults()) {
    vectorizable &= cast<RankedTensorType>(result.getType()).getNumElements() == elements();
    moved.push_back(result);
  }
  for (BlockArgument argument : body.getArguments())
    if (cast<RankedTensorType>(argument.getType()).getNumElements() == elements())
      moved.push_back(argument);
  int64_t lanes = vectorizable ? lanesFor(moved) : 1;
  if (elements() < lanes)
    lanes = 1;
  // Whole steps over the first `steps * lanes` elements, then a scalar tail.
  int64_t steps = elements() / lanes;
  kernel.lanes = lanes;
  std::string index = indexType();
  std::string code = "  const " + index + " stride = (" + index + ")gridDim.x * blockDim.x;\n" +
                     "  const " + index + " first = (" + index +
                     ")blockIdx.x * blockDim.x + threadIdx.x;\n";
  auto scalarLoop = [&](int64_t begin) -> FailureOr<std::string> {
    Scope scope;
    FailureOr<std::string> stores =
        storeOutputs(scope, [&](size_t i, const std::string &name, const ElementKind &kind) {
          return "    out" + std::to_string(i) + "[i] = " + kind.store(name) + ";\n";
        });
    if (failed(stores))
      return failure();
    return "  for (" + index + " i = " + (begin ? lit(begin) + " + " : std::string()) +
           "first; i < " + lit(elements()) + "; i += stride) {\n" + scope.code + *stores +
           "  }\n";
  };
  if (lanes > 1) {
    code += "  for (" + index + " v = first; v < " + lit(steps) +
            "; v += stride) {\n    const " + index + " i0 = v * " + lit(lanes) + ";\n";
    laneInputs.clear();
    for (BlockArgument argument : body.getArguments()) {
      if (argument.use_empty())
        continue;
      auto type = cast<RankedTensorType>(argument.getType());
      switch (laneAccess(argument, lanes)) {
      case LaneAccess::Chunks:
        laneInputs[argument] = loadChunks(argument, indexOf(type, domain, "i0"), lanes, code);
        break;
      case LaneAccess::Uniform: {
        std::string value;
        if (std::optional<std::string> literal = literalOf(argument)) {
          value = *literal;
        } else {
          ElementKind kind = *kindOf(type, fused);
          value = fresh();
          code += "    " + kind.compute + " " + value + " = " +
                  kind.load("in" + std::to_string(argument.getArgNumber()) + "[" +
                            indexOf(type, domain, "i0") + "]") +
                  ";\n";
        }
        laneInputs[argument] = SmallVector<std::string>(lanes, value);
        break;
      }
      case LaneAccess::PerLane:
        break; // loaded in each lane at its own index
      }
    }
    SmallVector<unsigned> results;
    for (unsigned i = 0; i < fused.getNumResults(); ++i)
      results.push_back(i);
    FailureOr<std::string> lanesCode = emitLanes(results, lanes, /*row=*/false);
    if (failed(lanesCode))
      return failure();
    code += *lanesCode + "  }\n";
  }
  if (lanes == 1 || steps * lanes < elements()) {
    FailureOr<std::string> tail = scalarLoop(lanes > 1 ? steps * lanes : 0);
    if (failed(tail))
      return failure();
    code += *tail;
  }
  kernel.source = std::string(kPrelude) + "\n" + signature() + " {\n" + code + "}\n";
  return kernel;
}

FailureOr<CudaKernel> Emitter::emit() {
  if (fused.getKind() == "gemm")
    return fused.emitOpError("is a cuBLASLt GEMM, not a generated kernel");
  for (Value v : llvm::concat<Value>(body.getArguments(), fused.getResults()))
    if (failed(kindOf(v.getType(), fused)))
      return failure();
  return fused.getKind() == "row" ? emitRow() : emitElementwise();
}

} // namespace

FailureOr<CudaKernel> mlir::parc::emitCudaKernel(FusedOp fused, StringRef name) {
  return Emitter(fused, name).emit();
}
