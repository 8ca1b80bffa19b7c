//===- Transfers.cpp - binding pipeline sends and receives ----------------===//

#include "Transfers.h"

#include "parc/artifact/artifact.pb.h"

using namespace parc::rt;

std::shared_ptr<CommRequest> TransferTable::slot(bool send, int peer, int tag) {
  std::shared_ptr<CommRequest> &slot = slots[{send, peer, tag}];
  if (!slot)
    slot = std::make_shared<CommRequest>();
  return slot;
}

std::shared_ptr<std::vector<char>> TransferTable::stagingBuffer(bool send, int peer, int tag,
                                                               size_t bytes) {
  std::shared_ptr<std::vector<char>> &buffer = buffers[{send, peer, tag}];
  if (!buffer)
    buffer = std::make_shared<std::vector<char>>(bytes);
  return buffer;
}

bool parc::rt::isTransfer(const std::string &op) {
  return op == "send" || op == "send_wait" || op == "recv" || op == "recv_wait";
}

Status parc::rt::bindTransfer(const parc::artifact::Instruction &inst,
                              const std::vector<TensorRef> &operands,
                              const std::vector<TensorRef> &results,
                              Communicator *world, TransferTable &table,
                              Backend *staging, BoundKernel &kernel) {
  if (!world)
    return Status::error("a transfer needs other ranks, but this run has one");
  if (!inst.has_transfer())
    return Status::error("a transfer needs its peer and tag (TransferParams)");
  int peer = inst.transfer().peer();
  int tag = static_cast<int>(inst.transfer().tag());
  if (peer < 0 || peer >= world->size())
    return Status::error("peer " + std::to_string(peer) + " is not a rank of this run");
  const std::string &op = inst.op();
  bool send = op == "send" || op == "send_wait";
  std::shared_ptr<CommRequest> request = table.slot(send, peer, tag);
  if (op == "send" || op == "send_wait") {
    if (operands.size() != 1 || !results.empty())
      return Status::error("expects 1 operand and no result");
    TensorRef tensor = operands[0];
    if (op == "send" && staging) {
      auto buffer = table.stagingBuffer(true, peer, tag, tensor.bytes());
      kernel = [=]() {
        // The previous send from this buffer finished at its send_wait.
        PARC_RETURN_IF_ERROR(staging->download(buffer->data(), tensor.data, tensor.bytes()));
        *request = world->isend(TensorRef{buffer->data(), tensor.dtype, tensor.shape}, peer, tag);
        return Status::ok();
      };
    } else if (op == "send")
      kernel = [=]() {
        *request = world->isend(tensor, peer, tag);
        return Status::ok();
      };
    else
      kernel = [=]() { return request->wait(); };
    return Status::ok();
  }
  if (op == "recv") {
    if (!operands.empty() || results.size() != 1)
      return Status::error("expects no operand and 1 result");
    TensorRef tensor = results[0];
    if (staging)
      tensor.data = table.stagingBuffer(false, peer, tag, tensor.bytes())->data();
    kernel = [=]() {
      *request = world->irecv(tensor, peer, tag);
      return Status::ok();
    };
    return Status::ok();
  }
  if (operands.size() != 1 || results.size() != 1)
    return Status::error("expects 1 operand and 1 result");
  if (staging) {
    TensorRef tensor = results[0];
    auto buffer = table.stagingBuffer(false, peer, tag, tensor.bytes());
    kernel = [=]() {
      PARC_RETURN_IF_ERROR(request->wait());
      return staging->upload(tensor.data, buffer->data(), tensor.bytes());
    };
    return Status::ok();
  }
  kernel = [=]() { return request->wait(); };
  return Status::ok();
}
