//===- ProcessMemory.h - how much memory this process holds -----*- C++ -*-===//

#ifndef PARC_RUNTIME_PROCESSMEMORY_H
#define PARC_RUNTIME_PROCESSMEMORY_H

#include <cstdint>

namespace parc::rt {

/// The peak resident memory of this process image in bytes (VmHWM), or 0 when unknown.
/// Unlike getrusage's ru_maxrss it starts afresh at exec, so a tool started from a large
/// parent process does not report the parent's pages.
uint64_t peakResidentBytes();

} // namespace parc::rt

#endif // PARC_RUNTIME_PROCESSMEMORY_H
