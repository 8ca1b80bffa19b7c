//===- Fault.h - faults injected on purpose, for tests ----------*- C++ -*-===//
//
// PARC_FAULT=RANK:WHEN[:ACTION] makes rank RANK of a parc-run job fail on purpose, so that
// tests can check what the launcher does about it. WHEN is a step number (before that
// training step, or that inference run of --repeat, counting from 0) or `save` (before the
// checkpoint of --save is written). ACTION is `abort` (the default: the rank dies with
// SIGABRT, as a crash would), `kill` (SIGKILL: it vanishes without a word, as a node that
// loses power), `stop` (it sends itself SIGSTOP and hangs outside any collective until it
// is killed), `close` (it shuts down every socket it has, as a node whose network fails,
// and goes on) or `error` (it fails with an error message, as a rank that finds a problem
// does). Before acting the rank prints `parc-run: rank R: injecting PARC_FAULT=...` on
// stderr, so that a test can time how long the job takes to notice. Unset, nothing happens.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_LIB_FAULT_H
#define PARC_RUNTIME_LIB_FAULT_H

#include "parc/Runtime/Status.h"

#include <string>

namespace parc::rt {

/// Carries out PARC_FAULT if it names `rank` at `when` ("3", "save"); a malformed value is
/// an error naming it.
Status injectFault(int rank, const std::string &when);

} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_FAULT_H
