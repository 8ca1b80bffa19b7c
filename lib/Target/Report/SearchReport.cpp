//===- SearchReport.cpp - the layout search explained, as text and JSON ---===//

#include "parc/Target/Report/SearchReport.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::parc;

/// `412.0 KB`, `1.3 MB`, `77.2 GB` (decimal units, as device memory is quoted).
static std::string sizeText(double bytes) {
  const char *units[] = {"B", "KB", "MB", "GB", "TB"};
  int unit = 0;
  while (bytes >= 1000 && unit < 4) {
    bytes /= 1000;
    ++unit;
  }
  return llvm::formatv("{0:f1} {1}", bytes, units[unit]).str();
}

static void printCandidate(const LayoutCandidate &c, llvm::raw_ostream &os) {
  os << llvm::format("%10.3f ms  %8.3f TFLOP/s  bubble %4.1f%%  comm %9.3f ms  peak %9s",
                     c.stepSeconds * 1e3, c.modelFlopsPerDevice / 1e12,
                     c.bubbleFraction * 100, c.communicationSeconds * 1e3,
                     sizeText(c.peakMemory.total()).c_str())
     << "  " << c.describe() << "\n";
}

void mlir::parc::printSearchReport(const SearchResult &result, const MachineProfile &machine,
                                   const SearchRequest &request, llvm::raw_ostream &os) {
  os << "  layout search on " << machine.name << ": " << request.devices
     << (request.devices == 1 ? " device" : " devices") << ", global batch "
     << result.globalBatch << ", " << (request.train ? "training" : "inference") << " in "
     << computePrecisionName(request.precision) << "; " << result.evaluated
     << " layouts priced in " << llvm::format("%.2f", result.searchSeconds) << " s\n";
  const LayoutCandidate &best = result.best();
  os << "  chosen layout: " << best.describe() << "\n"
     << "  predicted step " << llvm::format("%.3f", best.stepSeconds * 1e3) << " ms ("
     << llvm::format("%.2f", best.modelFlopsPerDevice / 1e12)
     << " model TFLOP/s per device), peak memory per rank "
     << sizeText(best.peakMemory.total()) << " (weights " << sizeText(best.peakMemory.weights)
     << ", gradients " << sizeText(best.peakMemory.gradients) << ", optimizer "
     << sizeText(best.peakMemory.optimizerState) << ", activations "
     << sizeText(best.peakMemory.activations) << ", working "
     << sizeText(best.peakMemory.workspace) << ")\n";
  os << "  candidates (fastest first, the best of each tp x pp x dp):\n";
  for (auto [i, c] : llvm::enumerate(result.ranked)) {
    os << "    " << (i == 0 ? "* " : "  ");
    printCandidate(c, os);
  }
  for (const LayoutCandidate &c : result.rejected)
    os << "    rejected " << c.describe() << ": " << c.rejected << "\n";
}

static llvm::json::Object candidateJson(const LayoutCandidate &c) {
  return llvm::json::Object{
      {"tp", c.tp},
      {"pp", c.pp},
      {"dp", c.dp},
      {"microbatches", c.microbatches},
      {"schedule", c.schedule},
      {"virtual_stages", c.virtualStages},
      {"recompute", c.recompute},
      {"zero", c.zero},
      {"predicted_step_seconds", c.stepSeconds},
      {"compute_seconds", c.computeSeconds},
      {"communication_seconds", c.communicationSeconds},
      {"bubble_fraction", c.bubbleFraction},
      {"model_tflops_per_device", c.modelFlopsPerDevice / 1e12},
      {"peak_memory_bytes", c.peakMemory.total()},
      {"memory_bytes",
       llvm::json::Object{{"weights", c.peakMemory.weights},
                          {"gradients", c.peakMemory.gradients},
                          {"optimizer_state", c.peakMemory.optimizerState},
                          {"activations", c.peakMemory.activations},
                          {"working", c.peakMemory.workspace}}},
      {"fits", c.rejected.empty()},
      {"rejected", c.rejected},
  };
}

llvm::Error mlir::parc::writePlanJson(const SearchResult &result, const MachineProfile &machine,
                                      const SearchRequest &request, llvm::StringRef path) {
  llvm::json::Object plan = candidateJson(result.best());
  plan["cluster"] = machine.name;
  plan["devices"] = request.devices;
  plan["global_batch"] = result.globalBatch;
  plan["training"] = request.train;
  plan["precision"] = computePrecisionName(request.precision);
  plan["layouts_priced"] = result.evaluated;
  plan["search_seconds"] = result.searchSeconds;
  llvm::json::Array candidates;
  for (const LayoutCandidate &c : result.ranked)
    candidates.push_back(candidateJson(c));
  for (const LayoutCandidate &c : result.rejected)
    candidates.push_back(candidateJson(c));
  plan["candidates"] = std::move(candidates);

  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--plan-json " + path + ": " + why);
  };
  llvm::SmallString<256> temporary(path);
  temporary += ".tmp";
  {
    std::error_code error;
    llvm::raw_fd_ostream os(temporary, error);
    if (error)
      return fail(error.message());
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(plan))) << "\n";
    os.close();
    if (os.has_error()) {
      llvm::sys::fs::remove(temporary);
      return fail(os.error().message());
    }
  }
  if (std::error_code error = llvm::sys::fs::rename(temporary, path)) {
    llvm::sys::fs::remove(temporary);
    return fail(error.message());
  }
  return llvm::Error::success();
}
