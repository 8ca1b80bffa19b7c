//===- ProgressLine.h - what a long compile or run is doing -----*- C++ -*-===//
//
// parc-compile's stages and parc-run's training steps, on standard error. On a terminal a
// status line is redrawn in place while a stage runs and each finished stage stays as a
// line of its own; off a terminal (CI logs, pipes) only the finished lines are written,
// one per stage or step, without control characters. `--quiet` turns both off.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_PROGRESSLINE_H
#define PARC_RUNTIME_PROGRESSLINE_H

#include <string>

namespace parc::rt {

class ProgressLine {
public:
  /// Lines start with `tool` ("parc-compile"); nothing is written when `quiet`.
  ProgressLine(std::string tool, bool quiet);
  /// Erases a status line left on the terminal.
  ~ProgressLine();

  /// On a terminal, shows `text` as the status line (replacing the previous one).
  void status(const std::string &text);
  /// Writes `text` as a finished line ("tool: text"), in place of the status line.
  void finished(const std::string &text);
  /// Erases the status line (before an error message is printed).
  void clear();

  bool onTerminal() const { return terminal; }

private:
  std::string tool;
  bool quiet, terminal;
  bool showingStatus = false;
};

/// "1.2 s", "340 ms", "2 min 05 s": a duration as progress lines print it.
std::string formatDuration(double seconds);

} // namespace parc::rt

#endif // PARC_RUNTIME_PROGRESSLINE_H
