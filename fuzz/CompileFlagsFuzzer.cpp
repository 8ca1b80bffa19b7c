//===- CompileFlagsFuzzer.cpp - fuzz parc-compile's command-line parsing --===//
//
// Input: arguments separated by NUL bytes (FuzzArguments.h). parseCompileFlags and
// readCompileCommand must accept them as one checked request or refuse them with an error
// naming the flag; they read no model. Arguments that make any LLVM tool print and exit
// (-h and groups of one-letter options holding it, --help*, --version, --print-options,
// --print-all-options), read a response file (@FILE) or name an option of libLLVM's
// (-debug-counter) are skipped: they are llvm::cl's and LLVM's behaviour, not parc's.
//
//===----------------------------------------------------------------------===//

#include "FuzzArguments.h"
#include "FuzzCheck.h"

#include "CompileCommandLine.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir::parc;

/// Whether llvm::cl handles `argument` by printing and exiting, or by reading a file, or
/// whether it names one of the options libLLVM and libMLIR register for every tool
/// (-debug-counter, ...), which parc-compile hides and which may exit on their own.
static bool leavesTheParser(llvm::StringRef argument) {
  if (argument.starts_with("@"))
    return true;
  auto &options = llvm::cl::getRegisteredOptions();
  auto option = options.find(argument.ltrim('-').split('=').first);
  if (argument.starts_with("-") && option != options.end() &&
      option->second->getOptionHiddenFlag() != llvm::cl::NotHidden)
    return true;
  // -h is llvm::cl's alias of --help, and an unknown word of one-letter options is taken
  // as a group of them, up to the first that ends the parse (-Wh, --WWhe are -W -h; W, h
  // and o are the one-letter options).
  llvm::StringRef name = argument.ltrim('-').split('=').first;
  return argument.starts_with("-") &&
         (name.ltrim('W').starts_with("h") || name.starts_with("version") ||
          name.starts_with("print-options") || name.starts_with("print-all-options"));
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // One parse first hides the options that are not parc-compile's own.
  static bool hidden = [] {
    const char *program[] = {"parc-compile"};
    return parseCompileFlags(1, program, &llvm::nulls());
  }();
  (void)hidden;
  ::parc::fuzz::Arguments arguments(data, size, "parc-compile");
  for (const std::string &argument : arguments.all())
    if (leavesTheParser(argument))
      return 0;
  std::string clErrors;
  llvm::raw_string_ostream clStream(clErrors);
  if (!parseCompileFlags(arguments.argc(), arguments.argv(), &clStream)) {
    ::parc::fuzz::refused(); // llvm::cl's own message, as every LLVM tool prints it
    return 0;
  }
  llvm::Expected<CompileCommand> command = readCompileCommand();
  if (!command) {
    std::string message = llvm::toString(command.takeError());
    FUZZ_CHECK(::parc::fuzz::isErrorMessage(message), message);
    ::parc::fuzz::refused();
    return 0;
  }
  ::parc::fuzz::accepted();
  if (command->printSupportedOps)
    return 0;
  FUZZ_CHECK(!command->inputFile.empty(), "accepted without a model");
  FUZZ_CHECK(command->search.devices >= 1, std::to_string(command->search.devices));
  if (!command->searching)
    FUZZ_CHECK(validateCompileOptions(command->compile).empty(), "accepted an invalid layout");
  return 0;
}
