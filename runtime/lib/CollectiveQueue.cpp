//===- CollectiveQueue.cpp - one group's collectives on a thread of its own ----===//

#include "CollectiveQueue.h"

#include "parc/artifact/artifact.pb.h"

#include <cstring>

using namespace parc::rt;

struct CollectiveQueue::Job {
  std::function<Status()> work;
  std::mutex mutex;
  std::condition_variable done;
  bool finished = false;
  Status result;
};

/// The handle of a queued job: its wait() blocks until the queue's thread ran it.
class CollectiveQueue::Handle : public CommRequest::Impl {
public:
  explicit Handle(std::shared_ptr<Job> job) : job(std::move(job)) {}
  Status wait() override {
    std::unique_lock<std::mutex> lock(job->mutex);
    job->done.wait(lock, [&] { return job->finished; });
    return job->result;
  }

private:
  std::shared_ptr<Job> job;
};

CollectiveQueue::CollectiveQueue() : thread([this] { loop(); }) {}

CollectiveQueue::~CollectiveQueue() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  wake.notify_one();
  thread.join();
}

CommRequest CollectiveQueue::submit(std::function<Status()> work) {
  auto job = std::make_shared<Job>();
  job->work = std::move(work);
  {
    std::lock_guard<std::mutex> lock(mutex);
    jobs.push_back(job);
  }
  wake.notify_one();
  return CommRequest(std::make_unique<Handle>(std::move(job)));
}

void CollectiveQueue::loop() {
  while (true) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mutex);
      wake.wait(lock, [&] { return stopping || !jobs.empty(); });
      if (jobs.empty())
        return; // stopping, and nothing left
      job = std::move(jobs.front());
      jobs.pop_front();
    }
    Status result = job->work();
    {
      std::lock_guard<std::mutex> lock(job->mutex);
      job->result = std::move(result);
      job->finished = true;
    }
    job->done.notify_all();
  }
}

Status QueuedCommunicator::allReduceSum(const TensorRef &tensor) {
  return run([=] { return inner.allReduceSum(tensor); });
}
Status QueuedCommunicator::allGather(const TensorRef &in, int64_t axis, const TensorRef &out) {
  return run([=] { return inner.allGather(in, axis, out); });
}
Status QueuedCommunicator::reduceScatterSum(const TensorRef &in, int64_t axis,
                                            const TensorRef &out) {
  return run([=] { return inner.reduceScatterSum(in, axis, out); });
}
Status QueuedCommunicator::send(const TensorRef &tensor, int peer, int tag) {
  return run([=] { return inner.send(tensor, peer, tag); });
}
Status QueuedCommunicator::recv(const TensorRef &tensor, int peer, int tag) {
  return run([=] { return inner.recv(tensor, peer, tag); });
}
CommRequest QueuedCommunicator::isend(const TensorRef &tensor, int peer, int tag) {
  // Started and finished on the queue: the group's calls stay in order.
  return queue.submit([=] { return inner.isend(tensor, peer, tag).wait(); });
}
CommRequest QueuedCommunicator::irecv(const TensorRef &tensor, int peer, int tag) {
  return queue.submit([=] { return inner.irecv(tensor, peer, tag).wait(); });
}
Status QueuedCommunicator::flush() {
  return run([=] { return inner.flush(); });
}
Status QueuedCommunicator::barrier() {
  return run([=] { return inner.barrier(); });
}
CommRequest QueuedCommunicator::allReduceSumAsync(const TensorRef &tensor) {
  return queue.submit([=] { return inner.allReduceSum(tensor); });
}

bool AsyncCollectives::isAsync(const std::string &op) {
  return op == "all_reduce_start" || op == "all_reduce_wait";
}

CommunicatorGroups AsyncCollectives::prepare(const parc::artifact::Program &program,
                                             const CommunicatorGroups &groups) {
  CommunicatorGroups prepared = groups;
  for (const parc::artifact::Instruction &inst : program.instructions()) {
    if (inst.op() != "all_reduce_start")
      continue;
    const std::string &group = inst.collective().group();
    auto found = groups.find(group);
    if (found == groups.end() || !found->second || queues.count(group))
      continue;
    queues[group] = std::make_unique<CollectiveQueue>();
    communicators[group] = std::make_unique<QueuedCommunicator>(*found->second, *queues[group]);
    prepared[group] = communicators[group].get();
  }
  return prepared;
}

Status AsyncCollectives::bind(const parc::artifact::Instruction &inst,
                              const std::vector<TensorRef> &operands,
                              const std::vector<TensorRef> &results, BoundKernel &kernel) {
  const std::string &group = inst.collective().group();
  auto communicator = communicators.find(group);
  if (communicator == communicators.end())
    return Status::error("no communicator for group '" + group + "'");
  if (operands.size() != 1 || results.size() != 1)
    return Status::error("expects 1 operand and 1 result");
  std::shared_ptr<CommRequest> &slot = slots[{group, inst.collective().tag()}];
  if (!slot)
    slot = std::make_shared<CommRequest>();
  std::shared_ptr<CommRequest> request = slot;
  QueuedCommunicator *comm = communicator->second.get();
  TensorRef in = operands[0], out = results[0];
  if (inst.op() == "all_reduce_start")
    kernel = [=]() {
      if (out.data != in.data)
        std::memcpy(out.data, in.data, in.bytes());
      *request = comm->allReduceSumAsync(out);
      return Status::ok();
    };
  else
    kernel = [=]() { return request->wait(); };
  return Status::ok();
}
