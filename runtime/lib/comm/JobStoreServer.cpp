//===- JobStoreServer.cpp - the job store in global rank 0's process ------===//
//
// One thread accepts connections, one thread per connection answers its requests (a run
// has tens of ranks, each with two connections), and one watches the heartbeats. All share
// the key-value map and the ranks' states under one mutex.
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/Rendezvous.h"

#include "JobStoreWire.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace parc::rt {

using namespace comm;
using Clock = std::chrono::steady_clock;

namespace {
/// A request is answered within this; a client that sends half a request and stops is
/// dropped after it.
constexpr double kRequestSeconds = 5;

enum class RankState { Unknown, Beating, Done };

struct RankRecord {
  RankState state = RankState::Unknown;
  Clock::time_point lastBeat;
  std::string where;
};
} // namespace

struct JobStoreServer::State {
  int listener = -1;
  int world = 0;
  int generation = 0;
  std::mutex lock;
  std::condition_variable changed;
  bool stopping = false;
  std::map<std::string, std::string> keys;
  std::vector<RankRecord> ranks;
  std::string abort;
  std::vector<int> connections;
  std::thread acceptor, watcher;
  std::vector<std::thread> servers;

  /// Sets the job's abort message unless it has one. Called with `lock` held.
  void abortWith(const std::string &message) {
    if (abort.empty())
      abort = message;
    changed.notify_all();
  }

  /// Answers one connection until it closes; a heartbeat connection that closes before
  /// its rank said it was done ends the job.
  void serve(int fd) {
    int beatingRank = -1;
    for (;;) {
      std::string op;
      std::vector<std::string> fields, reply;
      if (!receiveAll(fd, 1, op, 1e9) || !receiveFields(fd, fields, kRequestSeconds))
        break;
      {
        std::lock_guard<std::mutex> guard(lock);
        int rank = -1;
        if ((op[0] == 'B' || op[0] == 'D' || op[0] == 'F') && !fields.empty()) {
          rank = std::atoi(fields[0].c_str());
          if (rank < 0 || rank >= world)
            break;
        }
        switch (op[0]) {
        case 'H':
          reply = {jobStoreHello(generation)};
          break;
        case 'S':
          if (fields.size() == 2)
            keys[fields[0]] = fields[1];
          break;
        case 'G':
          if (auto found = keys.find(fields.empty() ? "" : fields[0]); found != keys.end())
            reply = {found->second};
          break;
        case 'B':
          beatingRank = rank;
          if (ranks[rank].state == RankState::Unknown)
            ranks[rank].state = RankState::Beating;
          ranks[rank].lastBeat = Clock::now();
          if (fields.size() > 1)
            ranks[rank].where = fields[1];
          reply = {abort};
          break;
        case 'D':
          ranks[rank].state = RankState::Done;
          changed.notify_all();
          break;
        case 'F':
          ranks[rank].state = RankState::Done;
          abortWith(fields.size() > 1 ? fields[1] : "rank " + fields[0] + " failed");
          break;
        default:
          break;
        }
      }
      if (!sendAll(fd, encodeFields(reply), kRequestSeconds))
        break;
    }
    std::lock_guard<std::mutex> guard(lock);
    if (beatingRank >= 0 && ranks[beatingRank].state == RankState::Beating && !stopping)
      abortWith(ranks[beatingRank].where +
                " ended or lost its connection to the job store before finishing");
  }

  /// Ends the job when a beating rank has been silent for kStaleSeconds (stopped, hung,
  /// or cut off from the network).
  void watch() {
    std::unique_lock<std::mutex> guard(lock);
    while (!stopping) {
      changed.wait_for(guard, std::chrono::milliseconds(250));
      Clock::time_point now = Clock::now();
      for (const RankRecord &rank : ranks)
        if (rank.state == RankState::Beating &&
            now - rank.lastBeat > std::chrono::duration<double>(kStaleSeconds)) {
          char seconds[32];
          std::snprintf(seconds, sizeof(seconds), "%g", kStaleSeconds);
          abortWith(rank.where + " stopped responding (no heartbeat for " + seconds +
                    " s: stopped, hung or cut off from the network)");
        }
    }
  }

  void accept() {
    for (;;) {
      pollfd ready{listener, POLLIN, 0};
      int polled = poll(&ready, 1, 100);
      {
        std::lock_guard<std::mutex> guard(lock);
        if (stopping)
          return;
      }
      if (polled <= 0)
        continue;
      int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0)
        continue;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      std::lock_guard<std::mutex> guard(lock);
      connections.push_back(fd);
      servers.emplace_back([this, fd] { serve(fd); });
    }
  }
};

JobStoreServer::JobStoreServer(std::unique_ptr<State> state) : state(std::move(state)) {}

std::unique_ptr<JobStoreServer> JobStoreServer::start(const std::string &host, int port,
                                                      int world, int generation,
                                                      Status &status) {
  std::string where = host + ":" + std::to_string(port);
  addrinfo hints{}, *found = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  int resolved = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (resolved != 0) {
    status = Status::error("--master-addr '" + host + "': " + gai_strerror(resolved));
    return nullptr;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  bool bound = fd >= 0 && ::bind(fd, found->ai_addr, found->ai_addrlen) == 0 &&
               ::listen(fd, 256) == 0;
  int error = errno;
  freeaddrinfo(found);
  if (!bound) {
    if (fd >= 0)
      ::close(fd);
    status = Status::error("global rank 0 cannot serve the job store on " + where + ": " +
                           std::strerror(error) +
                           (error == EADDRINUSE ? " (choose another --master-port)" : ""));
    return nullptr;
  }
  auto state = std::make_unique<State>();
  state->listener = fd;
  state->world = world;
  state->generation = generation;
  state->ranks.resize(world);
  for (int rank = 0; rank < world; ++rank)
    state->ranks[rank].where = "rank " + std::to_string(rank);
  State *raw = state.get();
  state->acceptor = std::thread([raw] { raw->accept(); });
  state->watcher = std::thread([raw] { raw->watch(); });
  status = Status::ok();
  return std::unique_ptr<JobStoreServer>(new JobStoreServer(std::move(state)));
}

bool JobStoreServer::waitUntilAllDone(double seconds) {
  std::unique_lock<std::mutex> guard(state->lock);
  return state->changed.wait_for(guard, std::chrono::duration<double>(seconds), [&] {
    if (!state->abort.empty())
      return true;
    for (const RankRecord &rank : state->ranks)
      if (rank.state != RankState::Done)
        return false;
    return true;
  });
}

JobStoreServer::~JobStoreServer() {
  {
    std::lock_guard<std::mutex> guard(state->lock);
    state->stopping = true;
    for (int fd : state->connections)
      ::shutdown(fd, SHUT_RDWR);
    state->changed.notify_all();
  }
  state->acceptor.join();
  state->watcher.join();
  for (std::thread &server : state->servers)
    server.join();
  for (int fd : state->connections)
    ::close(fd);
  ::close(state->listener);
}

} // namespace parc::rt
