//===- GlooGroup.h - the Gloo transport and group rendezvous ----*- C++ -*-===//
//
// The per-process Gloo state behind a CommContext (one TCP device on 127.0.0.1
// and the FileStore in the rendezvous folder) and the collective creation of
// one group's Gloo context through it.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_COMM_GLOOGROUP_H
#define PARC_RUNTIME_COMM_GLOOGROUP_H

#include "parc/Runtime/Communicator.h"
#include "parc/Runtime/Rendezvous.h"

#include <gloo/context.h>
#include <gloo/rendezvous/file_store.h>
#include <gloo/transport/device.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace parc::rt {

/// The Gloo objects one process shares among all its groups.
struct CommContext::Transport {
  /// This process's rank in the run.
  int worldRank = 0;
  /// Where the ranks meet (a folder, file://, redis://, tcp://), for messages.
  std::string rendezvousDir;
  /// The limit of every blocking operation.
  std::chrono::milliseconds timeout{0};
  /// The same limit in seconds, for messages.
  double timeoutSeconds = 0;
  /// How long a group's members wait for each other to join.
  std::chrono::milliseconds joinTimeout{0};
  double joinTimeoutSeconds = 0;
  /// The TCP device (one listening address, one event loop thread).
  std::shared_ptr<gloo::transport::Device> device;
  /// The key-value store the groups meet in.
  std::unique_ptr<gloo::rendezvous::Store> store;
};

namespace comm {

/// Creates the TCP device on the rendezvous options' node address and the store they name
/// (a FileStore in a folder, created if needed; a RedisStore; the job store).
Status openTransport(int worldRank, const RendezvousOptions &rendezvous,
                     double timeoutSeconds,
                     std::unique_ptr<CommContext::Transport> &transport);

/// Opens the store `rendezvous` names into `transport.store`.
Status openStore(const RendezvousOptions &rendezvous, CommContext::Transport &transport);
/// `group {0,2,4}`: how messages name the group of these world ranks.
std::string groupName(const std::vector<int> &worldRanks);

/// Collectively connects this process to the other members of `worldRanks`
/// (sorted, holding this process's rank): every member announces itself under
/// the group's key prefix
/// (`g:0,2,4/`), waits until all others did (naming the missing ones on
/// timeout), then connects a full mesh of TCP pairs. Sets `context` to the
/// connected Gloo context.
Status connectGroup(CommContext::Transport &transport,
                    const std::vector<int> &worldRanks,
                    std::shared_ptr<gloo::Context> &context);

} // namespace comm
} // namespace parc::rt

#endif // PARC_RUNTIME_COMM_GLOOGROUP_H
