//===- ProcessMemory.h - how much memory this process holds -----*- C++ -*-===//

#ifndef PARC_RUNTIME_PROCESSMEMORY_H
#define PARC_RUNTIME_PROCESSMEMORY_H

#include <cstdint>
#include <string>

namespace parc::rt {

/// The peak resident memory of this process image in bytes (VmHWM), or 0 when unknown.
/// Unlike getrusage's ru_maxrss it starts afresh at exec, so a tool started from a large
/// parent process does not report the parent's pages.
uint64_t peakResidentBytes();

/// The machine's physical memory in bytes (or the cgroup's limit, when a container sets a
/// smaller one). What a run needs beyond it is refused before anything is allocated.
uint64_t physicalMemoryBytes();

/// `bytes` for messages: "1.2 GB", "512 MB", "64 kB" or "12 bytes".
std::string formatBytes(uint64_t bytes);

} // namespace parc::rt

#endif // PARC_RUNTIME_PROCESSMEMORY_H
