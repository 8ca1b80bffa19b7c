//===- GlooError.cpp - Gloo exceptions as runtime messages ----------------===//
//
// Implements the helpers of GlooError.h.
//
//===----------------------------------------------------------------------===//

#include "GlooError.h"

#include <cstdio>

namespace parc::rt::comm {

std::string glooMessage(const std::exception &error) {
  std::string text = error.what();
  // Gloo prefixes `[./gloo/foo.cc:12] ` once per rethrow; drop all leading
  // ones.
  size_t start = 0;
  while (start < text.size() && text[start] == '[') {
    size_t close = text.find("] ", start);
    if (close == std::string::npos)
      break;
    start = close + 2;
  }
  text = text.substr(start);
  if (text.empty())
    text = "unknown Gloo error";
  return text;
}

std::string formatSeconds(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g s", seconds);
  return buffer;
}

} // namespace parc::rt::comm
