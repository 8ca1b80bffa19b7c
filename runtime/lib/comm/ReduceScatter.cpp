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
#include <type_traits>

namespace parc::rt::comm {

template <typename T>
Status GlooCommunicator::ringReduceScatter(T *work, int64_t chunk, T *incoming,
                                           const std::string &op) {
  int parts = size();
  int next = (groupRank + 1) % parts;
  int prev = (groupRank + parts - 1) % parts;
  size_t chunkBytes = static_cast<size_t>(chunk) * sizeof(T);
  uint64_t slot = gloo::Slot::build(kReduceScatterSlotPrefix, nextTag());
  try {
    auto sendBuffer = state->context->createUnboundBuffer(
        work, chunkBytes * static_cast<size_t>(parts));
    auto recvBuffer =
        state->context->createUnboundBuffer(incoming, chunkBytes);
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
      addElements(sum, sum, incoming, static_cast<size_t>(chunk));
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
  // The ring works on a member-major copy of the input in the group's scratch,
  // reused from call to call (a fresh buffer as large as the input each call
  // costs its page faults, more than the transfer on a CPU); the received chunk
  // follows it.
  auto reduceScatter = [&](auto *typed) {
    using T = std::remove_pointer_t<decltype(typed)>;
    T *work = reinterpret_cast<T *>(
        state->scratch(static_cast<size_t>(count + chunk) * sizeof(T)));
    packParts(in.data, work, outer, parts, count, sizeof(T));
    status = ringReduceScatter(work, chunk, work + count, op);
    if (status.isOk())
      std::memcpy(out.data, work + groupRank * chunk, out.bytes());
  };
  switch (in.dtype) {
  case DType::F32:
    reduceScatter(static_cast<float *>(nullptr));
    break;
  case DType::I32:
    reduceScatter(static_cast<int32_t *>(nullptr));
    break;
  case DType::I64:
    reduceScatter(static_cast<int64_t *>(nullptr));
    break;
  case DType::F16:
  case DType::BF16: {
    // Summed in f32: widened first, then packed like an f32 input.
    std::vector<float> wide(count);
    widenToF32(in.dtype, in.data, wide.data(), count);
    float *work = reinterpret_cast<float *>(
        state->scratch(static_cast<size_t>(count + chunk) * sizeof(float)));
    packParts(wide.data(), work, outer, parts, count, sizeof(float));
    status = ringReduceScatter(work, chunk, work + count, op);
    if (status.isOk())
      narrowFromF32(in.dtype, work + groupRank * chunk, out.data, chunk);
    break;
  }
  case DType::Bool:
    break;
  }
  return finishCall(status);
}

} // namespace parc::rt::comm
