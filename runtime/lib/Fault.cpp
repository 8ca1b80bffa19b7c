//===- Fault.cpp - faults injected on purpose, for tests ------------------===//

#include "Fault.h"

#include <csignal>
#include <cstdlib>
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
  bool validAction = action == "abort" || action == "stop" || action == "error";
  if (fields.size() < 2 || fields.size() > 3 || fields[0].empty() ||
      fields[0].find_first_not_of("0123456789") != std::string::npos || !validAction)
    return Status::error(std::string("PARC_FAULT='") + value +
                         "': expected RANK:STEP|save[:abort|stop|error]");
  if (std::stoi(fields[0]) != rank || fields[1] != when)
    return Status::ok();
  if (action == "abort")
    std::abort();
  if (action == "stop") {
    std::raise(SIGSTOP);
    return Status::ok(); // continued by someone: go on
  }
  return Status::error("injected fault (PARC_FAULT=" + std::string(value) + ")");
}
