//===- MachineProfile.cpp - machine profiles: JSON, checks, built-ins -----===//
//
// Reads a profile field by field, so that every error names the field it is about
// (`inter_node.bandwidth: expected a positive number`), and refuses keys it does not
// know, so that a misspelt field is not silently left at its default. The built-in
// profiles are JSON text read by the same code; docs/planner.md gives each number's source.
//
//===----------------------------------------------------------------------===//

#include "parc/Analysis/MachineProfile.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

#include <unistd.h>

#include <cmath>

using namespace mlir::parc;
namespace json = llvm::json;

double DeviceProfile::gemmEfficiencyAt(double flops) const {
  if (gemmEfficiency.empty())
    return 1;
  if (flops <= gemmEfficiency.front().flops)
    return gemmEfficiency.front().efficiency;
  if (flops >= gemmEfficiency.back().flops)
    return gemmEfficiency.back().efficiency;
  auto upper = llvm::find_if(gemmEfficiency,
                             [&](const GemmEfficiencyPoint &p) { return p.flops >= flops; });
  const GemmEfficiencyPoint &high = *upper, &low = *(upper - 1);
  // Differences of logarithms: ratios of points far apart (1e-298 and 1e68) overflow.
  double at = (std::log(flops) - std::log(low.flops)) /
              (std::log(high.flops) - std::log(low.flops));
  return low.efficiency + at * (high.efficiency - low.efficiency);
}

namespace {

/// Reads one JSON object's fields, naming each by its path in errors.
class FieldReader {
public:
  FieldReader(const json::Object &object, std::string path, std::string &error)
      : object(object), path(std::move(path)), error(error) {}

  std::string name(llvm::StringRef key) const {
    return path.empty() ? key.str() : path + "." + key.str();
  }
  bool fail(llvm::StringRef key, llvm::StringRef message) {
    if (error.empty())
      error = name(key) + ": " + message.str();
    return false;
  }
  bool has(llvm::StringRef key) const { return object.get(key) != nullptr; }

  /// A number in (low, high] (or [low, high] with `allowLow`); absent: `fallback`, or an
  /// error when there is none.
  bool number(llvm::StringRef key, double &into, std::optional<double> fallback,
              double low = 0, bool allowLow = false, double high = HUGE_VAL) {
    keys.push_back(key.str());
    const json::Value *value = object.get(key);
    if (!value) {
      if (!fallback)
        return fail(key, "is missing");
      into = *fallback;
      return true;
    }
    std::optional<double> parsed = value->getAsNumber();
    if (!parsed || !std::isfinite(*parsed) || *parsed > high ||
        (allowLow ? *parsed < low : *parsed <= low))
      return fail(key, high == 1 ? "expected a number in (0, 1]"
                       : allowLow ? "expected a number of at least 0"
                                  : "expected a positive number");
    into = *parsed;
    return true;
  }
  bool string(llvm::StringRef key, std::string &into, bool required) {
    keys.push_back(key.str());
    const json::Value *value = object.get(key);
    if (!value)
      return required ? fail(key, "is missing") : true;
    std::optional<llvm::StringRef> parsed = value->getAsString();
    if (!parsed)
      return fail(key, "expected a string");
    into = parsed->str();
    return true;
  }
  /// An optional true/false field.
  bool boolean(llvm::StringRef key, bool &into) {
    keys.push_back(key.str());
    const json::Value *value = object.get(key);
    if (!value)
      return true;
    std::optional<bool> parsed = value->getAsBoolean();
    if (!parsed)
      return fail(key, "expected true or false");
    into = *parsed;
    return true;
  }
  const json::Object *child(llvm::StringRef key) {
    keys.push_back(key.str());
    const json::Value *value = object.get(key);
    if (!value) {
      fail(key, "is missing");
      return nullptr;
    }
    if (!value->getAsObject())
      fail(key, "expected an object");
    return value->getAsObject();
  }
  const json::Array *array(llvm::StringRef key) {
    keys.push_back(key.str());
    const json::Value *value = object.get(key);
    if (!value) {
      fail(key, "is missing");
      return nullptr;
    }
    if (!value->getAsArray())
      fail(key, "expected an array");
    return value->getAsArray();
  }
  /// Refuses the keys no reader asked for.
  bool noOtherKeys() {
    for (const auto &entry : object)
      if (!llvm::is_contained(keys, entry.first.str()))
        return fail(entry.first.str(), "is not a field of this object");
    return true;
  }

private:
  const json::Object &object;
  std::string path;
  std::string &error;
  llvm::SmallVector<std::string> keys;
};

bool readLink(FieldReader &parent, llvm::StringRef key, LinkProfile &link,
              std::string &error) {
  const json::Object *object = parent.child(key);
  if (!object)
    return false;
  FieldReader fields(*object, parent.name(key), error);
  return fields.number("bandwidth", link.bandwidth, std::nullopt) &&
         fields.number("efficiency", link.efficiency, 1.0, 0, false, 1) &&
         fields.number("latency", link.latency, 0.0, 0, /*allowLow=*/true) &&
         fields.noOtherKeys();
}

bool readDevice(FieldReader &parent, DeviceProfile &device, std::string &error) {
  const json::Object *object = parent.child("device");
  if (!object)
    return false;
  FieldReader fields(*object, "device", error);
  if (!fields.string("name", device.name, /*required=*/true) ||
      !fields.number("memory_bytes", device.memoryBytes, std::nullopt) ||
      !fields.number("memory_bandwidth", device.memoryBandwidth, std::nullopt) ||
      !fields.number("memory_efficiency", device.memoryEfficiency, 1.0, 0, false, 1) ||
      !fields.number("transpose_efficiency", device.transposeEfficiency, 1.0, 0, false, 1) ||
      !fields.boolean("gemm_transposes_operands", device.gemmTransposesOperands) ||
      !fields.number("kernel_latency", device.kernelLatency, 0.0, 0, /*allowLow=*/true))
    return false;
  const json::Object *peaks = fields.child("peak_flops");
  if (!peaks)
    return false;
  FieldReader peakFields(*peaks, "device.peak_flops", error);
  for (llvm::StringRef type : {"f32", "tf32", "f16", "bf16"})
    if (peakFields.has(type) &&
        !peakFields.number(type, device.peakFlops[type.str()], std::nullopt))
      return false;
  if (device.peakFlops.empty())
    return fields.fail("peak_flops", "needs at least one of f32, tf32, f16, bf16");
  if (!peakFields.noOtherKeys())
    return false;
  const json::Array *curve = fields.array("gemm_efficiency");
  if (!curve)
    return false;
  if (curve->empty())
    return fields.fail("gemm_efficiency", "needs at least one [flops, efficiency] point");
  for (auto [i, point] : llvm::enumerate(*curve)) {
    const json::Array *pair = point.getAsArray();
    std::optional<double> flops = pair && pair->size() == 2 ? (*pair)[0].getAsNumber()
                                                            : std::nullopt;
    std::optional<double> efficiency =
        pair && pair->size() == 2 ? (*pair)[1].getAsNumber() : std::nullopt;
    std::string key = "gemm_efficiency[" + std::to_string(i) + "]";
    if (!flops || !efficiency || *flops <= 0 || *efficiency <= 0 || *efficiency > 1)
      return fields.fail(key, "expected [flops > 0, efficiency in (0, 1]]");
    if (!device.gemmEfficiency.empty() && *flops <= device.gemmEfficiency.back().flops)
      return fields.fail(key, "points must be in increasing flops");
    device.gemmEfficiency.push_back({*flops, *efficiency});
  }
  return fields.noOtherKeys();
}

// Every number's source: docs/planner.md, "Built-in profiles".
constexpr const char *kDgxA100 = R"json({
  "name": "dgx-a100",
  "description": "NVIDIA DGX A100 (Selene's nodes): 8 x A100-SXM4-80GB, NVSwitch, 8 x 200 Gb/s HDR InfiniBand",
  "device": {
    "name": "A100-SXM4-80GB",
    "peak_flops": {"f32": 19.5e12, "tf32": 156e12, "f16": 312e12, "bf16": 312e12},
    "memory_bytes": 85899345920,
    "memory_bandwidth": 2.039e12,
    "memory_efficiency": 0.85,
    "kernel_latency": 5e-6,
    "gemm_efficiency": [[1e12, 0.8]],
    "gemm_transposes_operands": true
  },
  "devices_per_node": 8,
  "intra_node": {"bandwidth": 300e9, "efficiency": 0.8, "latency": 5e-6},
  "inter_node": {"bandwidth": 25e9, "efficiency": 0.9, "latency": 10e-6},
  "collective_algorithm": "ring"
})json";

constexpr const char *kDgxH100 = R"json({
  "name": "dgx-h100",
  "description": "NVIDIA DGX H100: 8 x H100-SXM5-80GB, NVSwitch, 8 x 400 Gb/s NDR InfiniBand",
  "device": {
    "name": "H100-SXM5-80GB",
    "peak_flops": {"f32": 67e12, "tf32": 494e12, "f16": 989e12, "bf16": 989e12},
    "memory_bytes": 85899345920,
    "memory_bandwidth": 3.35e12,
    "memory_efficiency": 0.85,
    "kernel_latency": 5e-6,
    "gemm_efficiency": [[1e12, 0.8]],
    "gemm_transposes_operands": true
  },
  "devices_per_node": 8,
  "intra_node": {"bandwidth": 450e9, "efficiency": 0.8, "latency": 5e-6},
  "inter_node": {"bandwidth": 50e9, "efficiency": 0.9, "latency": 10e-6},
  "collective_algorithm": "ring"
})json";

} // namespace

llvm::Expected<MachineProfile> mlir::parc::parseMachineProfile(llvm::StringRef text,
                                                               llvm::StringRef source) {
  std::string prefix = source.empty() ? std::string() : source.str() + ": ";
  llvm::Expected<json::Value> parsed = json::parse(text);
  if (!parsed)
    return llvm::createStringError(prefix + "not valid JSON: " +
                                   llvm::toString(parsed.takeError()));
  const json::Object *root = parsed->getAsObject();
  if (!root)
    return llvm::createStringError(prefix + "expected a JSON object");
  MachineProfile profile;
  std::string error;
  FieldReader fields(*root, "", error);
  double devicesPerNode = 0;
  bool ok = fields.string("name", profile.name, /*required=*/true) &&
            fields.string("description", profile.description, /*required=*/false) &&
            readDevice(fields, profile.device, error) &&
            fields.number("devices_per_node", devicesPerNode, std::nullopt) &&
            fields.number("node_memory_bandwidth", profile.nodeMemoryBandwidth, 0.0, 0,
                          /*allowLow=*/true) &&
            readLink(fields, "intra_node", profile.intraNode, error) &&
            readLink(fields, "inter_node", profile.interNode, error) &&
            fields.string("collective_algorithm", profile.collectiveAlgorithm,
                          /*required=*/false);
  if (ok && (devicesPerNode != std::floor(devicesPerNode) || devicesPerNode > 1 << 20))
    ok = fields.fail("devices_per_node", "expected a whole number from 1 to 1048576");
  if (ok && profile.collectiveAlgorithm != "ring")
    ok = fields.fail("collective_algorithm",
                     "'" + profile.collectiveAlgorithm + "' is not priced; expected \"ring\"");
  if (ok)
    ok = fields.noOtherKeys();
  if (!ok)
    return llvm::createStringError(prefix + error);
  profile.devicesPerNode = static_cast<int64_t>(devicesPerNode);
  return profile;
}

DeviceProfile MachineProfile::deviceAmong(int64_t ranks) const {
  DeviceProfile shared = device;
  int64_t busy = std::clamp<int64_t>(ranks, 1, devicesPerNode);
  if (nodeMemoryBandwidth > 0)
    shared.memoryBandwidth =
        std::min(device.memoryBandwidth, nodeMemoryBandwidth / double(busy));
  return shared;
}

llvm::SmallVector<llvm::StringRef> mlir::parc::builtinMachineProfileNames() {
  return {"dgx-a100", "dgx-h100"};
}

llvm::StringRef mlir::parc::builtinMachineProfileJson(llvm::StringRef name) {
  if (name == "dgx-a100")
    return kDgxA100;
  if (name == "dgx-h100")
    return kDgxH100;
  return "";
}

std::string mlir::parc::cpuLocalProfilePath() {
  llvm::SmallString<256> directory;
  if (std::optional<std::string> dir = llvm::sys::Process::GetEnv("PARC_CACHE_DIR")) {
    directory = *dir;
  } else if (std::optional<std::string> xdg = llvm::sys::Process::GetEnv("XDG_CACHE_HOME")) {
    directory = *xdg;
    llvm::sys::path::append(directory, "parc");
  } else {
    llvm::sys::path::home_directory(directory);
    llvm::sys::path::append(directory, ".cache", "parc");
  }
  char host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  llvm::sys::path::append(directory, std::string("cpu-local-") + host + ".json");
  return std::string(directory);
}

/// The cached measurement of this machine, made first with `calibrator` (parc-calibrate
/// --quick, about a second) when there is none.
static llvm::Expected<MachineProfile> loadCpuLocal(llvm::StringRef calibrator) {
  std::string path = cpuLocalProfilePath();
  if (!llvm::sys::fs::exists(path)) {
    if (calibrator.empty() || !llvm::sys::fs::can_execute(calibrator))
      return llvm::createStringError(
          "cpu-local is measured on first use by parc-calibrate, which was not found "
          "beside this tool (or run parc-calibrate -o FILE and pass the file)");
    if (std::error_code error =
            llvm::sys::fs::create_directories(llvm::sys::path::parent_path(path)))
      return llvm::createStringError("cannot create the profile cache for " + path + ": " +
                                     error.message());
    llvm::errs() << "measuring this machine for the cpu-local profile (parc-calibrate "
                    "--quick, once; cached in "
                 << path << ")\n";
    std::string temporary = path + ".tmp" + std::to_string(::getpid());
    std::string message;
    llvm::StringRef args[] = {calibrator, "--quick", "-o", temporary};
    // Its summary line is ours to print (above); its errors still reach stderr.
    std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(""), std::nullopt};
    int status =
        llvm::sys::ExecuteAndWait(calibrator, args, std::nullopt, redirects, 120, 0, &message);
    if (status != 0 || !llvm::sys::fs::exists(temporary)) {
      llvm::sys::fs::remove(temporary);
      return llvm::createStringError("measuring cpu-local with " + calibrator.str() +
                                     " failed" + (message.empty() ? "" : ": " + message));
    }
    if (std::error_code error = llvm::sys::fs::rename(temporary, path)) {
      llvm::sys::fs::remove(temporary);
      return llvm::createStringError("cannot cache the cpu-local profile in " + path + ": " +
                                     error.message());
    }
  }
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file = llvm::MemoryBuffer::getFile(path);
  if (!file)
    return llvm::createStringError(path + ": cannot read the profile: " +
                                   file.getError().message());
  return parseMachineProfile((*file)->getBuffer(), path);
}

llvm::Expected<MachineProfile> mlir::parc::loadMachineProfile(llvm::StringRef nameOrPath,
                                                              llvm::StringRef calibrator) {
  if (llvm::StringRef text = builtinMachineProfileJson(nameOrPath); !text.empty())
    return parseMachineProfile(text, nameOrPath);
  if (nameOrPath == "cpu-local" && !llvm::sys::fs::exists(nameOrPath))
    return loadCpuLocal(calibrator);
  if (!llvm::sys::fs::exists(nameOrPath))
    return llvm::createStringError(
        "'" + nameOrPath.str() + "' is neither a built-in machine profile (" +
        llvm::join(builtinMachineProfileNames(), ", ") + ", cpu-local) nor a file");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(nameOrPath);
  if (!file)
    return llvm::createStringError(nameOrPath.str() + ": cannot read the profile: " +
                                   file.getError().message());
  return parseMachineProfile((*file)->getBuffer(), nameOrPath);
}
