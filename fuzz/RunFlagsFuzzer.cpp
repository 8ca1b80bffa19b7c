//===- RunFlagsFuzzer.cpp - fuzz parc-run's command-line parsing ----------===//
//
// Input: arguments separated by NUL bytes (at most 64 of them). parseLaunchOptions must
// accept them or refuse them with an error naming the flag; it reads no file itself.
//
//===----------------------------------------------------------------------===//

#include "FuzzArguments.h"
#include "FuzzCheck.h"

#include "LaunchOptions.h"

using namespace parc::rt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ::parc::fuzz::Arguments arguments(data, size, "parc-run");
  LaunchOptions options;
  Status status = parseLaunchOptions(arguments.argc(), arguments.argv(), options);
  if (!status.isOk()) {
    FUZZ_CHECK(::parc::fuzz::isErrorMessage(status.message()), status.message());
    ::parc::fuzz::refused();
    return 0;
  }
  // --cuda-libraries takes no artifact, and refuses one; --print-env takes one or none.
  FUZZ_CHECK(options.help || options.printEnv ||
                 options.cudaLibraries != !options.artifact.empty(),
             "accepted without an artifact, or --cuda-libraries with one");
  FUZZ_CHECK(options.repeat >= 1 && options.nproc >= 0 && options.threads >= 0 &&
                 options.steps >= 0 && options.timeoutSeconds >= 0,
             "a count out of range");
  // Runs across machines and restarts.
  FUZZ_CHECK(options.nnodes >= 1 && options.nprocPerNode >= 0 && options.masterPort >= 0 &&
                 options.masterPort <= 65535 && options.rendezvousTimeoutSeconds > 0 &&
                 options.maxRestarts >= 0 && options.saveEvery >= 0,
             "a multi-node count out of range");
  FUZZ_CHECK(options.help || options.saveEvery == 0 || !options.saveDir.empty(),
             "--save-every without --save");
  FUZZ_CHECK(options.help || options.worker || options.nnodes > 1 ||
                 (options.nodeRank <= 0 && options.nprocPerNode == 0),
             "--node-rank or --nproc-per-node accepted without --nnodes");
  FUZZ_CHECK(!options.worker || options.rank >= 0, std::to_string(options.rank));
  ::parc::fuzz::accepted();
  return 0;
}
