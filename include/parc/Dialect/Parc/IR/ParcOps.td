//===- ParcOps.td - parc dialect operations ----------------*- tablegen -*-===//
//
// The core operation set of the parc dialect. Every op has value semantics and static shapes;
// verifiers check shapes and element types through the shared inference functions in
// ParcShapeInference.h, which the ONNX importer also uses to type what it builds.
//
// Every op says how it runs on sharded operands, how it is differentiated and what it costs
// (ParcInterfaces.td): op families get their rules from their ODS class; single ops declare
// the interface methods and implement them in ParcSharding.cpp, ParcGradients.cpp and
// ParcCosts.cpp, or declare with a trait that they have no such rule.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_DIALECT_PARC_IR_PARCOPS_TD
#define PARC_DIALECT_PARC_IR_PARCOPS_TD

include "parc/Dialect/Parc/IR/ParcBase.td"
include "parc/Dialect/Parc/IR/ParcAttrs.td"
include "parc/Dialect/Parc/IR/ParcInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

/// An op that implements the sharding (gradient) interface methods in C++.
defvar Parc_ShardingRule = DeclareOpInterfaceMethods<Parc_ShardingOpInterface>;
defvar Parc_GradientRule = DeclareOpInterfaceMethods<Parc_GradientOpInterface>;
/// An op whose cost is not the elementwise default (ParcCosts.cpp).
defvar Parc_CostRule = DeclareOpInterfaceMethods<Parc_CostOpInterface, ["getCost"]>;

//===----------------------------------------------------------------------===//
// Constants and weights
//===----------------------------------------------------------------------===//

def Parc_ConstantOp : Parc_Op<"constant",
    [ConstantLike, Pure, AllTypesMatch<["value", "result"]>, Parc_ReplicatedSharding,
     Parc_NoGradient, Parc_CostRule]> {
  let summary = "A tensor literal";
  let description = [{
    A compile-time tensor value: shape arithmetic, masks, small literals. Model weights are
    not constants; they are `parc.weight` symbols.

    ```mlir
    %shape = parc.constant dense<[2, 64]> : tensor<2xi64>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Parc_Tensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
  let builders = [
    // A float tensor of `type` filled with `value` (what autodiff and optimizers need).
    OpBuilder<(ins "::mlir::RankedTensorType":$type, "double":$value), [{
      build($_builder, $_state, ::mlir::DenseElementsAttr::get(
                                    type, $_builder.getFloatAttr(type.getElementType(), value)));
    }]>
  ];
}

def Parc_WeightOp : Parc_Op<"weight", [Symbol, Parc_ReplicatedSharding, Parc_NoGradient,
                                       Parc_CostOpInterface]> {
  let summary = "A named model weight backed by the model's storage";
  let description = [{
    Declares one weight (an ONNX initializer) at module level. Its bytes are normally a dense
    resource that points into the imported model's memory, so importing a large model neither
    prints nor copies them. Functions read it with `parc.load_weight`. After partitioning, a
    `sharding` says how the weight is split over the tensor-parallel ranks; `parc.load_weight`
    then yields one rank's shard.

    ```mlir
    parc.weight @"h.0.attn.c_attn.weight" = dense_resource<h_0_attn_c_attn_weight> : tensor<768x2304xf32>
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, ElementsAttr:$value,
                       OptionalAttr<Parc_ShardingAttr>:$sharding);
  let assemblyFormat = "$sym_name `=` $value attr-dict";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The tensor type of the weight.
    ::mlir::RankedTensorType getType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getValue().getType());
    }
  }];
}

def Parc_LoadWeightOp : Parc_Op<"load_weight",
    [Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>, Parc_ShardingRule,
     Parc_NoGradient, Parc_CostRule]> {
  let summary = "Reads a module-level weight";
  let description = [{
    ```mlir
    %w = parc.load_weight @"h.0.attn.c_attn.weight" : tensor<768x2304xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$name);
  let results = (outs Parc_Tensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Elementwise operations (numpy broadcasting)
//===----------------------------------------------------------------------===//

/// `partialsPass`: partial sums stay partial through it (a sum or difference of partial
/// sums is the partial sum of the result).
class Parc_BinaryOp<string mnemonic, Type operandType, Type resultType,
                    list<Trait> traits = [], bit partialsPass = 0>
    : Parc_Op<mnemonic, !listconcat([Pure, Parc_ShardingRule, Parc_CostOpInterface,
                                     Parc_ElementwiseKernel],
                                    traits)> {
  let arguments = (ins operandType:$lhs, operandType:$rhs);
  let results = (outs resultType:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::verify() {
      return ::mlir::parc::verifyBroadcastingOp(getOperation());
    }
    ::mlir::parc::ShardingDecision $cppClass::decideSharding(
        ::llvm::ArrayRef<::mlir::parc::ShardingAttr> operands, int64_t ranks) {
      return ::mlir::parc::decideElementwiseSharding(getOperation(), operands, ranks,
                                                     }] # !if(partialsPass, "true", "false") # [{);
    }
  }];
}

class Parc_ArithmeticOp<string mnemonic, string what, list<Trait> traits = [Parc_GradientRule],
                        bit partialsPass = 0>
    : Parc_BinaryOp<mnemonic, Parc_NumericTensor, Parc_NumericTensor,
                    !listconcat([SameOperandsAndResultElementType], traits), partialsPass> {
  let summary = "Elementwise " # what # " with numpy broadcasting";
}
def Parc_AddOp : Parc_ArithmeticOp<"add", "sum", [Parc_GradientRule], 1>;
def Parc_SubOp : Parc_ArithmeticOp<"sub", "difference", [Parc_GradientRule], 1>;
def Parc_MulOp : Parc_ArithmeticOp<"mul", "product">;
def Parc_DivOp : Parc_ArithmeticOp<"div",
    "quotient (integers truncate toward zero)">;
def Parc_PowOp : Parc_ArithmeticOp<"pow", "power">;
def Parc_MaxOp : Parc_ArithmeticOp<"max", "maximum", [Parc_NoGradientRule]>;
def Parc_MinOp : Parc_ArithmeticOp<"min", "minimum", [Parc_NoGradientRule]>;
def Parc_ModOp : Parc_ArithmeticOp<"mod", "remainder", [Parc_NoGradientRule]> {
  let description = [{
    The remainder takes the divisor's sign (Python's `%`), or with `fmod` the dividend's
    (C's `fmod`). Integer remainder by zero is an error at run time.
  }];
  let arguments = (ins Parc_NumericTensor:$lhs, Parc_NumericTensor:$rhs, UnitAttr:$fmod);
}

class Parc_CompareOp<string mnemonic, string what>
    : Parc_BinaryOp<mnemonic, Parc_Tensor, Parc_BoolTensor,
                    [SameOperandsElementType, Parc_NoGradient]> {
  let summary = "Elementwise " # what # " comparison with numpy broadcasting";
}
def Parc_EqualOp : Parc_CompareOp<"equal", "equality">;
def Parc_LessOp : Parc_CompareOp<"less", "less-than">;
def Parc_GreaterOp : Parc_CompareOp<"greater", "greater-than">;

class Parc_LogicalOp<string mnemonic, string what>
    : Parc_BinaryOp<mnemonic, Parc_BoolTensor, Parc_BoolTensor, [Parc_NoGradient]> {
  let summary = "Elementwise logical " # what # " with numpy broadcasting";
}
def Parc_AndOp : Parc_LogicalOp<"and", "and">;
def Parc_OrOp : Parc_LogicalOp<"or", "or">;

class Parc_UnaryOp<string mnemonic, Type tensorType, string what,
                   list<Trait> traits = [Parc_GradientRule]>
    : Parc_Op<mnemonic, !listconcat([Pure, SameOperandsAndResultType, Parc_ElementwiseKernel,
                                     Parc_ShardingRule,
                                     Parc_CostOpInterface], traits)> {
  let summary = "Elementwise " # what;
  let arguments = (ins tensorType:$input);
  let results = (outs tensorType:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasFolder = 1;
  let extraClassDefinition = [{
    ::mlir::parc::ShardingDecision $cppClass::decideSharding(
        ::llvm::ArrayRef<::mlir::parc::ShardingAttr> operands, int64_t ranks) {
      return ::mlir::parc::decideElementwiseSharding(getOperation(), operands, ranks, false);
    }
  }];
}
def Parc_NegOp : Parc_UnaryOp<"neg", Parc_NumericTensor, "negation">;
def Parc_AbsOp : Parc_UnaryOp<"abs", Parc_NumericTensor, "absolute value",
                              [Parc_NoGradientRule]>;
def Parc_ReluOp : Parc_UnaryOp<"relu", Parc_NumericTensor, "max(x, 0)">;
def Parc_ExpOp : Parc_UnaryOp<"exp", Parc_FloatTensor, "exponential">;
def Parc_LogOp : Parc_UnaryOp<"log", Parc_FloatTensor, "natural logarithm">;
def Parc_SqrtOp : Parc_UnaryOp<"sqrt", Parc_FloatTensor, "square root">;
def Parc_ReciprocalOp : Parc_UnaryOp<"reciprocal", Parc_FloatTensor, "1 / x">;
def Parc_TanhOp : Parc_UnaryOp<"tanh", Parc_FloatTensor, "hyperbolic tangent">;
def Parc_ErfOp : Parc_UnaryOp<"erf", Parc_FloatTensor, "error function">;
def Parc_SinOp : Parc_UnaryOp<"sin", Parc_FloatTensor, "sine">;
def Parc_CosOp : Parc_UnaryOp<"cos", Parc_FloatTensor, "cosine">;
def Parc_SigmoidOp : Parc_UnaryOp<"sigmoid", Parc_FloatTensor, "1 / (1 + exp(-x))">;
def Parc_NotOp : Parc_UnaryOp<"not", Parc_BoolTensor, "logical negation", [Parc_NoGradient]>;

def Parc_GeluOp : Parc_Op<"gelu", [Pure, SameOperandsAndResultType, Parc_ElementwiseKernel,
                                   Parc_ShardingRule,
                                   Parc_GradientRule, Parc_CostOpInterface]> {
  let summary = "Gaussian error linear unit";
  let description = [{
    `x * 0.5 * (1 + erf(x / sqrt(2)))`, or with `tanh_approximation`
    `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))`.
  }];
  let arguments = (ins Parc_FloatTensor:$input, UnitAttr:$tanh_approximation);
  let results = (outs Parc_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasFolder = 1;
}

def Parc_SelectOp : Parc_Op<"select", [Pure, Parc_ElementwiseKernel, Parc_ShardingRule,
                                       Parc_GradientRule,
                                       Parc_CostOpInterface]> {
  let summary = "Elementwise choice between two tensors (ONNX Where)";
  let arguments = (ins Parc_BoolTensor:$condition, Parc_Tensor:$on_true,
                       Parc_Tensor:$on_false);
  let results = (outs Parc_Tensor:$result);
  let assemblyFormat = [{
    $condition `,` $on_true `,` $on_false attr-dict `:`
    type($condition) `,` type($on_true) `,` type($on_false) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Parc_ConvertOp : Parc_Op<"convert", [Pure, SameOperandsAndResultShape,
                                         Parc_ElementwiseKernel, Parc_ShardingRule,
                                         Parc_GradientRule, Parc_CostOpInterface]> {
  let summary = "Elementwise conversion to another element type (ONNX Cast)";
  let description = [{
    Float to integer truncates toward zero; anything to i1 tests for non-zero.
  }];
  let arguments = (ins Parc_Tensor:$input);
  let results = (outs Parc_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Contractions, reductions, normalizations
//===----------------------------------------------------------------------===//

def Parc_MatMulOp : Parc_Op<"matmul", [Pure, SameOperandsAndResultElementType,
                                       Parc_ShardingRule, Parc_GradientRule, Parc_CostRule]> {
  let summary = "Batched matrix product with numpy batch broadcasting";
  let description = [{
    Both operands have rank >= 2. The last two dims are the matrix dims
    (`[..., m, k] x [..., k, n] -> [..., m, n]`); the leading dims broadcast as in numpy.

    ```mlir
    %y = parc.matmul %x, %w : tensor<2x16x64xf32>, tensor<64x256xf32> -> tensor<2x16x256xf32>
    ```
  }];
  let arguments = (ins Parc_NumericTensor:$lhs, Parc_NumericTensor:$rhs);
  let results = (outs Parc_NumericTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

/// `linear`: partial sums stay partial through it (a sum or mean of partial sums).
class Parc_ReduceOp<string mnemonic, string what, list<Trait> traits = [Parc_GradientRule],
                    bit linear = 1>
    : Parc_Op<mnemonic, !listconcat([Pure, SameOperandsAndResultElementType,
                                     Parc_ShardingRule, Parc_CostOpInterface], traits)> {
  let summary = "Reduces the given axes by " # what;
  let description = [{
    `axes` are sorted, distinct and non-negative. With `keep_dims` the reduced dims stay
    as size 1; otherwise they are removed.
  }];
  let arguments = (ins Parc_NumericTensor:$input, DenseI64ArrayAttr:$axes,
                       UnitAttr:$keep_dims);
  let results = (outs Parc_NumericTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::verify() {
      return ::mlir::parc::verifyReduceOp(getOperation(), getAxes(), getKeepDims());
    }
    ::mlir::parc::ShardingDecision $cppClass::decideSharding(
        ::llvm::ArrayRef<::mlir::parc::ShardingAttr> operands, int64_t ranks) {
      return ::mlir::parc::decideReduceSharding(getOperation(), operands, ranks, getAxes(),
                                                getKeepDims(), }] # !if(linear, "true", "false") # [{);
    }
  }];
}
def Parc_ReduceSumOp : Parc_ReduceOp<"reduce_sum", "summation">;
def Parc_ReduceMeanOp : Parc_ReduceOp<"reduce_mean", "averaging">;
def Parc_ReduceMaxOp : Parc_ReduceOp<"reduce_max", "taking the maximum",
                                     [Parc_NoGradientRule], 0>;

class Parc_SoftmaxLikeOp<string mnemonic, string what>
    : Parc_Op<mnemonic, [Pure, SameOperandsAndResultType, Parc_ShardingRule, Parc_GradientRule,
                         Parc_CostOpInterface]> {
  let summary = what # " along one axis";
  let arguments = (ins Parc_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Parc_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::verify() {
      int64_t rank = getType().getRank();
      if (getAxis() < 0 || getAxis() >= rank)
        return emitOpError("axis ") << getAxis() << " is out of range for rank " << rank;
      return ::llvm::success();
    }
    ::mlir::parc::ShardingDecision $cppClass::decideSharding(
        ::llvm::ArrayRef<::mlir::parc::ShardingAttr> operands, int64_t ranks) {
      return ::mlir::parc::decideRowSharding(getOperation(), operands, ranks, getAxis());
    }
  }];
}
def Parc_SoftmaxOp : Parc_SoftmaxLikeOp<"softmax", "exp(x - max) / sum(exp(x - max))">;
def Parc_LogSoftmaxOp : Parc_SoftmaxLikeOp<"log_softmax", "log of softmax">;

def Parc_CumSumOp : Parc_Op<"cumsum",
    [Pure, SameOperandsAndResultType, Parc_ShardingRule, Parc_GradientRule,
     Parc_CostOpInterface]> {
  let summary = "Running (inclusive) sum along one axis";
  let description = [{
    `result[..., i, ...] = sum(input[..., 0..i, ...])` along `axis`, accumulated in
    order. ONNX's CumSum lowers to it: `exclusive` subtracts the input, `reverse` takes
    the axis' total minus the running sum, plus the input (lib/Import/ImportMath.cpp).
    Shards anywhere but the axis, like softmax.
  }];
  let arguments = (ins Parc_NumericTensor:$input, I64Attr:$axis);
  let results = (outs Parc_NumericTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::verify() {
      int64_t rank = getType().getRank();
      if (getAxis() < 0 || getAxis() >= rank)
        return emitOpError("axis ") << getAxis() << " is out of range for rank " << rank;
      return ::llvm::success();
    }
    ::mlir::OpFoldResult $cppClass::fold(FoldAdaptor adaptor) {
      std::optional<::mlir::parc::HostTensor> input =
          ::mlir::parc::HostTensor::fromAttr(adaptor.getInput());
      if (!input)
        return {};
      ::llvm::ArrayRef<int64_t> shape = getType().getShape();
      int64_t length = shape[getAxis()], inner = 1;
      for (int64_t d = getAxis() + 1; d < getType().getRank(); ++d)
        inner *= shape[d];
      ::mlir::parc::HostTensor result(getType());
      for (int64_t i = 0, e = result.size(); i < e; ++i) {
        bool first = (i / inner) % length == 0;
        if (input->isFloat())
          result.setFloat(i, input->getFloat(i) + (first ? 0.0 : result.getFloat(i - inner)));
        else
          result.setInt(i, input->getInt(i) + (first ? 0 : result.getInt(i - inner)));
      }
      return result.toAttr();
    }
    ::mlir::parc::ShardingDecision $cppClass::decideSharding(
        ::llvm::ArrayRef<::mlir::parc::ShardingAttr> operands, int64_t ranks) {
      return ::mlir::parc::decideRowSharding(getOperation(), operands, ranks, getAxis());
    }
    ::llvm::LogicalResult $cppClass::buildGradients(::mlir::parc::GradientBuilder &gb) {
      // dx[i] = sum(g[i..]) = total(g) - cumsum(g)[i] + g[i].
      ::mlir::Value g = gb.resultGradient();
      ::mlir::Value running = CumSumOp::create(gb.builder(), gb.getLoc(), g.getType(), g,
                                               getAxis());
      gb.set(0, gb.add(gb.sub(gb.sumKeep(g, getAxis()), running), g));
      return ::llvm::success();
    }
  }];
}

def Parc_TopKOp : Parc_Op<"top_k",
    [Pure, Parc_ShardingRule, Parc_NoGradient, Parc_CostOpInterface]> {
  let summary = "Positions of the k largest (or smallest) elements along one axis";
  let description = [{
    `result[..., j, ...]` is the index along `axis` of the input's j-th largest element
    (smallest with `largest` unset) in its line: the values in order, equal values by
    increasing index (ONNX TopK's order, also for `sorted = 0`). The result has the
    input's shape with `k` at `axis`, in i64. ONNX TopK lowers to it and a
    `parc.gather_elements` of the values (lib/Import/ImportMath.cpp), through which the
    values' gradient flows; the positions carry none. Shards anywhere but the axis.
  }];
  let arguments = (ins Parc_NumericTensor:$input, I64Attr:$axis, I64Attr:$k,
                       UnitAttr:$largest);
  let results = (outs StaticShapeTensorOf<[I64]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::verify() {
      auto input = ::llvm::cast<::mlir::RankedTensorType>(getInput().getType());
      int64_t rank = input.getRank();
      if (getAxis() < 0 || getAxis() >= rank)
        return emitOpError("axis ") << getAxis() << " is out of range for rank " << rank;
      if (getK() < 1 || getK() > input.getDimSize(getAxis()))
        return emitOpError("k = ") << getK() << " must be in [1, "
                                   << input.getDimSize(getAxis()) << "] (the axis' size)";
      ::llvm::SmallVector<int64_t> shape(input.getShape());
      shape[getAxis()] = getK();
      if (getType().getShape() != ::llvm::ArrayRef<int64_t>(shape))
        return emitOpError("result must have the input's shape with k at the axis");
      return ::llvm::success();
    }
    ::mlir::OpFoldResult $cppClass::fold(FoldAdaptor adaptor) {
      std::optional<::mlir::parc::HostTensor> input =
          ::mlir::parc::HostTensor::fromAttr(adaptor.getInput());
      if (!input)
        return {};
      ::llvm::ArrayRef<int64_t> shape = input->getShape();
      int64_t axis = getAxis(), length = shape[axis], k = getK(), inner = 1, outer = 1;
      for (int64_t d = axis + 1; d < static_cast<int64_t>(shape.size()); ++d)
        inner *= shape[d];
      for (int64_t d = 0; d < axis; ++d)
        outer *= shape[d];
      ::mlir::parc::HostTensor result(
          ::llvm::cast<::mlir::RankedTensorType>(getResult().getType()));
      ::llvm::SmallVector<int64_t> order(length);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t c = 0; c < inner; ++c) {
          auto at = [&](int64_t j) { return input->getFloat((o * length + j) * inner + c); };
          for (int64_t j = 0; j < length; ++j)
            order[j] = j;
          std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
            return getLargest() ? at(a) > at(b) : at(a) < at(b);
          });
          for (int64_t j = 0; j < k; ++j)
            result.setInt((o * k + j) * inner + c, order[j]);
        }
      return result.toAttr();
    }
    ::mlir::parc::ShardingDecision $cppClass::decideSharding(
        ::llvm::ArrayRef<::mlir::parc::ShardingAttr> operands, int64_t ranks) {
      return ::mlir::parc::decideRowSharding(getOperation(), operands, ranks, getAxis());
    }
  }];
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Parc_ReshapeOp : Parc_Op<"reshape",
    [Pure, SameOperandsAndResultElementType, Parc_ShardingRule, Parc_GradientRule,
     Parc_CostOpInterface]> {
  let summary = "Reinterprets a tensor with another shape of the same element count";
  let arguments = (ins Parc_Tensor:$input);
  let results = (outs Parc_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Parc_TransposeOp : Parc_Op<"transpose",
    [Pure, SameOperandsAndResultElementType, Parc_ShardingRule, Parc_GradientRule,
     Parc_CostOpInterface]> {
  let summary = "Permutes dimensions: result dim i is input dim permutation[i]";
  let arguments = (ins Parc_Tensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs Parc_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $permutation attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Parc_ConcatOp : Parc_Op<"concat",
    [Pure, SameOperandsAndResultElementType, Parc_ShardingRule, Parc_GradientRule,
     Parc_CostOpInterface]> {
  let summary = "Joins tensors along one axis";
  let arguments = (ins Variadic<Parc_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Parc_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, $result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Parc_SliceOp : Parc_Op<"slice",
    [Pure, SameOperandsAndResultElementType, Parc_ShardingRule, Parc_GradientRule,
     Parc_CostOpInterface]> {
  let summary = "Takes a strided window: [start, limit) with a positive stride per dim";
  let arguments = (ins Parc_Tensor:$input, DenseI64ArrayAttr:$start_indices,
                       DenseI64ArrayAttr:$limit_indices, DenseI64ArrayAttr:$strides);
  let results = (outs Parc_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Parc_GatherOp : Parc_Op<"gather", [Pure, Parc_ShardingRule, Parc_GradientRule,
                                       Parc_CostOpInterface]> {
  let summary = "Picks slices along one axis by index (ONNX Gather)";
  let description = [{
    The result shape is `input.shape[:axis] + indices.shape + input.shape[axis+1:]`.
    Negative indices count from the end of the axis.
  }];
  let arguments = (ins Parc_Tensor:$input, Parc_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs Parc_Tensor:$result);
  let assemblyFormat = [{
    $input `[` $indices `]` attr-dict `:` type($input) `,` type($indices) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Parc_GatherElementsOp : Parc_Op<"gather_elements", [Pure, Parc_ReplicatedSharding,
                                                        Parc_GradientRule,
                                                        Parc_CostOpInterface]> {
  let summary = "Picks elements along one axis by per-element index (ONNX GatherElements)";
  let description = [{
    `result[i][j][k] = input[index[i][j][k]][j][k]` for axis 0, and likewise for other axes:
    the result has the indices' shape. Negative indices count from the end of the axis.
  }];
  let arguments = (ins Parc_Tensor:$input, Parc_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs Parc_Tensor:$result);
  let assemblyFormat = [{
    $input `[` $indices `]` attr-dict `:` type($input) `,` type($indices) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Parc_ScatterAddOp : Parc_Op<"scatter_add", [Pure, Parc_ReplicatedSharding, Parc_NoGradientRule,
                                               Parc_CostOpInterface]> {
  let summary = "Adds slices into a zero tensor at indexed positions (the adjoint of gather)";
  let description = [{
    The gradient of `parc.gather` with respect to its table: the result (of the table's
    type) starts at zero and every slice of `updates` is added at the position its index
    names along `axis`; repeated indices accumulate. `updates` has the shape gather
    produced: result dims before `axis`, then the indices' dims, then the result dims
    after `axis`. Negative indices count from the end, as for gather.

    ```mlir
    %dtable = parc.scatter_add %dout[%ids] {axis = 0 : i64}
        : tensor<2x16x64xf32>, tensor<2x16xi64> -> tensor<256x64xf32>
    ```
  }];
  let arguments = (ins Parc_FloatTensor:$updates, Parc_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs Parc_FloatTensor:$result);
  let assemblyFormat = [{
    $updates `[` $indices `]` attr-dict `:` type($updates) `,` type($indices) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Parc_BroadcastToOp : Parc_Op<"broadcast_to",
    [Pure, SameOperandsAndResultElementType, Parc_ShardingRule, Parc_GradientRule,
     Parc_CostOpInterface]> {
  let summary = "Broadcasts a tensor to a larger shape with numpy rules (ONNX Expand)";
  let arguments = (ins Parc_Tensor:$input);
  let results = (outs Parc_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Training state
//===----------------------------------------------------------------------===//

def Parc_AssignWeightOp : Parc_Op<"assign_weight", [MemoryEffects<[MemWrite]>,
                                                   Parc_ReplicatedSharding, Parc_NoGradient,
                                                   Parc_CostOpInterface]> {
  let summary = "Stores a new value into a weight (an optimizer step)";
  let description = [{
    Overwrites the weight `name` with `value` (same type as the weight, as loaded); later
    `parc.load_weight`s of it, in this run or the next step, see the new value. Optimizer
    passes put every assign after the last read of the weight in a step.

    ```mlir
    parc.assign_weight @w = %updated : tensor<64x64xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$name, Parc_Tensor:$value);
  let assemblyFormat = "$name `=` $value attr-dict `:` type($value)";
}

//===----------------------------------------------------------------------===//
// Communication between ranks
//===----------------------------------------------------------------------===//

/// Collectives are inserted by the partitioner: they run on the layouts it chose, and their
/// gradient is their conjugate (Megatron's f and g operators).
class Parc_CollectiveOp<string mnemonic, list<Trait> traits = []>
    : Parc_Op<mnemonic, !listconcat([Parc_ReplicatedSharding, Parc_GradientRule,
                                     Parc_CostOpInterface], traits)> {
  let description = [{
    A collective over the ranks of one axis of the module's mesh (`group`, "tp" or "dp";
    the module's `parc.mesh` gives the axis sizes). Every rank of the group executes it in
    the same program order.
  }];
  let hasVerifier = 1;
}

def Parc_AllReduceOp : Parc_CollectiveOp<"all_reduce", [SameOperandsAndResultType]> {
  let summary = "Sums a tensor over the ranks of a group; every rank gets the sum";
  let arguments = (ins Parc_NumericTensor:$input, StrAttr:$group);
  let results = (outs Parc_NumericTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Parc_AllReduceStartOp
    : Parc_Op<"all_reduce_start", [SameOperandsAndResultType,
                                   MemoryEffects<[MemRead, MemWrite]>, Parc_ReplicatedSharding,
                                   Parc_NoGradient, Parc_CostOpInterface]> {
  let summary = "Starts summing a tensor over a group in the background, into a new buffer";
  let description = [{
    The non-blocking all-reduce of data-parallel gradient buckets: `all_reduce_start`
    copies `input` into its result buffer and starts the sum over `group` while the ops
    that follow run; `parc.all_reduce_wait` on that buffer (same group and tag) finishes it
    and returns the buffer, now the sum. Collectives of one group run one at a time, in
    program order. `tag` tells a rank's operations in flight apart.

    ```mlir
    %bucket = parc.all_reduce_start %grads {group = "dp", tag = 0} : tensor<4096xf32>
    // ... more of the backward pass ...
    %summed = parc.all_reduce_wait %bucket {group = "dp", tag = 0} : tensor<4096xf32>
    ```
  }];
  let arguments = (ins Parc_NumericTensor:$input, StrAttr:$group, I64Attr:$tag);
  let results = (outs Parc_NumericTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Parc_AllReduceWaitOp
    : Parc_Op<"all_reduce_wait", [SameOperandsAndResultType,
                                  MemoryEffects<[MemRead, MemWrite]>, Parc_ReplicatedSharding,
                                  Parc_NoGradient, Parc_CostOpInterface]> {
  let summary = "Finishes an all_reduce_start; the result is its buffer, now the sum";
  let arguments = (ins Parc_NumericTensor:$buffer, StrAttr:$group, I64Attr:$tag);
  let results = (outs Parc_NumericTensor:$result);
  let assemblyFormat = "$buffer attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Parc_AllGatherOp : Parc_CollectiveOp<"all_gather", [SameOperandsAndResultElementType]> {
  let summary = "Concatenates the ranks' tensors along `axis` in rank order";
  let arguments = (ins Parc_Tensor:$input, I64Attr:$axis, StrAttr:$group);
  let results = (outs Parc_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Parc_ReduceScatterOp
    : Parc_CollectiveOp<"reduce_scatter", [SameOperandsAndResultElementType]> {
  let summary = "Sums over the group and leaves each rank its block along `axis`";
  let arguments = (ins Parc_NumericTensor:$input, I64Attr:$axis, StrAttr:$group);
  let results = (outs Parc_NumericTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Parc_ShardSliceOp : Parc_Op<"shard_slice", [Pure, SameOperandsAndResultElementType,
                                               Parc_ReplicatedSharding, Parc_GradientRule,
                                               Parc_CostOpInterface]> {
  let summary = "Takes this rank's block of a replicated tensor (no communication)";
  let description = [{
    The inverse of all_gather without moving data: rank r of `group` keeps block r of dim
    `axis` (of each of `groups` groups, as in `#parc.sharding<split(axis, groups = g)>`).
    With `group = "microbatch"` it takes one microbatch's rows of a value that is the same
    for the whole batch (see parc-split-microbatches); the pipeline builder resolves it.
  }];
  let arguments = (ins Parc_Tensor:$input, I64Attr:$axis, I64Attr:$groups,
                       StrAttr:$group);
  let results = (outs Parc_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Parc_ShardGatherOp : Parc_Op<"shard_gather", [Pure, Parc_ReplicatedSharding, Parc_GradientRule,
                                                 Parc_CostOpInterface]> {
  let summary = "Gathers from this rank's block of a table split along the gathered axis";
  let description = [{
    The table is rank r's block of a table split along `axis` over `group`; indices refer
    to the whole table. Entries whose index falls in this rank's block are gathered, all
    others are zero, so the sum over the ranks (an all-reduce) is the whole gather: the
    vocabulary-parallel embedding of Megatron-LM.
  }];
  let arguments = (ins Parc_Tensor:$input, Parc_IndexTensor:$indices, I64Attr:$axis,
                       StrAttr:$group);
  let results = (outs Parc_Tensor:$result);
  let assemblyFormat = [{
    $input `[` $indices `]` attr-dict `:` type($input) `,` type($indices) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Point-to-point transfers between pipeline stages
//===----------------------------------------------------------------------===//

/// Transfers exist only once the pipeline is built, after the backward pass.
class Parc_TransferOp<string mnemonic, list<Trait> traits = []>
    : Parc_Op<mnemonic, !listconcat(traits, [MemoryEffects<[MemRead, MemWrite]>,
                                             Parc_ReplicatedSharding, Parc_NoGradient,
                                             Parc_CostOpInterface])> {
  let description = [{
    Transfers between pipeline stages are split into a start and a wait so that they overlap
    compute: `parc.send` / `parc.recv` start a non-blocking transfer, `parc.send_wait` /
    `parc.recv_wait` finish it. `stage` is the peer's pipeline stage (the peer has the same
    dp and tp coordinates); `tag` matches a send with its receive and is unique per pair of
    stages within a step. The tensor a send reads must stay unchanged until its
    `parc.send_wait`, which takes it as an operand so that it stays live until then.

    ```mlir
    %buffer = parc.recv {stage = 0, tag = 3} : tensor<1x128x768xf32>
    %hidden = parc.recv_wait %buffer : tensor<1x128x768xf32>
    parc.send %out {stage = 2, tag = 7} : tensor<1x128x768xf32>
    parc.send_wait %out {stage = 2, tag = 7} : tensor<1x128x768xf32>
    ```
  }];
}

def Parc_SendOp : Parc_TransferOp<"send"> {
  let summary = "Starts sending a tensor to another pipeline stage";
  let arguments = (ins Parc_Tensor:$input, I64Attr:$stage, I64Attr:$tag);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Parc_SendWaitOp : Parc_TransferOp<"send_wait"> {
  let summary = "Waits until the send of `input` with the same stage and tag finished";
  let arguments = (ins Parc_Tensor:$input, I64Attr:$stage, I64Attr:$tag);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Parc_RecvOp : Parc_TransferOp<"recv"> {
  let summary = "Starts receiving a tensor from another pipeline stage into a new buffer";
  let arguments = (ins I64Attr:$stage, I64Attr:$tag);
  let results = (outs Parc_Tensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

def Parc_RecvWaitOp : Parc_TransferOp<"recv_wait", [SameOperandsAndResultType]> {
  let summary = "Waits for a receive to finish; the result is its buffer, now filled";
  let arguments = (ins Parc_Tensor:$buffer);
  let results = (outs Parc_Tensor:$result);
  let assemblyFormat = "$buffer attr-dict `:` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The receive this wait finishes.
    RecvOp getRecv() { return getBuffer().getDefiningOp<RecvOp>(); }
  }];
}

//===----------------------------------------------------------------------===//
// Fusion
//===----------------------------------------------------------------------===//

def Parc_FusedOp : Parc_Op<"fused", [IsolatedFromAbove, Pure, Parc_ReplicatedSharding,
                                     Parc_NoGradient, Parc_CostRule]> {
  let summary = "A group of elementwise ops and row reductions run as one kernel";
  let description = [{
    What `parc-fuse` groups: its body computes `results` from `inputs` (the block's
    arguments) with the ops of the group and ends in `parc.yield`. `kind` is
    "elementwise" (every op has the domain's shape; inputs broadcast to it), "row"
    (reductions and softmax over the last dim, with the elementwise ops around them: one
    row of the domain at a time) or "gemm" (a matmul with the bias add, and a
    tanh-approximated GELU, that cuBLASLt runs as its epilogue; `epilogue` is "bias" or
    "bias_gelu"). Code generators emit one kernel per fused op; the CPU
    backend runs its body's ops (parc-inline-fused), the reference semantics.

    ```mlir
    %y = parc.fused "row" (%x, %mask) : (tensor<2x12x128x128xf32>, tensor<1x1x128x128xf32>)
        -> tensor<2x12x128x128xf32> {
    ^bb0(%a: tensor<2x12x128x128xf32>, %m: tensor<1x1x128x128xf32>):
      %s = parc.add %a, %m : ...
      %p = parc.softmax %s {axis = 3 : i64} : tensor<2x12x128x128xf32>
      parc.yield %p : tensor<2x12x128x128xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<Parc_Tensor>:$inputs, StrAttr:$kind);
  let results = (outs Variadic<Parc_Tensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $kind `(` $inputs `)` attr-dict `:` functional-type($inputs, $results) $body
  }];
  let hasVerifier = 1;
}

def Parc_YieldOp : Parc_Op<"yield", [Pure, Terminator, HasParent<"FusedOp">,
                                     Parc_ReplicatedSharding, Parc_NoGradient,
                                     Parc_CostOpInterface]> {
  let summary = "The results of a parc.fused body";
  let arguments = (ins Variadic<Parc_Tensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

#endif // PARC_DIALECT_PARC_IR_PARCOPS_TD
