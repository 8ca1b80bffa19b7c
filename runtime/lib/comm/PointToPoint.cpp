//===- PointToPoint.cpp - send and receive over Gloo ----------------------===//
//
// Implements GlooCommunicator's point-to-point transfers with Gloo unbound
// buffers: a transfer posts UnboundBuffer::send/recv on a slot made of parc's
// prefix and the caller's tag, and finishes with waitSend/waitRecv under the
// group's timeout. Gloo's TCP transport only writes the data once the receiver
// posted its buffer, so transfers with different tags may be received in any
// order.
//
//===----------------------------------------------------------------------===//

#include "GlooCommunicator.h"

#include <gloo/transport/unbound_buffer.h>
#include <gloo/types.h>

namespace parc::rt::comm {

namespace {

/// A posted send or receive, finished by wait().
class GlooTransfer : public CommRequest::Impl {
public:
  GlooTransfer(std::shared_ptr<GroupState> state,
               std::unique_ptr<gloo::transport::UnboundBuffer> buffer,
               bool isSend, std::string op)
      : state(std::move(state)), buffer(std::move(buffer)), isSend(isSend),
        op(std::move(op)) {}

  Status wait() override {
    try {
      bool done = isSend ? buffer->waitSend(state->timeout)
                         : buffer->waitRecv(state->timeout);
      if (!done)
        return state->error(op, "the transfer was aborted");
    } catch (const std::exception &e) {
      return state->fail(op, e);
    }
    return Status();
  }

private:
  std::shared_ptr<GroupState> state;
  std::unique_ptr<gloo::transport::UnboundBuffer> buffer;
  bool isSend;
  std::string op;
};

} // namespace

Status
GlooCommunicator::startTransfer(bool isSend, const TensorRef &tensor, int peer,
                                int tag,
                                std::unique_ptr<CommRequest::Impl> &transfer) {
  std::string op = std::string(isSend ? "send to " : "recv from ") + "member " +
                   std::to_string(peer) + " (tag " + std::to_string(tag) + ")";
  PARC_RETURN_IF_ERROR(state->checkUsable(op));
  if (peer < 0 || peer >= size() || peer == groupRank)
    return state->error(op, "the peer must be another member of the " +
                                std::to_string(size()) + "-member group");
  if (tag < 0)
    return state->error(op, "tags must not be negative");
  PARC_RETURN_IF_ERROR(checkData(*state, op, "the tensor", tensor));
  if (tensor.bytes() == 0)
    return Status();
  try {
    auto buffer =
        state->context->createUnboundBuffer(tensor.data, tensor.bytes());
    uint64_t slot =
        gloo::Slot::build(kPointToPointSlotPrefix, static_cast<uint32_t>(tag));
    if (isSend)
      buffer->send(peer, slot);
    else
      buffer->recv(peer, slot);
    transfer = std::make_unique<GlooTransfer>(state, std::move(buffer), isSend,
                                              std::move(op));
  } catch (const std::exception &e) {
    return state->fail(op, e);
  }
  return Status();
}

CommRequest GlooCommunicator::isend(const TensorRef &tensor, int peer,
                                    int tag) {
  std::unique_ptr<CommRequest::Impl> transfer;
  Status status = startTransfer(true, tensor, peer, tag, transfer);
  if (!status.isOk())
    return CommRequest::finished(std::move(status));
  return CommRequest(std::move(transfer));
}

CommRequest GlooCommunicator::irecv(const TensorRef &tensor, int peer,
                                    int tag) {
  std::unique_ptr<CommRequest::Impl> transfer;
  Status status = startTransfer(false, tensor, peer, tag, transfer);
  if (!status.isOk())
    return CommRequest::finished(std::move(status));
  return CommRequest(std::move(transfer));
}

Status GlooCommunicator::send(const TensorRef &tensor, int peer, int tag) {
  std::unique_ptr<CommRequest::Impl> transfer;
  PARC_RETURN_IF_ERROR(startTransfer(true, tensor, peer, tag, transfer));
  // Finished by the next blocking call, after that call's own work: waiting
  // here, or before that work, would deadlock two members that send to each
  // other and then receive.
  if (transfer)
    backgroundSends.emplace_back(std::move(transfer));
  return Status();
}

Status GlooCommunicator::recv(const TensorRef &tensor, int peer, int tag) {
  std::unique_ptr<CommRequest::Impl> transfer;
  Status status = startTransfer(false, tensor, peer, tag, transfer);
  if (status.isOk() && transfer)
    status = transfer->wait();
  return finishCall(std::move(status));
}

} // namespace parc::rt::comm
