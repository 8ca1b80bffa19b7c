//===- Trace.h - Chrome/Perfetto traces of a run ----------------*- C++ -*-===//
//
// `parc-run --trace trace.json`: every rank records when each instruction of its last run
// started and ended; the ranks' events are merged into one file in the Chrome trace event
// format, which Perfetto (ui.perfetto.dev) and chrome://tracing open. Each rank is a
// process ("rank 3: stage 1, tp 1"); its compute track shows every pipeline step
// ("F3 c1": the forward of microbatch 3 through chunk 1, from the end of the waits for its
// inputs to its last instruction) with its instructions nested inside, and transfers in flight (from a send or receive's start to its wait) are async
// spans beside it.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_LIB_TRACE_H
#define PARC_RUNTIME_LIB_TRACE_H

#include "parc/Runtime/Executor.h"

#include <string>

namespace parc::artifact {
class Manifest;
} // namespace parc::artifact

namespace parc::rt {

/// `text` as a JSON string: quoted, with quotes and backslashes escaped and control
/// characters dropped.
std::string quoted(const std::string &text);

/// The trace events of rank `rank`'s last traced run, as comma-separated JSON objects.
std::string rankTraceEvents(const parc::artifact::Manifest &manifest, int rank,
                            const Executor &executor);

/// The file a worker writes its events to.
std::string rankTraceFile(const std::string &workDir, int rank);

/// Merges the ranks' event files into one trace at `path` (written under a temporary name
/// and renamed into place).
Status writeMergedTrace(const std::string &workDir, int ranks, const std::string &path);

} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_TRACE_H
