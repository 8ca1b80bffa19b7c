//===- ParcDiscardableAttrs.cpp - verifying the parc.* attributes ---------===//
//
// One table says, for every discardable `parc.*` attribute, what kind of value it holds
// and where it may sit; the dialect's attribute-verification hooks check each attribute
// the IR carries against it.
//
//===----------------------------------------------------------------------===//

#include "parc/Dialect/Parc/IR/ParcAttrs.h"
#include "parc/Dialect/Parc/IR/ParcDialect.h"
#include "parc/Dialect/Parc/IR/ParcDiscardableAttrs.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace mlir::parc;

namespace {

/// What value an attribute holds.
enum class Kind {
  Unit,
  Integer,
  Float,
  String,
  FunctionType,
  I64Array,       // DenseI64ArrayAttr
  FloatArray,     // ArrayAttr of FloatAttr
  Sharding,       // ShardingAttr
  ShardingArray,  // ArrayAttr of ShardingAttr
  Mesh,           // {dp, pp, tp} positive integers
  Dictionary,
};

/// Where it may sit (a bit set).
enum Place : unsigned {
  OnModule = 1,
  OnFunction = 2,
  OnWeight = 4,
  OnOp = 8, // an op inside a function
  OnArgument = 16,
  OnResult = 32,
};

struct Declaration {
  StringRef name;
  Kind kind;
  unsigned places;
};

constexpr Declaration kDeclarations[] = {
    {kMeshAttr, Kind::Mesh, OnModule},
    {kPipelinePlanAttr, Kind::Dictionary, OnModule},
    {kMicrobatchesAttr, Kind::Integer, OnFunction},
    {kWholeBatchTypeAttr, Kind::FunctionType, OnFunction},
    {kStageSecondsAttr, Kind::FloatArray, OnFunction},
    {kStageIncomingBytesAttr, Kind::FloatArray, OnFunction},
    {kStageImbalanceAttr, Kind::Float, OnFunction},
    {kOutputsAttr, Kind::I64Array, OnFunction},
    {kTrainingAttr, Kind::Unit, OnFunction},
    {kArenaBytesAttr, Kind::Integer, OnFunction},
    {kOnnxNameAttr, Kind::String, OnArgument | OnResult},
    {kMicrobatchLayoutAttr, Kind::Sharding, OnArgument | OnResult},
    {kUnreachedGradientAttr, Kind::Unit, OnResult},
    {kPlannedShardingAttr, Kind::Sharding, OnWeight},
    {kOptimizerStateAttr, Kind::Unit, OnWeight},
    {kStateOfAttr, Kind::String, OnWeight},
    {kDataParallelSplitAttr, Kind::Unit, OnWeight},
    {kShardingAttr, Kind::Sharding, OnOp},
    {kReshardAttr, Kind::ShardingArray, OnOp},
    {kTensorParallelLayoutAttr, Kind::Sharding, OnOp},
    {kOpIdAttr, Kind::Integer, OnOp},
    {kAdjointOfAttr, Kind::Integer, OnOp},
    {kForwardIndexAttr, Kind::Integer, OnOp},
    {kStageAttr, Kind::Integer, OnOp | OnFunction},
    {kChunkAttr, Kind::Integer, OnOp},
    {kMicrobatchAttr, Kind::Integer, OnOp},
    {kBackwardStepAttr, Kind::Unit, OnOp},
    {kRecomputedAttr, Kind::Unit, OnOp},
    {kOffsetAttr, Kind::Integer, OnOp},
    {kOffsetsAttr, Kind::I64Array, OnOp},
};

const Declaration *lookup(StringRef name) {
  for (const Declaration &declaration : kDeclarations)
    if (declaration.name == name)
      return &declaration;
  return nullptr;
}

template <typename ElementAttr> bool isArrayOf(Attribute attr) {
  auto array = dyn_cast<ArrayAttr>(attr);
  return array && llvm::all_of(array, [](Attribute e) { return isa<ElementAttr>(e); });
}

bool isMesh(Attribute attr) {
  auto mesh = dyn_cast<DictionaryAttr>(attr);
  if (!mesh)
    return false;
  for (StringRef axis : {"dp", "pp", "tp"}) {
    auto size = mesh.getAs<IntegerAttr>(axis);
    if (!size || size.getInt() < 1)
      return false;
  }
  return true;
}

bool hasKind(Attribute attr, Kind kind) {
  switch (kind) {
  case Kind::Unit:
    return isa<UnitAttr>(attr);
  case Kind::Integer:
    return isa<IntegerAttr>(attr);
  case Kind::Float:
    return isa<FloatAttr>(attr);
  case Kind::String:
    return isa<StringAttr>(attr);
  case Kind::FunctionType: {
    auto type = dyn_cast<TypeAttr>(attr);
    return type && isa<FunctionType>(type.getValue());
  }
  case Kind::I64Array:
    return isa<DenseI64ArrayAttr>(attr);
  case Kind::FloatArray:
    return isArrayOf<FloatAttr>(attr);
  case Kind::Sharding:
    return isa<ShardingAttr>(attr);
  case Kind::ShardingArray:
    return isArrayOf<ShardingAttr>(attr);
  case Kind::Mesh:
    return isMesh(attr);
  case Kind::Dictionary:
    return isa<DictionaryAttr>(attr);
  }
  llvm_unreachable("unknown attribute kind");
}

StringRef describe(Kind kind) {
  switch (kind) {
  case Kind::Unit:
    return "a unit attribute";
  case Kind::Integer:
    return "an integer";
  case Kind::Float:
    return "a float";
  case Kind::String:
    return "a string";
  case Kind::FunctionType:
    return "a function type";
  case Kind::I64Array:
    return "an array<i64>";
  case Kind::FloatArray:
    return "an array of floats";
  case Kind::Sharding:
    return "a #parc.sharding";
  case Kind::ShardingArray:
    return "an array of #parc.sharding";
  case Kind::Mesh:
    return "a mesh {dp = D, pp = P, tp = T} of positive sizes";
  case Kind::Dictionary:
    return "a dictionary";
  }
  llvm_unreachable("unknown attribute kind");
}

Place placeOf(Operation *op, StringRef where) {
  if (where == "argument")
    return OnArgument;
  if (where == "result")
    return OnResult;
  if (isa<ModuleOp>(op))
    return OnModule;
  if (isa<func::FuncOp>(op))
    return OnFunction;
  if (isa<WeightOp>(op))
    return OnWeight;
  return OnOp;
}

std::string describePlaces(unsigned places) {
  std::string text;
  auto add = [&](Place place, StringRef name) {
    if (!(places & place))
      return;
    text += text.empty() ? "" : " or ";
    text += name;
  };
  add(OnModule, "the module");
  add(OnFunction, "a function");
  add(OnWeight, "a parc.weight");
  add(OnOp, "an op inside a function");
  add(OnArgument, "a function argument");
  add(OnResult, "a function result");
  return text;
}

} // namespace

LogicalResult mlir::parc::verifyDiscardableAttribute(Operation *op, NamedAttribute attr,
                                                     StringRef where) {
  StringRef name = attr.getName().getValue();
  const Declaration *declaration = lookup(name);
  if (!declaration)
    return op->emitOpError() << "carries unknown attribute '" << name
                             << "' (parc's discardable attributes are declared in "
                                "ParcDiscardableAttrs.h)";
  if (!hasKind(attr.getValue(), declaration->kind))
    return op->emitOpError() << "attribute '" << name << "' must be "
                             << describe(declaration->kind) << ", not "
                             << attr.getValue();
  if (!(declaration->places & placeOf(op, where)))
    return op->emitOpError() << "attribute '" << name << "' belongs on "
                             << describePlaces(declaration->places);
  return success();
}

LogicalResult ParcDialect::verifyOperationAttribute(Operation *op, NamedAttribute attr) {
  return verifyDiscardableAttribute(op, attr, /*where=*/"");
}

LogicalResult ParcDialect::verifyRegionArgAttribute(Operation *op, unsigned /*region*/,
                                                    unsigned /*argument*/,
                                                    NamedAttribute attr) {
  return verifyDiscardableAttribute(op, attr, "argument");
}

LogicalResult ParcDialect::verifyRegionResultAttribute(Operation *op, unsigned /*region*/,
                                                       unsigned /*result*/,
                                                       NamedAttribute attr) {
  return verifyDiscardableAttribute(op, attr, "result");
}
