//===- ProcessMemory.cpp - how much memory this process holds -------------===//

#include "parc/Runtime/ProcessMemory.h"

#include <cstdio>
#include <fstream>
#include <unistd.h>
#include <string>

uint64_t parc::rt::peakResidentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stoull(line.substr(6)) * 1024; // reported in kB
  return 0;
}

uint64_t parc::rt::physicalMemoryBytes() {
  long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
  uint64_t bytes = pages > 0 && pageSize > 0
                       ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(pageSize)
                       : 0;
  // cgroup v2 ("max" when unlimited), then v1 (a huge number when unlimited).
  for (const char *path : {"/sys/fs/cgroup/memory.max",
                           "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream limitFile(path);
    std::string text;
    if (!(limitFile >> text) || text.empty() ||
        text.find_first_not_of("0123456789") != std::string::npos || text.size() > 19)
      continue;
    uint64_t limit = std::stoull(text);
    if (limit > 0 && (bytes == 0 || limit < bytes))
      bytes = limit;
  }
  return bytes;
}

std::string parc::rt::formatBytes(uint64_t bytes) {
  char text[32];
  if (bytes >= 1000000000ull)
    std::snprintf(text, sizeof(text), "%.1f GB", bytes / 1e9);
  else if (bytes >= 1000000ull)
    std::snprintf(text, sizeof(text), "%.1f MB", bytes / 1e6);
  else if (bytes >= 1000ull)
    std::snprintf(text, sizeof(text), "%.1f kB", bytes / 1e3);
  else
    std::snprintf(text, sizeof(text), "%llu bytes", static_cast<unsigned long long>(bytes));
  return text;
}
