//===- CollectiveQueue.h - one group's collectives on a thread of its own -*- C++ -*-===//
//
// Non-blocking all-reduces (parc.all_reduce_start / all_reduce_wait: data-parallel
// gradient buckets overlapping the backward pass) run on a background thread. A group's
// collectives must still run one at a time and in the same order on every member, so
// once a program has such a start, every collective of that group goes through the
// group's queue: a QueuedCommunicator hands each call to the queue's thread and waits for
// it, and a start hands its all-reduce over without waiting.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_LIB_COLLECTIVEQUEUE_H
#define PARC_RUNTIME_LIB_COLLECTIVEQUEUE_H

#include "parc/Runtime/Backend.h"
#include "parc/Runtime/Communicator.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace parc::artifact {
class Program;
} // namespace parc::artifact

namespace parc::rt {

/// A thread running submitted jobs one at a time, in order.
class CollectiveQueue {
public:
  CollectiveQueue();
  /// Finishes the jobs still queued, then stops the thread.
  ~CollectiveQueue();
  CollectiveQueue(const CollectiveQueue &) = delete;
  CollectiveQueue &operator=(const CollectiveQueue &) = delete;

  /// Queues `job`; the handle's wait() returns its result.
  CommRequest submit(std::function<Status()> job);

private:
  struct Job;
  class Handle;
  void loop();

  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::shared_ptr<Job>> jobs;
  bool stopping = false;
  std::thread thread;
};

/// `inner`, with every call run on `queue`'s thread (the caller waits for it).
class QueuedCommunicator : public Communicator {
public:
  QueuedCommunicator(Communicator &inner, CollectiveQueue &queue)
      : inner(inner), queue(queue) {}

  int rank() const override { return inner.rank(); }
  int size() const override { return inner.size(); }
  const std::vector<int> &worldRanks() const override { return inner.worldRanks(); }
  const std::string &name() const override { return inner.name(); }
  Status allReduceSum(const TensorRef &tensor) override;
  Status allGather(const TensorRef &in, int64_t axis, const TensorRef &out) override;
  Status reduceScatterSum(const TensorRef &in, int64_t axis, const TensorRef &out) override;
  Status send(const TensorRef &tensor, int peer, int tag) override;
  Status recv(const TensorRef &tensor, int peer, int tag) override;
  CommRequest isend(const TensorRef &tensor, int peer, int tag) override;
  CommRequest irecv(const TensorRef &tensor, int peer, int tag) override;
  Status flush() override;
  Status barrier() override;

  /// Starts the in-place sum of `tensor` without waiting for it.
  CommRequest allReduceSumAsync(const TensorRef &tensor);

private:
  Status run(std::function<Status()> call) { return queue.submit(std::move(call)).wait(); }

  Communicator &inner;
  CollectiveQueue &queue;
};

/// The non-blocking all-reduces of one rank's program: a queue per group that has them,
/// and the handles between each start and its wait.
class AsyncCollectives {
public:
  /// True for all_reduce_start and all_reduce_wait.
  static bool isAsync(const std::string &op);
  /// Makes a queue for every group an all_reduce_start of `program` names and returns
  /// `groups` with those groups' communicators going through their queue.
  CommunicatorGroups prepare(const parc::artifact::Program &program,
                             const CommunicatorGroups &groups);
  /// Binds an all_reduce_start (copy, then start the sum in the background) or an
  /// all_reduce_wait (finish it).
  Status bind(const parc::artifact::Instruction &inst, const std::vector<TensorRef> &operands,
              const std::vector<TensorRef> &results, BoundKernel &kernel);

private:
  // Declared in this order so that handles are finished before their queues stop.
  std::map<std::string, std::unique_ptr<CollectiveQueue>> queues;
  std::map<std::string, std::unique_ptr<QueuedCommunicator>> communicators;
  std::map<std::pair<std::string, int64_t>, std::shared_ptr<CommRequest>> slots;
};

} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_COLLECTIVEQUEUE_H
