//===- CommContext.cpp - one rank's connection to the others --------------===//
//
// Implements CommContext (Communicator.h): opening the Gloo transport, creating
// and caching groups, and connecting the world group when a rank connects.
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/Communicator.h"

#include "GlooCommunicator.h"
#include "GlooError.h"
#include "GlooGroup.h"

#include <algorithm>
#include <csignal>
#include <functional>
#include <numeric>

namespace parc::rt {

namespace {

/// Makes writes to a socket whose peer died fail with EPIPE (which Gloo
/// reports) instead of killing the process, unless the process already chose
/// what SIGPIPE does.
void ignoreSigpipe() {
  struct sigaction current = {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 &&
      current.sa_handler == SIG_DFL && !(current.sa_flags & SA_SIGINFO)) {
    struct sigaction ignore = {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, nullptr);
  }
}

} // namespace

CommContext::CommContext(int rank, int world,
                         std::unique_ptr<Transport> transport)
    : myRank(rank), numRanks(world), transport(std::move(transport)) {}

CommContext::~CommContext() {
  // Groups first: they finish their background sends over the transport.
  groups.clear();
}

std::unique_ptr<CommContext>
CommContext::connect(int rank, int world, const std::string &rendezvousDir,
                     double timeoutSeconds, Status &status) {
  if (rendezvousDir.empty()) {
    status = Status::error("CommContext::connect: no rendezvous folder");
    return nullptr;
  }
  RendezvousOptions rendezvous;
  rendezvous.path = rendezvousDir;
  rendezvous.joinTimeoutSeconds = timeoutSeconds;
  return connect(rank, world, rendezvous, timeoutSeconds, status);
}

std::unique_ptr<CommContext>
CommContext::connect(int rank, int world, const RendezvousOptions &rendezvous,
                     double timeoutSeconds, Status &status) {
  std::string who =
      "rank " + std::to_string(rank) + " of " + std::to_string(world);
  if (world < 1 || rank < 0 || rank >= world) {
    status = Status::error("CommContext::connect: invalid " + who);
    return nullptr;
  }
  if (!(timeoutSeconds > 0) || !(rendezvous.joinTimeoutSeconds > 0)) {
    status = Status::error("CommContext::connect: the timeouts must be "
                           "positive, got " +
                           comm::formatSeconds(timeoutSeconds) + " and " +
                           comm::formatSeconds(rendezvous.joinTimeoutSeconds));
    return nullptr;
  }
  ignoreSigpipe();

  std::unique_ptr<Transport> transport;
  status = comm::openTransport(rank, rendezvous, timeoutSeconds, transport);
  if (!status.isOk()) {
    status = Status::error("CommContext::connect (" + who +
                           "): " + status.message());
    return nullptr;
  }
  std::unique_ptr<CommContext> context(
      new CommContext(rank, world, std::move(transport)));
  if (!context->world(status)) {
    status = Status::error("CommContext::connect: " + status.message());
    return nullptr;
  }
  return context;
}

Communicator *CommContext::group(const std::vector<int> &worldRanks,
                                 Status &status) {
  auto cached = groups.find(worldRanks);
  if (cached != groups.end()) {
    status = Status();
    return cached->second.get();
  }

  std::string name = comm::groupName(worldRanks);
  bool sorted =
      !worldRanks.empty() &&
      std::adjacent_find(worldRanks.begin(), worldRanks.end(),
                         std::greater_equal<int>()) == worldRanks.end();
  bool inRange = !worldRanks.empty() && worldRanks.front() >= 0 &&
                 worldRanks.back() < numRanks;
  if (!sorted || !inRange) {
    status = Status::error("creating " + name +
                           ": a group is a sorted list "
                           "of distinct world ranks below " +
                           std::to_string(numRanks));
    return nullptr;
  }
  auto self = std::find(worldRanks.begin(), worldRanks.end(), myRank);
  if (self == worldRanks.end()) {
    status = Status::error("creating " + name + ": world rank " +
                           std::to_string(myRank) + " is not a member");
    return nullptr;
  }

  std::shared_ptr<gloo::Context> glooContext;
  if (worldRanks.size() > 1) {
    status = comm::connectGroup(*transport, worldRanks, glooContext);
    if (!status.isOk())
      return nullptr;
  }
  auto communicator = std::make_unique<comm::GlooCommunicator>(
      worldRanks, static_cast<int>(self - worldRanks.begin()),
      std::move(glooContext), transport->timeout);
  // connectFullMesh returning on one member does not mean every member is
  // done: a member that went on and left at once (a rank with nothing to run)
  // would close its sockets under a peer still connecting ("Connection closed
  // by peer"). A barrier holds every member until all are connected.
  if (worldRanks.size() > 1) {
    status = communicator->barrier();
    if (!status.isOk()) {
      status = Status::error("creating " + name + ": " + status.message());
      return nullptr;
    }
  }
  Communicator *result = communicator.get();
  groups.emplace(worldRanks, std::move(communicator));
  status = Status();
  return result;
}

Communicator *CommContext::world(Status &status) {
  std::vector<int> all(numRanks);
  std::iota(all.begin(), all.end(), 0);
  return group(all, status);
}

} // namespace parc::rt
