//===- GraphImporter.cpp - walking an ONNX graph --------------------------===//
//
// Loads and checks the model file (format, opset, operator support), then imports the main
// graph: inputs become function arguments (symbolic dims bound by the options), initializers
// become parc.weight symbols or constants on first use, nodes go through their converters.
//
//===----------------------------------------------------------------------===//

#include "GraphImporter.h"
#include "OpsetConversion.h"

#include "parc/Dialect/Parc/IR/ParcDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

#include <cstring>
#include <fcntl.h>
#include <map>
#include <unistd.h>
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/onnx_pb.h"

using namespace mlir;
using namespace mlir::parc;

/// Initializers with more elements than this are weights even when they are integers.
static bool isWeightInitializer(RankedTensorType type) {
  if (type.getNumElements() > kMaxFoldedElements)
    return true;
  return isa<FloatType>(type.getElementType()) && type.getNumElements() > 1;
}

/// True for the default ONNX operator domain.
static bool isDefaultDomain(const std::string &domain) {
  return domain.empty() || domain == "ai.onnx";
}

/// A resource blob key made of identifier characters only.
static std::string blobKey(StringRef name) {
  std::string key;
  for (char c : name)
    key.push_back(llvm::isAlnum(c) || c == '_' || c == '.' ? c : '_');
  if (key.empty() || llvm::isDigit(key.front()))
    key.insert(key.begin(), '_');
  return key;
}

GraphImporter::GraphImporter(MLIRContext *context,
                             std::shared_ptr<onnx::ModelProto> model,
                             std::string modelPath, int64_t opset,
                             const OnnxImportOptions &options)
    : context(context), model(model), modelPath(modelPath), opset(opset),
      options(options),
      tensors(context, model,
              std::string(llvm::sys::path::parent_path(modelPath)),
              options.allowMissingWeights),
      builder(context) {
  registerMathConverters(converters);
  registerDataMovementConverters(converters);
  registerContractionConverters(converters);
}

Location GraphImporter::fileLoc() {
  return FileLineColLoc::get(context, modelPath, 0, 0);
}

Location GraphImporter::nodeLoc(StringRef name) {
  return NameLoc::get(StringAttr::get(context, name), fileLoc());
}

LogicalResult
GraphImporter::checkOperatorsSupported(const onnx::GraphProto &graph) {
  struct Unsupported {
    int count = 0;
    std::string firstNode;
  };
  llvm::MapVector<std::string, Unsupported, std::map<std::string, unsigned>>
      unsupported;
  for (const onnx::NodeProto &node : graph.node()) {
    std::string type = isDefaultDomain(node.domain())
                           ? node.op_type()
                           : node.domain() + "." + node.op_type();
    if (isDefaultDomain(node.domain()) && converters.count(node.op_type()))
      continue;
    Unsupported &entry = unsupported[type];
    if (entry.count++ == 0)
      entry.firstNode = node.name();
  }
  if (unsupported.empty())
    return success();
  InFlightDiagnostic diag =
      emitError(fileLoc()) << "unsupported ONNX operators:";
  bool first = true;
  for (auto &[type, entry] : unsupported) {
    diag << (first ? " " : ", ") << type << " (" << entry.count
         << (entry.count == 1 ? " node" : " nodes") << ", e.g. '"
         << entry.firstNode << "')";
    first = false;
  }
  return failure();
}

LogicalResult GraphImporter::importInputs(const onnx::GraphProto &graph,
                                          OpBuilder &builder,
                                          func::FuncOp &function,
                                          ModuleOp module) {
  SmallVector<Type> argTypes;
  SmallVector<const onnx::ValueInfoProto *> graphInputs;
  llvm::StringSet<> inputNames;
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (initializers.count(input.name()))
      continue; // An initializer listed as input (IR < 4): a weight, not an input.
    graphInputs.push_back(&input);
    inputNames.insert(input.name());
  }
  for (const auto &entry : options.inputShapes) {
    if (inputNames.contains(entry.getKey()))
      continue;
    InFlightDiagnostic diag = emitError(fileLoc())
                              << "--input-shape names '" << entry.getKey()
                              << "', which is not an input of the graph (inputs:";
    for (const onnx::ValueInfoProto *input : graphInputs)
      diag << " " << input->name();
    diag << ")";
    return failure();
  }

  for (const onnx::ValueInfoProto *input : graphInputs) {
    Location loc = fileLoc();
    if (!input->type().has_tensor_type())
      return emitError(loc) << "graph input '" << input->name()
                            << "' is not a tensor";
    const onnx::TypeProto::Tensor &tensorType = input->type().tensor_type();
    std::string reason;
    FailureOr<Type> element =
        convertOnnxElementType(context, tensorType.elem_type(), reason);
    if (failed(element))
      return emitError(loc) << "graph input '" << input->name() << "': "
                            << reason;
    const SmallVector<int64_t> *bound = nullptr;
    auto it = options.inputShapes.find(input->name());
    if (it != options.inputShapes.end())
      bound = &it->second;
    if (!tensorType.has_shape())
      return emitError(loc) << "graph input '" << input->name()
                            << "' has no shape; give one with --input-shape "
                            << input->name() << "=<dims>";
    const onnx::TensorShapeProto &shape = tensorType.shape();
    if (bound && static_cast<int>(bound->size()) != shape.dim_size())
      return emitError(loc) << "--input-shape gives " << bound->size()
                            << " dims for '" << input->name()
                            << "', which has rank " << shape.dim_size();
    SmallVector<int64_t> dims;
    for (int d = 0; d < shape.dim_size(); ++d) {
      const onnx::TensorShapeProto::Dimension &dim = shape.dim(d);
      if (dim.has_dim_value()) {
        if (dim.dim_value() < 0)
          return emitError(loc) << "graph input '" << input->name() << "' has dim " << d
                                << " of " << dim.dim_value();
        if (bound && (*bound)[d] != dim.dim_value())
          return emitError(loc)
                 << "--input-shape gives dim " << d << " of '" << input->name()
                 << "' as " << (*bound)[d] << ", but the model fixes it to "
                 << dim.dim_value();
        dims.push_back(dim.dim_value());
        continue;
      }
      if (!bound) {
        std::string symbol =
            dim.has_dim_param() ? "'" + dim.dim_param() + "'" : "unnamed";
        return emitError(loc)
               << "graph input '" << input->name() << "' has a symbolic dim "
               << d << " (" << symbol
               << "); bind it with --input-shape " << input->name()
               << "=<dims>, e.g. --input-shape " << input->name() << "=2x128";
      }
      dims.push_back((*bound)[d]);
    }
    std::string sizeReason;
    if (failed(boundedTensorBytes(dims, getElementStorageBytes(*element), sizeReason)))
      return emitError(loc) << "graph input '" << input->name() << "' " << sizeReason;
    argTypes.push_back(RankedTensorType::get(dims, *element));
  }

  builder.setInsertionPointToEnd(module.getBody());
  function = func::FuncOp::create(builder, nodeLoc(graph.name()), "main",
                                  builder.getFunctionType(argTypes, {}));
  Block *entry = function.addEntryBlock();
  for (auto [i, input] : llvm::enumerate(graphInputs)) {
    function.setArgAttr(i, kOnnxNameAttr, builder.getStringAttr(input->name()));
    define(input->name(), entry->getArgument(i));
  }
  builder.setInsertionPointToStart(entry);
  return success();
}

FailureOr<Value> GraphImporter::importInitializer(const onnx::TensorProto &tensor,
                                                  Location loc) {
  std::string reason;
  FailureOr<RankedTensorType> type = tensors.getType(tensor, reason);
  if (failed(type))
    return emitError(fileLoc()) << "initializer '" << tensor.name()
                                << "': " << reason;
  if (!isWeightInitializer(*type)) {
    FailureOr<DenseElementsAttr> value = tensors.readDense(tensor, reason);
    if (failed(value))
      return emitError(fileLoc()) << "initializer '" << tensor.name()
                                << "': " << reason;
    return ConstantOp::create(builder, loc, value->getType(), *value).getResult();
  }
  FailureOr<ElementsAttr> value =
      tensors.readResource(tensor, blobKey(tensor.name()), reason);
  if (failed(value))
    return emitError(fileLoc()) << "initializer '" << tensor.name()
                                << "': " << reason;
  {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPoint(module.getBody(), module.getBody()->begin());
    for (Operation &op : *module.getBody())
      if (isa<WeightOp>(op))
        builder.setInsertionPointAfter(&op);
    WeightOp::create(builder, loc, tensor.name(), *value, ShardingAttr());
  }
  return LoadWeightOp::create(builder, loc, *type, tensor.name()).getResult();
}

FailureOr<Value> GraphImporter::lookup(StringRef name, NodeImporter &user) {
  auto it = values.find(name);
  if (it != values.end())
    return it->second;
  auto init = initializers.find(name);
  if (init != initializers.end()) {
    FailureOr<Value> value = importInitializer(*init->second, nodeLoc(name));
    if (failed(value))
      return failure();
    define(name, *value);
    return *value;
  }
  return user.emitError() << "input '" << name
                          << "' is not produced by any earlier node, "
                             "initializer or graph input";
}

LogicalResult GraphImporter::importInto(ModuleOp moduleOp) {
  module = moduleOp;
  const onnx::GraphProto &graph = model->graph();
  for (const onnx::TensorProto &tensor : graph.initializer())
    initializers[tensor.name()] = &tensor;
  if (!graph.sparse_initializer().empty())
    return emitError(nodeLoc(graph.name()))
           << "sparse initializers are not supported";
  if (failed(checkOperatorsSupported(graph)))
    return failure();

  func::FuncOp function;
  if (failed(importInputs(graph, builder, function, module)))
    return failure();

  for (auto [index, node] : llvm::enumerate(graph.node())) {
    std::string name = node.name().empty()
                           ? node.op_type() + "_" + std::to_string(index)
                           : node.name();
    NodeImporter importer(*this, node, nodeLoc(name), builder);
    if (failed(converters[node.op_type()](importer)))
      return failure();
    for (auto [i, output] : llvm::enumerate(node.output())) {
      if (output.empty())
        continue;
      if (!values.count(output))
        return importer.emitError()
               << "output " << i << " ('" << output
               << "') is not produced by parc's converter";
      // A model's numbers (Expand's shape, ConstantOfShape's, pads) can make any dims:
      // refused here, before a later size computed from them overflows.
      auto type = dyn_cast<RankedTensorType>(values.lookup(output).getType());
      std::string reason;
      if (type && type.hasStaticShape() &&
          failed(boundedTensorBytes(type.getShape(),
                                            getElementStorageBytes(type.getElementType()),
                                            reason)))
        return importer.emitError() << "output '" << output << "' " << reason;
    }
  }

  SmallVector<Value> results;
  for (const onnx::ValueInfoProto &output : graph.output()) {
    auto it = values.find(output.name());
    if (it == values.end()) {
      // A graph output may be an initializer or an input passed straight through.
      NodeImporter outputUser(*this, onnx::NodeProto::default_instance(),
                              nodeLoc(output.name()), builder);
      FailureOr<Value> value = lookup(output.name(), outputUser);
      if (failed(value))
        return failure();
      results.push_back(*value);
      continue;
    }
    Value value = it->second;
    auto type = cast<RankedTensorType>(value.getType());
    if (output.type().has_tensor_type()) {
      const onnx::TypeProto::Tensor &declared = output.type().tensor_type();
      std::string reason;
      FailureOr<Type> element =
          convertOnnxElementType(context, declared.elem_type(), reason);
      bool shapeDiffers = false;
      if (declared.has_shape()) {
        shapeDiffers = declared.shape().dim_size() != type.getRank();
        for (int d = 0; !shapeDiffers && d < declared.shape().dim_size(); ++d)
          shapeDiffers = declared.shape().dim(d).has_dim_value() &&
                         declared.shape().dim(d).dim_value() != type.getDimSize(d);
      }
      if ((succeeded(element) && *element != type.getElementType()) ||
          shapeDiffers)
        return emitError(fileLoc())
               << "graph output '" << output.name()
               << "' is declared differently from what the graph computes ("
               << type << ")";
    }
    results.push_back(value);
  }
  func::ReturnOp::create(builder, nodeLoc(graph.name()), results);
  function.setType(builder.getFunctionType(function.getArgumentTypes(),
                                           ValueRange(results).getTypes()));
  for (auto [i, output] : llvm::enumerate(graph.output()))
    function.setResultAttr(i, kOnnxNameAttr,
                           builder.getStringAttr(output.name()));
  return success();
}

//===----------------------------------------------------------------------===//
// Model loading
//===----------------------------------------------------------------------===//

/// Imports a parsed `model` whose file is `path` (its external data lies beside it).
static OwningOpRef<ModuleOp> importParsedModel(MLIRContext &context,
                                               std::shared_ptr<onnx::ModelProto> model,
                                               StringRef path,
                                               const OnnxImportOptions &options) {
  Location fileLoc = FileLineColLoc::get(&context, path, 0, 0);
  if (!model->has_graph() || model->ir_version() <= 0) {
    emitError(fileLoc) << "not a valid ONNX model (the file does not parse as "
                          "an ONNX ModelProto with a graph)";
    return nullptr;
  }
  int64_t opset = -1;
  for (const onnx::OperatorSetIdProto &import : model->opset_import())
    if (isDefaultDomain(import.domain()))
      opset = import.version();
  if (opset < 0) {
    emitError(fileLoc) << "the model imports no opset of the default ONNX domain";
    return nullptr;
  }
  if (opset >= kOldestLiftableOpset && opset < kLiftedOpset) {
    if (failed(liftToSupportedOpset(*model, fileLoc)))
      return nullptr;
    opset = kLiftedOpset;
  }
  if (opset < kOldestLiftableOpset || opset > kMaxOnnxOpset) {
    emitError(fileLoc) << "the model uses ONNX opset " << opset
                       << "; parc supports opsets " << kOldestLiftableOpset << " to "
                       << kMaxOnnxOpset << " (those before " << kLiftedOpset
                       << " lifted to it on import)";
    return nullptr;
  }

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  GraphImporter importer(&context, model, path.str(), opset, options);
  if (failed(importer.importInto(*module)))
    return nullptr;
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp> mlir::parc::importOnnxModel(MLIRContext &context,
                                                  StringRef path,
                                                  const OnnxImportOptions &options) {
  context.loadDialect<ParcDialect, func::FuncDialect>();
  Location fileLoc = FileLineColLoc::get(&context, path, 0, 0);

  // Parse from the file descriptor rather than a mapping of the file, so the weights are
  // held once (in the parsed model) and not also as mapped file pages while parsing.
  uint64_t fileSize = 0;
  if (std::error_code error = llvm::sys::fs::file_size(path, fileSize)) {
    emitError(fileLoc) << "cannot read the model: " << error.message();
    return nullptr;
  }
  if (fileSize > static_cast<uint64_t>(INT32_MAX)) {
    emitError(fileLoc) << "the model file is over 2 GB; ONNX needs such models "
                          "saved with external data (onnx.save_model(..., "
                          "save_as_external_data=True))";
    return nullptr;
  }
  int fd = ::open(path.str().c_str(), O_RDONLY);
  if (fd < 0) {
    emitError(fileLoc) << "cannot read the model: " << std::strerror(errno);
    return nullptr;
  }
  auto model = std::make_shared<onnx::ModelProto>();
  bool parsed = model->ParseFromFileDescriptor(fd);
  ::close(fd);
  if (!parsed) {
    emitError(fileLoc) << "not a valid ONNX model (the file does not parse as "
                          "an ONNX ModelProto with a graph)";
    return nullptr;
  }
  return importParsedModel(context, std::move(model), path, options);
}

OwningOpRef<ModuleOp> mlir::parc::importOnnxModelBytes(MLIRContext &context,
                                                       StringRef bytes, StringRef path,
                                                       const OnnxImportOptions &options) {
  context.loadDialect<ParcDialect, func::FuncDialect>();
  auto model = std::make_shared<onnx::ModelProto>();
  if (bytes.size() > static_cast<size_t>(INT32_MAX) ||
      !model->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    emitError(FileLineColLoc::get(&context, path, 0, 0))
        << "not a valid ONNX model (the file does not parse as an ONNX ModelProto with a "
           "graph)";
    return nullptr;
  }
  return importParsedModel(context, std::move(model), path, options);
}

SmallVector<StringRef> mlir::parc::getSupportedOnnxOps() {
  llvm::StringMap<OpConverter> converters;
  registerMathConverters(converters);
  registerDataMovementConverters(converters);
  registerContractionConverters(converters);
  SmallVector<StringRef> names;
  for (const auto &entry : converters)
    names.push_back(entry.getKey());
  llvm::sort(names);
  // The keys belong to the local map; intern them in static storage.
  static llvm::StringSet<> interned;
  for (StringRef &name : names)
    name = interned.insert(name).first->getKey();
  return names;
}
