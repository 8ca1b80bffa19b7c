//===- Launcher.h - parc-run: spawning and supervising ranks ----*- C++ -*-===//
//
// parc-run validates the artifact and the inputs, starts one worker process per rank, waits
// for all of them, and on any rank's failure stops the others and reports that rank's error.
// Outputs are written by the ranks into a private folder and moved into --output-dir only
// when every rank succeeded, so a failed run leaves no output files behind. A training run
// needs no --output-dir (its results are the losses it prints and --save's checkpoint).
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_LAUNCHER_H
#define PARC_RUNTIME_LAUNCHER_H

namespace parc::rt {

/// The whole of parc-run's main: returns the process exit code.
int runParcRun(int argc, char **argv);

} // namespace parc::rt

#endif // PARC_RUNTIME_LAUNCHER_H
