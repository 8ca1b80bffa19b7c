//===- ProcessMemory.cpp - how much memory this process holds -------------===//

#include "parc/Runtime/ProcessMemory.h"

#include <fstream>
#include <string>

uint64_t parc::rt::peakResidentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stoull(line.substr(6)) * 1024; // reported in kB
  return 0;
}
