//===- ParcBase.td - parc dialect definition ---------------*- tablegen -*-===//
//
// The parc dialect: tensor operations with value semantics and static shapes. It is the
// form the ONNX importer produces and that the planner, partitioner and code generators consume.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_DIALECT_PARC_IR_PARCBASE_TD
#define PARC_DIALECT_PARC_IR_PARCBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Parc_Dialect : Dialect {
  let name = "parc";
  let cppNamespace = "::mlir::parc";
  let summary = "Tensor operations of models that parc partitions and compiles";
  let description = [{
    A small core of tensor operations with value semantics and static shapes. Every ONNX
    operator the importer accepts is expressed with these ops (Gemm becomes matmul + add,
    LayerNormalization becomes reductions and elementwise ops, Split becomes slices, ...), so
    that analyses and transformations handle a short, closed list.

    Weights live in module-level `parc.weight` symbols whose bytes are backed by the model's
    own storage (dense resources), and are read inside functions with `parc.load_weight`.
  }];
  let hasConstantMaterializer = 1;
  // The discardable parc.* attributes are checked (ParcDiscardableAttrs.cpp).
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

/// Element types every parc tensor may carry.
def Parc_ElementType : AnyTypeOf<[F32, F16, BF16, I64, I32, I1]>;
def Parc_FloatElementType : AnyTypeOf<[F32, F16, BF16]>;
def Parc_IntegerElementType : AnyTypeOf<[I64, I32]>;

def Parc_Tensor : StaticShapeTensorOf<[F32, F16, BF16, I64, I32, I1]>;
def Parc_FloatTensor : StaticShapeTensorOf<[F32, F16, BF16]>;
def Parc_NumericTensor : StaticShapeTensorOf<[F32, F16, BF16, I64, I32]>;
def Parc_BoolTensor : StaticShapeTensorOf<[I1]>;
def Parc_IndexTensor : StaticShapeTensorOf<[I64, I32]>;

class Parc_Op<string mnemonic, list<Trait> traits = []>
    : Op<Parc_Dialect, mnemonic, traits>;

#endif // PARC_DIALECT_PARC_IR_PARCBASE_TD
