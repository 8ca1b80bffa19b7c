//===- MachineProfileFuzzer.cpp - fuzz the machine-profile parser ---------===//
//
// Input: the text of a machine profile (JSON, docs/planner.md). parseMachineProfile must
// either return a profile the cost model can use (positive peaks and bandwidths, so that
// no time it prices is infinite or NaN) or refuse it with an error naming the field.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"

#include "parc/Analysis/MachineProfile.h"

#include <cmath>

using namespace mlir::parc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  llvm::Expected<MachineProfile> profile = parseMachineProfile(text, "profile.json");
  if (!profile) {
    std::string message = llvm::toString(profile.takeError());
    FUZZ_CHECK(::parc::fuzz::isErrorMessage(message), message);
    ::parc::fuzz::refused();
    return 0;
  }
  // Whatever it accepted prices finite, positive times.
  FUZZ_CHECK(profile->devicesPerNode >= 1, std::to_string(profile->devicesPerNode));
  for (double flops : {1.0, 1e6, 1e12, 1e18}) {
    double efficiency = profile->device.gemmEfficiencyAt(flops);
    FUZZ_CHECK(std::isfinite(efficiency) && efficiency > 0, std::to_string(efficiency));
  }
  for (const LinkProfile *link : {&profile->intraNode, &profile->interNode}) {
    FUZZ_CHECK(std::isfinite(link->effectiveBandwidth()) && link->effectiveBandwidth() > 0,
               std::to_string(link->effectiveBandwidth()));
    FUZZ_CHECK(std::isfinite(link->latency) && link->latency >= 0, std::to_string(link->latency));
  }
  ::parc::fuzz::accepted();
  return 0;
}
