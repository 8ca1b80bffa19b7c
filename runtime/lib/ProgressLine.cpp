//===- ProgressLine.cpp - what a long compile or run is doing -------------===//

#include "parc/Runtime/ProgressLine.h"

#include <cstdio>
#include <unistd.h>

using namespace parc::rt;

ProgressLine::ProgressLine(std::string tool, bool quiet)
    : tool(std::move(tool)), quiet(quiet), terminal(isatty(STDERR_FILENO) == 1) {}

ProgressLine::~ProgressLine() { clear(); }

void ProgressLine::status(const std::string &text) {
  if (quiet || !terminal)
    return;
  // Carriage return, erase to the end of the line, the new text without a newline.
  std::fprintf(stderr, "\r\x1b[K%s: %s", tool.c_str(), text.c_str());
  std::fflush(stderr);
  showingStatus = true;
}

void ProgressLine::finished(const std::string &text) {
  if (quiet)
    return;
  if (showingStatus)
    std::fputs("\r\x1b[K", stderr);
  showingStatus = false;
  std::fprintf(stderr, "%s: %s\n", tool.c_str(), text.c_str());
  std::fflush(stderr);
}

void ProgressLine::clear() {
  if (!showingStatus)
    return;
  std::fputs("\r\x1b[K", stderr);
  std::fflush(stderr);
  showingStatus = false;
}

std::string parc::rt::formatDuration(double seconds) {
  char text[48];
  if (seconds < 1)
    std::snprintf(text, sizeof(text), "%.0f ms", seconds * 1e3);
  else if (seconds < 60)
    std::snprintf(text, sizeof(text), "%.1f s", seconds);
  else
    std::snprintf(text, sizeof(text), "%d min %02d s", static_cast<int>(seconds) / 60,
                  static_cast<int>(seconds) % 60);
  return text;
}
