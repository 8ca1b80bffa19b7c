//===- GlooGroup.cpp - the Gloo transport and group rendezvous ------------===//
//
// Implements GlooGroup.h: the TCP device, the FileStore, and the rendezvous
// that connects one group's Gloo context
// (gloo::rendezvous::Context::connectFullMesh over a PrefixStore named after
// the group).
//
//===----------------------------------------------------------------------===//

#include "GlooGroup.h"

#include "GlooError.h"
#include "JobStoreClient.h"

#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/prefix_store.h>
#include <gloo/rendezvous/redis_store.h>
#include <gloo/transport/tcp/device.h>

#include <algorithm>
#include <filesystem>
#include <sys/socket.h>
#include <system_error>

namespace parc::rt::comm {

namespace {

using Clock = std::chrono::steady_clock;

/// `0,2,4`: the member list in keys and names.
std::string joinRanks(const std::vector<int> &worldRanks) {
  std::string text;
  for (size_t i = 0; i < worldRanks.size(); ++i)
    text += (i ? "," : "") + std::to_string(worldRanks[i]);
  return text;
}

/// The store key under which group member `groupRank` announces itself.
std::string arrivalKey(int groupRank) {
  return "arrived/" + std::to_string(groupRank);
}

/// Whether `key` appears in `store` within `wait` (which must be positive: Gloo
/// reads a zero timeout as "wait forever").
bool appears(gloo::rendezvous::Store &store, const std::string &key,
             std::chrono::milliseconds wait) {
  try {
    store.wait({key}, std::max(wait, std::chrono::milliseconds(1)));
    return true;
  } catch (const std::exception &) {
    return false;
  }
}

} // namespace

Status openTransport(int worldRank, const RendezvousOptions &rendezvous,
                     double timeoutSeconds,
                     std::unique_ptr<CommContext::Transport> &transport) {
  auto milliseconds = [](double seconds) {
    return std::chrono::milliseconds(
        std::max<int64_t>(1, static_cast<int64_t>(seconds * 1000.0)));
  };
  auto result = std::make_unique<CommContext::Transport>();
  result->worldRank = worldRank;
  result->rendezvousDir = rendezvous.describe();
  result->timeoutSeconds = timeoutSeconds;
  result->timeout = milliseconds(timeoutSeconds);
  result->joinTimeoutSeconds = rendezvous.joinTimeoutSeconds;
  result->joinTimeout = milliseconds(rendezvous.joinTimeoutSeconds);

  PARC_RETURN_IF_ERROR(openStore(rendezvous, *result));
  try {
    gloo::transport::tcp::attr attr;
    attr.hostname = rendezvous.nodeAddress;
    attr.ai_family = AF_INET;
    result->device = gloo::transport::tcp::CreateDevice(attr);
  } catch (const std::exception &e) {
    return Status::error("cannot open the TCP transport on " + rendezvous.nodeAddress +
                         ": " + glooMessage(e));
  }
  transport = std::move(result);
  return Status();
}

Status openStore(const RendezvousOptions &rendezvous, CommContext::Transport &result) {
  using Kind = RendezvousOptions::Kind;
  if (rendezvous.kind == Kind::Folder || rendezvous.kind == Kind::File) {
    std::error_code error;
    std::filesystem::create_directories(rendezvous.path, error);
    if (error || !std::filesystem::is_directory(rendezvous.path))
      return Status::error("cannot create the rendezvous folder '" + rendezvous.path +
                           "': " + error.message());
  }
  try {
    switch (rendezvous.kind) {
    case Kind::Folder:
    case Kind::File:
      result.store = std::make_unique<gloo::rendezvous::FileStore>(rendezvous.path);
      break;
    case Kind::Redis:
      result.store =
          std::make_unique<gloo::rendezvous::RedisStore>(rendezvous.host, rendezvous.port);
      break;
    case Kind::Tcp: {
      Status status;
      result.store = JobStoreClient::connect(rendezvous.host, rendezvous.port,
                                             rendezvous.generation,
                                             rendezvous.joinTimeoutSeconds, status);
      if (!result.store)
        return status;
      break;
    }
    }
  } catch (const std::exception &e) {
    return Status::error("cannot open the rendezvous " + rendezvous.describe() + ": " +
                         glooMessage(e));
  }
  return Status();
}

} // namespace parc::rt::comm

namespace parc::rt {

Status exchangeWithRankZero(const RendezvousOptions &rendezvous, int rank,
                            const std::string &record, std::string &rankZeroRecord) {
  auto transport = std::make_unique<CommContext::Transport>();
  PARC_RETURN_IF_ERROR(comm::openStore(rendezvous, *transport));
  try {
    transport->store->set("parc-job/" + std::to_string(rank),
                          std::vector<char>(record.begin(), record.end()));
    std::string key = "parc-job/0";
    transport->store->wait({key}, std::chrono::milliseconds(std::max<int64_t>(
                                      1, static_cast<int64_t>(rendezvous.joinTimeoutSeconds * 1000))));
    std::vector<char> value = transport->store->get(key);
    rankZeroRecord.assign(value.begin(), value.end());
  } catch (const std::exception &e) {
    return Status::error("checking the job against rank 0's through " + rendezvous.describe() +
                         ": " + comm::glooMessage(e) + " (rank 0 has not joined within " +
                         comm::formatSeconds(rendezvous.joinTimeoutSeconds) +
                         ", --rendezvous-timeout)");
  }
  return Status::ok();
}

} // namespace parc::rt

namespace parc::rt::comm {

std::string groupName(const std::vector<int> &worldRanks) {
  return "group {" + joinRanks(worldRanks) + "}";
}

Status connectGroup(CommContext::Transport &transport,
                    const std::vector<int> &worldRanks,
                    std::shared_ptr<gloo::Context> &context) {
  int size = static_cast<int>(worldRanks.size());
  int groupRank = static_cast<int>(
      std::find(worldRanks.begin(), worldRanks.end(), transport.worldRank) -
      worldRanks.begin());
  std::string name = groupName(worldRanks);
  gloo::rendezvous::PrefixStore store("g:" + joinRanks(worldRanks),
                                      *transport.store);

  // Announce this member, then wait for the others with one deadline, so that a
  // member that never comes is named instead of surfacing as Gloo's anonymous
  // key timeout.
  Clock::time_point deadline = Clock::now() + transport.joinTimeout;
  try {
    std::string me = std::to_string(transport.worldRank);
    store.set(arrivalKey(groupRank), std::vector<char>(me.begin(), me.end()));
  } catch (const std::exception &e) {
    return Status::error("creating " + name + ": cannot write to '" +
                         transport.rendezvousDir + "': " + glooMessage(e));
  }
  std::vector<int> missing;
  for (int member = 0; member < size; ++member) {
    if (member == groupRank)
      continue;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    if (!appears(store, arrivalKey(member),
                 missing.empty() ? left : left.zero()))
      missing.push_back(worldRanks[member]);
  }
  if (!missing.empty()) {
    std::string ranks = joinRanks(missing);
    return Status::error(
        "creating " + name + " (world rank " +
        std::to_string(transport.worldRank) + "): timed out after " +
        formatSeconds(transport.joinTimeoutSeconds) + " waiting for world rank" +
        (missing.size() > 1 ? "s " : " ") + ranks + " to join (rendezvous '" +
        transport.rendezvousDir + "')");
  }

  auto glooContext =
      std::make_shared<gloo::rendezvous::Context>(groupRank, size);
  glooContext->setTimeout(transport.timeout);
  try {
    glooContext->connectFullMesh(store, transport.device);
  } catch (const std::exception &e) {
    return Status::error("creating " + name + " (world rank " +
                         std::to_string(transport.worldRank) +
                         "): connecting failed: " + glooMessage(e));
  }
  context = std::move(glooContext);
  return Status();
}

} // namespace parc::rt::comm
