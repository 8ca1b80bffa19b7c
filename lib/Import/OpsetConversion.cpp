//===- OpsetConversion.cpp - lift models of old opsets with libonnx -------===//
//
// parc's converters are written against opset 13 and later. Models of opsets 7 to 12 are
// first rewritten to opset 13 by libonnx's version converter, which adapts each node whose
// meaning changed on the way (Split's and ReduceSum's attributes becoming inputs, Softmax
// over the flattened trailing dims becoming Softmax along one axis, ...). Several adapters
// need the shapes of their inputs, so ONNX shape inference runs first. libonnx trusts its
// input: the model's wiring is checked first, and the whole lift runs in a child process,
// so that a model that still crashes libonnx costs an error, not parc-compile. A node that cannot be converted is named in the error.
//
//===----------------------------------------------------------------------===//

#include "OpsetConversion.h"

#include "onnx/shape_inference/implementation.h"
#include "onnx/version_converter/convert.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringRef.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

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
/// its use, within the names of the enclosing graphs `outer`; a graph input or output
/// without a tensor type), or "" when it is not. libonnx's converter dereferences the
/// missing definition or type.
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
  for (const auto *values : {&graph.input(), &graph.output()})
    for (const onnx::ValueInfoProto &value : *values)
      if (!value.type().has_tensor_type())
        return "graph input or output '" + value.name() + "' has no tensor type";
  return "";
}

/// What the lift of a model comes to: the lifted model, or why there is none.
struct LiftOutcome {
  bool lifted = false;
  std::string text; // the lifted model's bytes, or the error
};

/// ONNX's shape inference and version converter on `model`, in this process. (Not ONNX's
/// checker: libonnx's is older than the exporters and refuses their newer IR versions and
/// what parc accepts anyway, such as outputs without shapes.)
static LiftOutcome liftHere(const onnx::ModelProto &model) {
  LiftOutcome outcome;
  onnx::ModelProto typed = model;
  try {
    onnx::shape_inference::InferShapes(typed);
    outcome.text = onnx::version_conversion::ConvertVersion(typed, static_cast<int>(kLiftedOpset))
                       .SerializeAsString();
    outcome.lifted = true;
  } catch (const std::exception &error) {
    std::string cause = findUnconvertibleNode(typed);
    outcome.text = "cannot lift the model from its opset to opset " +
                   std::to_string(kLiftedOpset) + " with onnx's version converter: " +
                   (cause.empty() ? describeConversionError(error.what()) : cause);
  }
  return outcome;
}

/// liftHere in a child process: libonnx trusts its input, and some malformed models that
/// pass every check above crash its shape inference (a Conv with inconsistent attributes,
/// found by fuzzing); that must cost the user an error line, not parc-compile. The child
/// sends back one byte (1: lifted) and the model's bytes or the error.
static LiftOutcome liftInChildProcess(const onnx::ModelProto &model) {
  LiftOutcome outcome;
  int channel[2];
  if (pipe(channel) != 0) {
    outcome.text = std::string("cannot start the opset lift: ") + std::strerror(errno);
    return outcome;
  }
  std::fflush(nullptr);
  pid_t child = fork();
  if (child < 0) {
    close(channel[0]);
    close(channel[1]);
    outcome.text = std::string("cannot start the opset lift: ") + std::strerror(errno);
    return outcome;
  }
  if (child == 0) {
    close(channel[0]);
    // A crash here is reported by the parent in one line: no stack dump of LLVM's handlers
    // (or a sanitizer's), and nothing else on stderr.
    for (int crash : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT})
      std::signal(crash, SIG_DFL);
    if (int null = open("/dev/null", O_WRONLY); null >= 0)
      dup2(null, STDERR_FILENO);
    LiftOutcome lifted = liftHere(model);
    std::string message = std::string(1, lifted.lifted ? '\1' : '\0') + lifted.text;
    for (size_t sent = 0; sent < message.size();) {
      ssize_t n = write(channel[1], message.data() + sent, message.size() - sent);
      if (n <= 0 && errno != EINTR)
        _exit(1);
      sent += n > 0 ? static_cast<size_t>(n) : 0;
    }
    _exit(0); // no exit handlers: they belong to the parent's state
  }
  close(channel[1]);
  std::string message;
  char buffer[1 << 16];
  for (ssize_t n; (n = read(channel[0], buffer, sizeof(buffer))) != 0;) {
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      break;
    message.append(buffer, static_cast<size_t>(n));
  }
  close(channel[0]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0) ||
      message.empty()) {
    outcome.text = WIFSIGNALED(status)
                       ? "onnx's shape inference or version converter crashed on this model "
                         "(signal " + std::to_string(WTERMSIG(status)) + ", " +
                             strsignal(WTERMSIG(status)) +
                             "); it is malformed, or re-export it at opset 13 or later"
                       : std::string("the opset lift failed without a message");
    return outcome;
  }
  outcome.lifted = message[0] == '\1';
  outcome.text = message.substr(1);
  return outcome;
}

LogicalResult mlir::parc::liftToSupportedOpset(onnx::ModelProto &model, Location fileLoc) {
  if (std::string why = findUndefinedName(model.graph(), {}); !why.empty()) {
    emitError(fileLoc) << "not a valid ONNX model: " << why;
    return failure();
  }
  LiftOutcome outcome = liftInChildProcess(model);
  if (outcome.lifted && model.ParseFromString(outcome.text))
    return success();
  emitError(fileLoc) << (outcome.lifted ? "the lifted model does not parse" : outcome.text);
  return failure();
}
