//===- CompileCommandLine.h - parc-compile's flags, parsed and checked -*- C++ -*-===//
//
// parc-compile's command line: the flags (llvm::cl options), and the checks that turn them
// into one validated request before any model is read. Kept apart from the driver so that
// the parsing can be fuzzed (fuzz/CompileCommandLineFuzzer.cpp) without compiling anything.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_TOOLS_PARC_COMPILE_COMPILECOMMANDLINE_H
#define PARC_TOOLS_PARC_COMPILE_COMPILECOMMANDLINE_H

#include "parc/Analysis/ParallelSearch.h"
#include "parc/Import/OnnxImporter.h"
#include "parc/Pipeline/CompilePipeline.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>

namespace mlir::parc {

/// The stage `--emit` stops after.
enum class EmitStage { Parc, Partitioned, Fused, Cuda, Planned, Artifact };

/// What one parc-compile invocation asks for, checked.
struct CompileCommand {
  std::string inputFile;
  std::string outputFile; // "-": stdout
  EmitStage emit = EmitStage::Artifact;
  bool printSupportedOps = false;
  bool printReport = false;
  bool planOnly = false;
  bool randomWeights = false;
  bool quiet = false; // --quiet: no progress lines
  std::string cudaArch;
  int64_t printWeightsUpTo = 1024;
  /// --devices given: the layout search chooses the degrees left unpinned.
  bool searching = false;
  /// The search runs: --devices, --plan-only or --plan-json (the last two price the given
  /// layout, every degree pinned).
  bool planning = false;
  std::string planJson;
  /// The machine profile to load (a built-in name or a file); empty when none is needed.
  std::string cluster;
  CompileOptions compile;
  SearchRequest search;
  OnnxImportOptions import;
};

/// Parses `argv` into parc-compile's flags. With `errors` null, a malformed flag prints
/// llvm::cl's message and exits, as every LLVM tool does; otherwise the message goes to
/// `errors` and the result is false. Each call starts from the flags' defaults.
bool parseCompileFlags(int argc, const char *const *argv, llvm::raw_ostream *errors = nullptr);

/// The parsed flags as one checked request; the error is one line naming the flag.
llvm::Expected<CompileCommand> readCompileCommand();

} // namespace mlir::parc

#endif // PARC_TOOLS_PARC_COMPILE_COMPILECOMMANDLINE_H
