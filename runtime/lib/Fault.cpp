//===- Fault.cpp - faults injected on purpose, for tests ------------------===//

#include "Fault.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sstream>
#include <vector>

using namespace parc::rt;

Status parc::rt::injectFault(int rank, const std::string &when) {
  const char *value = std::getenv("PARC_FAULT");
  if (!value || !*value)
    return Status::ok();
  std::vector<std::string> fields;
  std::stringstream stream(value);
  for (std::string field; std::getline(stream, field, ':');)
    fields.push_back(field);
  std::string action = fields.size() == 3 ? fields[2] : "abort";
  bool validAction = action == "abort" || action == "kill" || action == "stop" ||
                     action == "close" || action == "error";
  if (fields.size() < 2 || fields.size() > 3 || fields[0].empty() ||
      fields[0].find_first_not_of("0123456789") != std::string::npos || !validAction)
    return Status::error(std::string("PARC_FAULT='") + value +
                         "': expected RANK:STEP|save[:abort|kill|stop|close|error]");
  if (std::stoi(fields[0]) != rank || fields[1] != when)
    return Status::ok();
  std::fprintf(stderr, "parc-run: rank %d: injecting PARC_FAULT=%s\n", rank, value);
  std::fflush(stderr);
  if (action == "abort")
    std::abort();
  if (action == "kill")
    std::raise(SIGKILL);
  if (action == "close") {
    std::error_code error;
    for (const auto &entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
      int fd = std::atoi(entry.path().filename().c_str());
      struct stat info;
      if (fstat(fd, &info) == 0 && S_ISSOCK(info.st_mode))
        shutdown(fd, SHUT_RDWR);
    }
    return Status::ok(); // the next transfer finds the connections gone
  }
  if (action == "stop") {
    std::raise(SIGSTOP);
    return Status::ok(); // continued by someone: go on
  }
  return Status::error("injected fault (PARC_FAULT=" + std::string(value) + ")");
}
