//===- MachineProfile.h - the machine a plan is priced on -------*- C++ -*-===//
//
// A machine profile describes a cluster for the cost model: one kind of device (peak
// FLOP/s per element type, memory size and bandwidth, how close GEMMs get to peak), how
// many sit in a node, the links inside and between nodes, and the collective algorithm.
// Profiles are JSON files (docs/planner.md, "Machine profiles"); `dgx-a100` and `dgx-h100`
// are built in, with every number's source in docs/planner.md.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_ANALYSIS_MACHINEPROFILE_H
#define PARC_ANALYSIS_MACHINEPROFILE_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <map>
#include <string>

namespace mlir::parc {

/// One point of a GEMM efficiency curve: GEMMs of `flops` reach `efficiency` of peak.
struct GemmEfficiencyPoint {
  double flops = 0;
  double efficiency = 0;
};

struct DeviceProfile {
  std::string name;
  /// Dense peak FLOP/s by element type: "f32", "tf32", "f16", "bf16".
  std::map<std::string, double> peakFlops;
  double memoryBytes = 0;
  /// Bytes per second of device memory, and the fraction of it streaming kernels reach.
  double memoryBandwidth = 0;
  double memoryEfficiency = 1;
  /// The fraction of the streaming rate a transpose that moves the innermost dim reaches
  /// (its reads or its writes are strided).
  double transposeEfficiency = 1;
  /// Whether the device's GEMM library reads an operand transposed in place (cuBLAS's
  /// transpose flags), so a transpose of the last two dims feeding only GEMMs costs nothing.
  bool gemmTransposesOperands = false;
  /// Seconds a kernel costs however small it is (launch and tail).
  double kernelLatency = 0;
  /// Sorted by flops; the efficiency between points is interpolated in log(flops), and
  /// held constant beyond the first and last.
  llvm::SmallVector<GemmEfficiencyPoint> gemmEfficiency;

  /// The efficiency a GEMM of `flops` reaches.
  double gemmEfficiencyAt(double flops) const;
};

/// A link between two devices: per-direction bandwidth (bytes/s), the fraction of it
/// collectives reach (NCCL's bus bandwidth over the link's), and the latency of one step.
struct LinkProfile {
  double bandwidth = 0;
  double efficiency = 1;
  double latency = 0;

  double effectiveBandwidth() const { return bandwidth * efficiency; }
};

struct MachineProfile {
  std::string name;
  std::string description;
  DeviceProfile device;
  int64_t devicesPerNode = 1;
  /// The memory bandwidth the devices of a node share (bytes/s), when they share one (a
  /// CPU's cores and its DRAM); 0 when each device has its own (GPUs).
  double nodeMemoryBandwidth = 0;
  LinkProfile intraNode;
  LinkProfile interNode;
  /// How all-reduce, all-gather and reduce-scatter move data; "ring" is the one priced.
  std::string collectiveAlgorithm = "ring";

  /// The link a group of `ranks` consecutive devices communicates over: inside one node
  /// when it fits there, across nodes otherwise.
  const LinkProfile &linkFor(int64_t ranks) const {
    return ranks <= devicesPerNode ? intraNode : interNode;
  }

  /// The device as each of `ranks` busy devices sees it: with node_memory_bandwidth, the
  /// devices busy in one node share it (min(ranks, devices_per_node) of them).
  DeviceProfile deviceAmong(int64_t ranks) const;
};

/// Parses and checks a profile; an error names the field (`device.memory_bytes: expected
/// a positive number`) and, with `source`, the file.
llvm::Expected<MachineProfile> parseMachineProfile(llvm::StringRef json,
                                                   llvm::StringRef source = "");

/// The names of the built-in profiles, and the JSON text of one (empty if unknown).
llvm::SmallVector<llvm::StringRef> builtinMachineProfileNames();
llvm::StringRef builtinMachineProfileJson(llvm::StringRef name);

/// A built-in profile by name, `cpu-local`, or a file by path; an unknown name that is
/// not a file is an error listing the built-in names. `cpu-local` is this machine as
/// parc-calibrate measures it, cached per machine (cpuLocalProfilePath); when there is
/// no cached measurement yet, `calibrator` (the parc-calibrate executable) makes one.
llvm::Expected<MachineProfile> loadMachineProfile(llvm::StringRef nameOrPath,
                                                  llvm::StringRef calibrator = "");

/// Where this machine's cpu-local profile is cached: `$PARC_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/parc`, else `~/.cache/parc`; the file `cpu-local-HOSTNAME.json`.
std::string cpuLocalProfilePath();

} // namespace mlir::parc

#endif // PARC_ANALYSIS_MACHINEPROFILE_H
