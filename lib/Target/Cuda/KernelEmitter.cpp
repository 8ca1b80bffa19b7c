//===- KernelEmitter.cpp - CUDA C++ for parc.fused regions ----------------===//

#include "parc/Target/Cuda/KernelEmitter.h"

#include "KernelSupport.h"

#include "llvm/ADT/DenseMap.h"

#include <algorithm>
#include <functional>
#include <map>
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::parc;

namespace {

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
  std::string indexOf(RankedTensorType type, RankedTensorType reader) const;
  /// Emits into `scope` the value of `v` at the element the scope is at, as the op
  /// computing shape `reader` reads it; returns its name.
  FailureOr<std::string> valueAt(Value v, Scope &scope, RankedTensorType reader = {});
  /// The expression of elementwise `op` from its operands' names.
  FailureOr<std::string> expression(Operation *op, ArrayRef<std::string> operands);
  /// Emits a pass over the row reducing `input` (sum or max) into a new per-row name.
  FailureOr<std::string> reduceRow(
      Value input, bool max, std::string &code,
      std::function<std::string(const std::string &)> transform = nullptr);
  /// Emits into `scope` every output's value; `store(i, name, kind)` gives the statement
  /// writing output i.
  FailureOr<std::string>
  storeOutputs(Scope &scope,
               llvm::function_ref<std::string(size_t, const std::string &, const ElementKind &)>
                   store);
  FailureOr<CudaKernel> emitRow();
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
  /// Inputs bound to names (the vectorized path binds float4 lanes).
  llvm::DenseMap<Value, std::string> boundInputs;
};

std::string Emitter::indexOf(RankedTensorType type, RankedTensorType reader) const {
  RankedTensorType within =
      reader && reader.getNumElements() == domain.getNumElements() ? reader : domain;
  if (type.getNumElements() == within.getNumElements() && type.getRank() == within.getRank() &&
      type.getShape() == within.getShape())
    return "i";
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
      terms.push_back("((i / " + std::to_string(domainStride) + "LL) % " +
                      std::to_string(size) + "LL) * " + std::to_string(stride) + "LL");
      stride *= type.getDimSize(inputDim);
    }
    domainStride *= size;
  }
  for (const std::string &term : terms)
    index += " + " + term;
  return "(" + index + ")";
}

FailureOr<std::string> Emitter::expression(Operation *op, ArrayRef<std::string> x) {
  auto bin = [&](const char *symbol) { return "(" + x[0] + " " + symbol + " " + x[1] + ")"; };
  auto call = [&](const char *fn) { return std::string(fn) + "(" + x[0] + ")"; };
  if (isa<AddOp>(op)) return bin("+");
  if (isa<SubOp>(op)) return bin("-");
  if (isa<MulOp>(op)) return bin("*");
  if (isa<DivOp>(op)) return bin("/");
  if (isa<PowOp>(op)) return "powf(" + x[0] + ", " + x[1] + ")";
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

FailureOr<std::string>
Emitter::reduceRow(Value input, bool max, std::string &code,
                   std::function<std::string(const std::string &)> transform) {
  Scope scope;
  FailureOr<std::string> x = valueAt(input, scope);
  if (failed(x))
    return failure();
  std::string accumulator = fresh();
  std::string value = transform ? transform(*x) : *x;
  code += "  float " + accumulator + " = " +
          (max ? "-__int_as_float(0x7f800000)" : "0.0f") + ";\n";
  code += "  for (long long c = threadIdx.x; c < " + std::to_string(rowLength()) +
          "LL; c += blockDim.x) {\n    long long i = row * " + std::to_string(rowLength()) +
          "LL + c;\n" + scope.code;
  code += max ? "    " + accumulator + " = fmaxf(" + accumulator + ", (float)(" + value +
                    "));\n"
              : "    " + accumulator + " += (float)(" + value + ");\n";
  code += "  }\n  " + accumulator + " = parc_block_reduce(" + accumulator + ", " +
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

FailureOr<CudaKernel> Emitter::emitRow() {
  kernel.row = true;
  kernel.rowLength = rowLength();
  // Whole warps, no more threads than the row has columns (up to 256): a row of 16
  // (attention scores of a short sequence) gets one warp, not eight mostly idle ones.
  kernel.blockSize = std::clamp<int64_t>((rowLength() + 31) / 32 * 32, 32, 256);
  kernel.rows = elements() / std::max<int64_t>(1, rowLength());
  // `i` outside the passes is the row's first element (for inputs constant along it).
  std::string code = "  long long row = blockIdx.x;\n  long long i = row * " +
                     std::to_string(rowLength()) + "LL;\n";
  for (Operation &op : body.without_terminator()) {
    // A mean divides by the row's length as the CPU backend does (a float conversion of
    // the count, then a division), not by a printed reciprocal: std::to_string's six
    // decimals made 1/768 0.001302f, 6.4e-5 off in every layer norm of hidden 768.
    auto reduce = [&](bool max, int64_t divisor) -> LogicalResult {
      FailureOr<std::string> total = reduceRow(op.getOperand(0), max, code);
      if (failed(total))
        return failure();
      if (divisor != 1)
        code += "  " + *total + " /= (float)" + std::to_string(divisor) + "LL;\n";
      perRow[op.getResult(0)] = *total;
      return success();
    };
    if (isa<ReduceSumOp>(op)) {
      if (failed(reduce(false, 1)))
        return failure();
    } else if (isa<ReduceMeanOp>(op)) {
      if (failed(reduce(false, rowLength())))
        return failure();
    } else if (isa<ReduceMaxOp>(op)) {
      if (failed(reduce(true, 1)))
        return failure();
    } else if (isa<SoftmaxOp, LogSoftmaxOp>(op)) {
      FailureOr<std::string> max = reduceRow(op.getOperand(0), true, code);
      if (failed(max))
        return failure();
      std::string maxName = *max;
      FailureOr<std::string> sum =
          reduceRow(op.getOperand(0), false, code, [&](const std::string &x) {
            return "expf(" + x + " - " + maxName + ")";
          });
      if (failed(sum))
        return failure();
      softmaxStats[&op] = {*max, *sum};
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
  Scope scope;
  std::string stores;
  for (auto [i, value] : llvm::enumerate(yield->getOperands())) {
    ElementKind kind = *kindOf(value.getType(), fused);
    if (isPerRow(value)) {
      code += "  if (threadIdx.x == 0) out" + std::to_string(i) + "[row] = " +
              kind.store(perRow.lookup(value)) + ";\n";
      continue;
    }
    FailureOr<std::string> name = valueAt(value, scope);
    if (failed(name))
      return failure();
    stores += "    out" + std::to_string(i) + "[i] = " + kind.store(*name) + ";\n";
  }
  if (!stores.empty())
    code += "  for (long long c = threadIdx.x; c < " + std::to_string(rowLength()) +
            "LL; c += blockDim.x) {\n    long long i = row * " + std::to_string(rowLength()) +
            "LL + c;\n" + scope.code + stores + "  }\n";
  kernel.source = std::string(kPrelude) + "\n" + signature() + " {\n" + code + "}\n";
  return kernel;
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
  // float4: every tensor f32, every input whole or a single value, a count divisible by 4.
  bool vectorized = elements() % 4 == 0;
  for (Value v : llvm::concat<Value>(body.getArguments(), fused.getResults())) {
    auto type = cast<RankedTensorType>(v.getType());
    vectorized &= type.getElementType().isF32() &&
                  (type.getShape() == domain.getShape() || type.getNumElements() == 1);
  }
  for (Value v : fused.getResults())
    vectorized &= cast<RankedTensorType>(v.getType()).getShape() == domain.getShape();
  kernel.vectorized = vectorized;
  Operation *yield = body.getTerminator();
  std::string code =
      "  long long stride = (long long)gridDim.x * blockDim.x;\n"
      "  long long first = (long long)blockIdx.x * blockDim.x + threadIdx.x;\n";
  if (vectorized) {
    code += "  for (long long v = first; v < " + std::to_string(elements() / 4) +
            "LL; v += stride) {\n";
    SmallVector<std::string> wholeInputs;
    for (BlockArgument argument : body.getArguments()) {
      std::string in = "in" + std::to_string(argument.getArgNumber());
      if (cast<RankedTensorType>(argument.getType()).getNumElements() == 1 && elements() != 1)
        code += "    float " + in + "_s = " + in + "[0];\n";
      else
        code += "    float4 " + in + "_v = reinterpret_cast<const float4 *>(" + in + ")[v];\n";
    }
    for (auto [i, value] : llvm::enumerate(yield->getOperands()))
      code += "    float4 out" + std::to_string(i) + "_v;\n";
    for (const char *lane : {"x", "y", "z", "w"}) {
      boundInputs.clear();
      for (BlockArgument argument : body.getArguments()) {
        std::string in = "in" + std::to_string(argument.getArgNumber());
        bool single =
            cast<RankedTensorType>(argument.getType()).getNumElements() == 1 && elements() != 1;
        boundInputs[argument] = single ? in + "_s" : in + "_v." + lane;
      }
      Scope scope;
      FailureOr<std::string> stores =
          storeOutputs(scope, [&](size_t i, const std::string &name, const ElementKind &) {
            return "    out" + std::to_string(i) + "_v." + lane + " = " + name + ";\n";
          });
      if (failed(stores))
        return failure();
      code += "    {\n" + scope.code + *stores + "    }\n";
    }
    for (auto [i, value] : llvm::enumerate(yield->getOperands()))
      code += "    reinterpret_cast<float4 *>(out" + std::to_string(i) + ")[v] = out" +
              std::to_string(i) + "_v;\n";
    code += "  }\n";
  } else {
    Scope scope;
    FailureOr<std::string> stores =
        storeOutputs(scope, [&](size_t i, const std::string &name, const ElementKind &kind) {
          return "    out" + std::to_string(i) + "[i] = " + kind.store(name) + ";\n";
        });
    if (failed(stores))
      return failure();
    code += "  for (long long i = first; i < " + std::to_string(elements()) +
            "LL; i += stride) {\n" + scope.code + *stores + "  }\n";
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
