//===- GlooCommunicator.cpp - collectives over Gloo -----------------------===//
//
// Implements GlooCommunicator's all-reduce, all-gather and barrier with Gloo's
// option-based collectives (gloo/allreduce.h, allgather.h, barrier.h), the
// group's error bookkeeping, and the shape checks shared by the collectives.
//
//===----------------------------------------------------------------------===//

#include "GlooCommunicator.h"

#include "Accumulate.h"
#include "GlooError.h"
#include "GlooGroup.h"
#include "Reorder.h"
#include "Widen.h"

#include <gloo/allgather.h>
#include <gloo/allreduce.h>
#include <gloo/barrier.h>

#include <algorithm>
#include <cstring>

namespace parc::rt::comm {

Status GroupState::error(const std::string &op,
                         const std::string &detail) const {
  return Status::error(op + " in " + name + ": " + detail);
}

Status GroupState::fail(const std::string &op,
                        const std::exception &exception) {
  Status status = error(op, "failed: " + glooMessage(exception) + peer);
  if (failure.isOk())
    failure = status;
  return status;
}

Status GroupState::checkUsable(const std::string &op) const {
  if (failure.isOk())
    return Status();
  return error(op, "the group is unusable after an earlier error (" +
                       failure.message() + ")");
}

Status checkData(const GroupState &state, const std::string &op,
                 const char *role, const TensorRef &tensor) {
  if (tensor.numElements() > 0 && !tensor.data)
    return state.error(op, std::string(role) + " has no memory");
  return Status();
}

Status checkSplit(const GroupState &state, const std::string &op,
                  const TensorRef &part, const char *partRole,
                  const TensorRef &whole, const char *wholeRole, int64_t &axis,
                  int parts) {
  if (part.dtype != whole.dtype)
    return state.error(op, std::string(partRole) + " is " +
                               dtypeName(part.dtype) + " but " + wholeRole +
                               " is " + dtypeName(whole.dtype));
  int64_t rank = whole.rank();
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return state.error(op, "axis " + std::to_string(axis) +
                               " is out of range for a " +
                               std::to_string(rank) + "-d tensor");
  Shape expected = whole.shape;
  if (expected[axis] % parts != 0)
    return state.error(op, std::string(wholeRole) + " has shape " +
                               formatShape(whole.shape) + ": dim " +
                               std::to_string(axis) + " does not split into " +
                               std::to_string(parts) + " equal parts");
  expected[axis] /= parts;
  if (part.shape != expected)
    return state.error(op, std::string(partRole) + " has shape " +
                               formatShape(part.shape) + " but " + wholeRole +
                               " " + formatShape(whole.shape) + " needs " +
                               formatShape(expected) + " along axis " +
                               std::to_string(axis) + " over " +
                               std::to_string(parts) + " members");
  PARC_RETURN_IF_ERROR(checkData(state, op, partRole, part));
  return checkData(state, op, wholeRole, whole);
}

GlooCommunicator::GlooCommunicator(std::vector<int> worldRanks, int groupRank,
                                   std::shared_ptr<gloo::Context> context,
                                   std::chrono::milliseconds timeout)
    : members(std::move(worldRanks)), groupRank(groupRank),
      state(std::make_shared<GroupState>()) {
  state->context = std::move(context);
  state->name = groupName(members);
  state->timeout = timeout;
  if (members.size() == 2)
    state->peer = " (the peer is rank " + std::to_string(members[1 - groupRank]) + ")";
}

GlooCommunicator::~GlooCommunicator() { (void)flush(); }

Status GlooCommunicator::flush() {
  Status first;
  for (CommRequest &send : backgroundSends) {
    Status status = send.wait();
    if (first.isOk() && !status.isOk())
      first = status;
  }
  backgroundSends.clear();
  return first;
}

Status GlooCommunicator::finishCall(Status status) {
  Status sends = flush();
  return status.isOk() ? sends : status;
}

namespace {

/// Sums `count` elements of T at `data` in place over the group.
template <typename T>
void glooAllReduceSum(const std::shared_ptr<gloo::Context> &context, T *data,
                      size_t count, uint32_t tag,
                      std::chrono::milliseconds timeout) {
  gloo::AllreduceOptions options(context);
  options.setOutput(data, count);
  options.setReduceFunction(&addUntyped<T>);
  options.setTag(tag);
  options.setTimeout(timeout);
  gloo::allreduce(options);
}

} // namespace

Status GlooCommunicator::allReduceSum(const TensorRef &tensor) {
  const std::string op = "allReduceSum";
  PARC_RETURN_IF_ERROR(state->checkUsable(op));
  PARC_RETURN_IF_ERROR(checkData(*state, op, "the tensor", tensor));
  if (tensor.dtype == DType::Bool)
    return state->error(op, "bool tensors cannot be summed");
  size_t count = static_cast<size_t>(tensor.numElements());
  if (size() == 1 || count == 0)
    return finishCall(Status());

  uint32_t tag = nextTag();
  try {
    switch (tensor.dtype) {
    case DType::F32:
      glooAllReduceSum(state->context, tensor.as<float>(), count, tag,
                       state->timeout);
      break;
    case DType::I32:
      glooAllReduceSum(state->context, tensor.as<int32_t>(), count, tag,
                       state->timeout);
      break;
    case DType::I64:
      glooAllReduceSum(state->context, tensor.as<int64_t>(), count, tag,
                       state->timeout);
      break;
    case DType::F16:
    case DType::BF16: {
      // Summed in f32 (Gloo has no bf16, and its f16 sum rounds at every step).
      std::vector<float> wide(count);
      widenToF32(tensor.dtype, tensor.data, wide.data(), wide.size());
      glooAllReduceSum(state->context, wide.data(), count, tag, state->timeout);
      narrowFromF32(tensor.dtype, wide.data(), tensor.data, wide.size());
      break;
    }
    case DType::Bool:
      break;
    }
  } catch (const std::exception &e) {
    return finishCall(state->fail(op, e));
  }
  return finishCall(Status());
}

Status GlooCommunicator::allGather(const TensorRef &in, int64_t axis,
                                   const TensorRef &out) {
  const std::string op = "allGather";
  PARC_RETURN_IF_ERROR(state->checkUsable(op));
  PARC_RETURN_IF_ERROR(
      checkSplit(*state, op, in, "in", out, "out", axis, size()));
  size_t partBytes = in.bytes();
  if (partBytes == 0)
    return finishCall(Status());
  if (size() == 1) {
    std::memcpy(out.data, in.data, partBytes);
    return finishCall(Status());
  }

  // Gloo concatenates the members' bytes (along axis 0). For another axis the
  // input is [outer][part row] and the output [outer][members][part row]: gather
  // a band of outer rows at a time into the group's scratch as
  // [members][rows][part row] and swap it into place, so that the scratch stays
  // small and warm instead of a fresh buffer as large as the output each call
  // (whose page faults cost more than the transfer on a CPU).
  int64_t outer = outerCount(in.shape, axis);
  size_t rowBytes = partBytes / static_cast<size_t>(outer);
  int64_t band = outer;
  char *gathered = static_cast<char *>(out.data);
  if (outer > 1) {
    band = std::max<int64_t>(
        1, static_cast<int64_t>(kGatherScratchBytes / (rowBytes * size())));
    band = std::min(band, outer);
    gathered = state->scratch(static_cast<size_t>(band) * rowBytes * size());
  }
  try {
    for (int64_t row = 0; row < outer; row += band) {
      int64_t rows = std::min(band, outer - row);
      size_t bandBytes = static_cast<size_t>(rows) * rowBytes;
      gloo::AllgatherOptions options(state->context);
      options.setInput(static_cast<char *>(in.data) + row * rowBytes, bandBytes);
      options.setOutput(outer > 1 ? gathered : static_cast<char *>(out.data),
                        bandBytes * size());
      options.setTag(nextTag());
      options.setTimeout(state->timeout);
      gloo::allgather(options);
      if (outer > 1)
        swapBlockDims(gathered, static_cast<char *>(out.data) + row * rowBytes * size(),
                      size(), rows, rowBytes);
    }
  } catch (const std::exception &e) {
    return finishCall(state->fail(op, e));
  }
  return finishCall(Status());
}

char *GroupState::scratch(size_t bytes) {
  if (bytes > scratchBytes) {
    scratchBuffer.reset(new char[bytes]); // Uninitialized: always written first.
    scratchBytes = bytes;
  }
  return scratchBuffer.get();
}

Status GlooCommunicator::barrier() {
  const std::string op = "barrier";
  PARC_RETURN_IF_ERROR(state->checkUsable(op));
  if (size() == 1)
    return finishCall(Status());
  try {
    gloo::BarrierOptions options(state->context);
    options.setTag(nextTag());
    options.setTimeout(state->timeout);
    gloo::barrier(options);
  } catch (const std::exception &e) {
    return finishCall(state->fail(op, e));
  }
  return finishCall(Status());
}

} // namespace parc::rt::comm
