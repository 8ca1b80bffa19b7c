//===- ReduceScatter.cpp - reduce-scatter as a ring over Gloo -------------===//
//
// Implements GlooCommunicator::reduceScatterSum. Gloo 0.5 has no option-based
// reduce-scatter (only the older ReduceScatterHalvingDoubling class, built per
// buffer), so this is a ring of size() - 1 steps over Gloo's unbound-buffer
// send/recv: each step every member passes one chunk of partial sums to the
// next member and adds the chunk it got from the previous one. Each member
// sends (size() - 1) / size() of the data, half of what an all-reduce moves.
// f16 and bf16 are carried in f32 and rounded once at the end.
//
//===----------------------------------------------------------------------===//

#include "GlooCommunicator.h"

#include "Accumulate.h"
#include "Reorder.h"
#include "Widen.h"

#include <gloo/transport/unbound_buffer.h>
#include <gloo/types.h>

#include <cstring>

namespace parc::rt::comm {

template <typename T>
Status GlooCommunicator::ringReduceScatter(T *work, int64_t chunk,
                                           const std::string &op) {
  int parts = size();
  int next = (groupRank + 1) % parts;
  int prev = (groupRank + parts - 1) % parts;
  size_t chunkBytes = static_cast<size_t>(chunk) * sizeof(T);
  uint64_t slot = gloo::Slot::build(kReduceScatterSlotPrefix, nextTag());
  std::vector<T> incoming(chunk);
  try {
    auto sendBuffer = state->context->createUnboundBuffer(
        work, chunkBytes * static_cast<size_t>(parts));
    auto recvBuffer =
        state->context->createUnboundBuffer(incoming.data(), chunkBytes);
    // At step s member r sends chunk r-1-s and receives chunk r-2-s, which it
    // sends on at step s+1; after the last step its chunk r holds the sum over
    // all members.
    for (int step = 0; step + 1 < parts; ++step) {
      int sendChunk = ((groupRank - 1 - step) % parts + parts) % parts;
      int recvChunk = ((groupRank - 2 - step) % parts + parts) % parts;
      recvBuffer->recv(prev, slot);
      sendBuffer->send(next, slot, sendChunk * chunkBytes, chunkBytes);
      if (!recvBuffer->waitRecv(state->timeout) ||
          !sendBuffer->waitSend(state->timeout))
        return state->error(op, "a transfer was aborted");
      T *sum = work + static_cast<int64_t>(recvChunk) * chunk;
      addElements(sum, sum, incoming.data(), incoming.size());
    }
  } catch (const std::exception &e) {
    return state->fail(op, e);
  }
  return Status();
}

namespace {

/// Copies `in` into `work` as [members][outer][part] (the member-major order of
/// the ring) from its [outer][members][part] layout, with elements of
/// `elementBytes` bytes.
void packParts(const void *in, void *work, int64_t outer, int members,
               int64_t count, size_t elementBytes) {
  if (outer == 1) {
    std::memcpy(work, in, static_cast<size_t>(count) * elementBytes);
    return;
  }
  size_t blockBytes =
      static_cast<size_t>(count / (outer * members)) * elementBytes;
  swapBlockDims(in, work, outer, members, blockBytes);
}

/// A copy of `count` elements of T at `in`, packed member-major for the ring;
/// chunk r of the copy is laid out as member r's part of the output.
template <typename T>
std::vector<T> packedCopy(const void *in, int64_t outer, int members,
                          int64_t count) {
  std::vector<T> work(count);
  packParts(in, work.data(), outer, members, count, sizeof(T));
  return work;
}

} // namespace

Status GlooCommunicator::reduceScatterSum(const TensorRef &in, int64_t axis,
                                          const TensorRef &out) {
  const std::string op = "reduceScatterSum";
  PARC_RETURN_IF_ERROR(state->checkUsable(op));
  PARC_RETURN_IF_ERROR(
      checkSplit(*state, op, out, "out", in, "in", axis, size()));
  if (in.dtype == DType::Bool)
    return state->error(op, "bool tensors cannot be summed");
  int64_t count = in.numElements();
  int64_t chunk = out.numElements();
  if (count == 0)
    return finishCall(Status());
  if (size() == 1) {
    std::memcpy(out.data, in.data, in.bytes());
    return finishCall(Status());
  }

  int64_t outer = outerCount(in.shape, axis);
  int parts = size();
  Status status;
  switch (in.dtype) {
  case DType::F32: {
    std::vector<float> work = packedCopy<float>(in.data, outer, parts, count);
    status = ringReduceScatter(work.data(), chunk, op);
    if (status.isOk())
      std::memcpy(out.data, work.data() + groupRank * chunk, out.bytes());
    break;
  }
  case DType::I32: {
    std::vector<int32_t> work =
        packedCopy<int32_t>(in.data, outer, parts, count);
    status = ringReduceScatter(work.data(), chunk, op);
    if (status.isOk())
      std::memcpy(out.data, work.data() + groupRank * chunk, out.bytes());
    break;
  }
  case DType::I64: {
    std::vector<int64_t> work =
        packedCopy<int64_t>(in.data, outer, parts, count);
    status = ringReduceScatter(work.data(), chunk, op);
    if (status.isOk())
      std::memcpy(out.data, work.data() + groupRank * chunk, out.bytes());
    break;
  }
  case DType::F16:
  case DType::BF16: {
    std::vector<float> wide(count);
    widenToF32(in.dtype, in.data, wide.data(), count);
    std::vector<float> work =
        packedCopy<float>(wide.data(), outer, parts, count);
    status = ringReduceScatter(work.data(), chunk, op);
    if (status.isOk())
      narrowFromF32(in.dtype, work.data() + groupRank * chunk, out.data, chunk);
    break;
  }
  case DType::Bool:
    break;
  }
  return finishCall(status);
}

} // namespace parc::rt::comm
