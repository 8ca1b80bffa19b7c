//===- JobHeartbeat.cpp - one rank's heartbeat to the job store -----------===//

#include "parc/Runtime/Rendezvous.h"

#include "JobStoreClient.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace parc::rt {

using comm::JobStoreClient;

namespace {
/// Between heartbeats: a tenth of JobStoreServer::kStaleSeconds.
constexpr auto kBeatInterval = std::chrono::milliseconds(500);
/// How long the store may take to answer a heartbeat before this rank gives up on it.
constexpr double kBeatReplySeconds = 5;
} // namespace

struct JobHeartbeat::State {
  std::unique_ptr<JobStoreClient> store;
  std::string rank, where;
  std::function<void(const std::string &)> onAbort;
  std::mutex lock;
  std::condition_variable wake;
  bool stopping = false;
  std::thread beater;

  /// One heartbeat: the job's abort message (empty when none), or why the store did not
  /// answer.
  std::string beatOnce() {
    try {
      std::vector<std::string> reply = store->request('B', {rank, where}, kBeatReplySeconds);
      return reply.empty() ? std::string() : reply[0];
    } catch (const std::exception &e) {
      return std::string(e.what()) + ": global rank 0 has ended, hung or is cut off";
    }
  }

  void beat() {
    std::unique_lock<std::mutex> guard(lock);
    while (!stopping) {
      guard.unlock();
      std::string abort = beatOnce();
      guard.lock();
      if (stopping)
        return;
      if (!abort.empty()) {
        stopping = true;
        guard.unlock();
        onAbort(abort);
        return;
      }
      wake.wait_for(guard, kBeatInterval, [&] { return stopping; });
    }
  }

  /// Stops the thread (unless it is the caller) and sends one last request.
  void finish(char op, const std::vector<std::string> &fields) {
    {
      std::lock_guard<std::mutex> guard(lock);
      stopping = true;
      wake.notify_all();
    }
    if (beater.joinable() && beater.get_id() != std::this_thread::get_id())
      beater.join();
    try {
      store->request(op, fields, kBeatReplySeconds);
    } catch (const std::exception &) {
      // The store is gone: nobody is left to tell.
    }
  }
};

JobHeartbeat::JobHeartbeat(std::unique_ptr<State> state) : state(std::move(state)) {}

std::unique_ptr<JobHeartbeat>
JobHeartbeat::start(const std::string &host, int port, int generation, int rank,
                    const std::string &where,
                    double joinTimeoutSeconds,
                    std::function<void(const std::string &)> onAbort, Status &status) {
  auto state = std::make_unique<State>();
  state->store = JobStoreClient::connect(host, port, generation, joinTimeoutSeconds, status);
  if (!state->store)
    return nullptr;
  state->rank = std::to_string(rank);
  state->where = where;
  state->onAbort = std::move(onAbort);
  State *raw = state.get();
  state->beater = std::thread([raw] { raw->beat(); });
  return std::unique_ptr<JobHeartbeat>(new JobHeartbeat(std::move(state)));
}

JobHeartbeat::~JobHeartbeat() {
  {
    std::lock_guard<std::mutex> guard(state->lock);
    state->stopping = true;
    state->wake.notify_all();
  }
  if (state->beater.joinable()) {
    if (state->beater.get_id() == std::this_thread::get_id())
      state->beater.detach();
    else
      state->beater.join();
  }
}

void JobHeartbeat::fail(const std::string &message) {
  state->finish('F', {state->rank, message});
}

void JobHeartbeat::done() { state->finish('D', {state->rank}); }

std::string JobHeartbeat::abortMessage() { return state->beatOnce(); }

} // namespace parc::rt
