//===- OpsetConversion.cpp - lift models of old opsets with libonnx -------===//
//
// parc's converters are written against opset 13 and later. Models of opsets 7 to 12 are
// first rewritten to opset 13 by libonnx's version converter, which adapts each node whose
// meaning changed on the way (Split's and ReduceSum's attributes becoming inputs, Softmax
// over the flattened trailing dims becoming Softmax along one axis, ...). Several adapters
// need the shapes of their inputs, so ONNX shape inference runs first. The converter trusts
// its input, so the model's wiring and ONNX's checker vet the model before it. A node that cannot be converted is
// named in the error.
//
//===----------------------------------------------------------------------===//

#include "OpsetConversion.h"

#include "onnx/checker.h"
#include "onnx/shape_inference/implementation.h"
#include "onnx/version_converter/convert.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringRef.h"

#include <cstring>
#include <exception>
#include <set>

using namespace mlir;
using namespace mlir::parc;

/// libonnx's message without the locations of its failed checks, which nest: "file.h:53:
/// adapt_x: Assertion `cond` failed: file.h:259: find: <what>" gives "<what>".
static std::string describeConversionError(llvm::StringRef message) {
  for (bool stripped = true; stripped;) {
    stripped = false;
    message = message.trim();
    if (size_t at = message.find("failed: "); at != llvm::StringRef::npos) {
      message = message.drop_front(at + strlen("failed: "));
      stripped = true;
    } else if (message.starts_with("./") || message.starts_with("/")) {
      // "path:line: function: what" from a check that is not an assertion.
      message = message.split(": ").second.split(": ").second;
      stripped = true;
    }
  }
  return message.str();
}

/// The declared type of `name` in `graph` (an input, initializer or inferred value).
static onnx::ValueInfoProto describeValue(const onnx::GraphProto &graph,
                                          const std::string &name) {
  for (const auto *values : {&graph.input(), &graph.value_info(), &graph.output()})
    for (const onnx::ValueInfoProto &value : *values)
      if (value.name() == name)
        return value;
  onnx::ValueInfoProto value;
  value.set_name(name);
  for (const onnx::TensorProto &initializer : graph.initializer())
    if (initializer.name() == name) {
      onnx::TypeProto::Tensor *tensor = value.mutable_type()->mutable_tensor_type();
      tensor->set_elem_type(initializer.data_type());
      for (int64_t dim : initializer.dims())
        tensor->mutable_shape()->add_dim()->set_dim_value(dim);
    }
  return value;
}

/// Converts `typed`'s nodes one at a time, each alone in a model; returns the error of
/// the first that fails, naming it, or "" when each converts alone.
static std::string findUnconvertibleNode(const onnx::ModelProto &typed) {
  const onnx::GraphProto &graph = typed.graph();
  for (auto [index, node] : llvm::enumerate(graph.node())) {
    onnx::ModelProto single;
    single.set_ir_version(typed.ir_version());
    *single.mutable_opset_import() = typed.opset_import();
    onnx::GraphProto *alone = single.mutable_graph();
    alone->set_name("node");
    *alone->add_node() = node;
    for (const std::string &input : node.input())
      if (!input.empty())
        *alone->add_input() = describeValue(graph, input);
    for (const std::string &output : node.output())
      *alone->add_output() = describeValue(graph, output);
    try {
      onnx::version_conversion::ConvertVersion(single, static_cast<int>(kLiftedOpset));
    } catch (const std::exception &error) {
      std::string name = node.name().empty() ? "#" + std::to_string(index) : node.name();
      return "node '" + name + "' (" + node.op_type() +
             "): " + describeConversionError(error.what());
    }
  }
  return "";
}

/// Why `graph` is wired wrong (a node input or graph output that nothing defines before
/// its use, within the names of the enclosing graphs `outer`), or "" when it is not. ONNX's
/// checker lets such a graph through, and libonnx's converter dereferences the missing
/// definition.
static std::string findUndefinedName(const onnx::GraphProto &graph,
                                     std::set<std::string> defined) {
  for (const onnx::ValueInfoProto &input : graph.input())
    defined.insert(input.name());
  for (const onnx::TensorProto &initializer : graph.initializer())
    defined.insert(initializer.name());
  for (auto [index, node] : llvm::enumerate(graph.node())) {
    std::string label = "node '" + (node.name().empty() ? "#" + std::to_string(index)
                                                         : node.name()) +
                        "' (" + node.op_type() + ")";
    for (const std::string &input : node.input())
      if (!input.empty() && !defined.count(input))
        return label + " uses '" + input + "', which nothing defines before it";
    for (const onnx::AttributeProto &attribute : node.attribute()) {
      std::vector<const onnx::GraphProto *> bodies;
      if (attribute.has_g())
        bodies.push_back(&attribute.g());
      for (const onnx::GraphProto &body : attribute.graphs())
        bodies.push_back(&body);
      for (const onnx::GraphProto *body : bodies)
        if (std::string why = findUndefinedName(*body, defined); !why.empty())
          return label + ", attribute '" + attribute.name() + "': " + why;
    }
    for (const std::string &output : node.output())
      defined.insert(output);
  }
  for (const onnx::ValueInfoProto &output : graph.output())
    if (!defined.count(output.name()))
      return "graph output '" + output.name() + "' is computed by no node";
  return "";
}

LogicalResult mlir::parc::liftToSupportedOpset(onnx::ModelProto &model, Location fileLoc) {
  if (std::string why = findUndefinedName(model.graph(), {}); !why.empty()) {
    emitError(fileLoc) << "not a valid ONNX model: " << why;
    return failure();
  }
  // libonnx's converter trusts its input (a graph output without a type crashes it), so
  // the model is checked first; ONNX's checker throws on what the converter cannot take.
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception &error) {
    emitError(fileLoc) << "not a valid ONNX model (onnx's checker: "
                       << describeConversionError(error.what()) << ")";
    return failure();
  }
  onnx::ModelProto typed = model;
  try {
    onnx::shape_inference::InferShapes(typed);
    model = onnx::version_conversion::ConvertVersion(typed, static_cast<int>(kLiftedOpset));
    return success();
  } catch (const std::exception &error) {
    std::string cause = findUnconvertibleNode(typed);
    emitError(fileLoc) << "cannot lift the model from its opset to opset " << kLiftedOpset
                       << " with onnx's version converter: "
                       << (cause.empty() ? describeConversionError(error.what()) : cause);
    return failure();
  }
}
