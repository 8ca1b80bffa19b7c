//===- CommRequest.cpp - handles of transfers in flight -------------------===//
//
// Implements CommRequest (Communicator.h): a move-only owner of a transfer that
// waits for it at the latest when it is destroyed.
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/Communicator.h"

namespace parc::rt {

namespace {

/// A transfer that finished (or failed) before it started.
class FinishedRequest : public CommRequest::Impl {
public:
  explicit FinishedRequest(Status status) : status(std::move(status)) {}
  Status wait() override { return status; }

private:
  Status status;
};

} // namespace

CommRequest::CommRequest(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}

CommRequest CommRequest::finished(Status status) {
  return CommRequest(std::make_unique<FinishedRequest>(std::move(status)));
}

CommRequest &CommRequest::operator=(CommRequest &&other) noexcept {
  if (this != &other) {
    (void)wait();
    impl = std::move(other.impl);
  }
  return *this;
}

CommRequest::~CommRequest() { (void)wait(); }

Status CommRequest::wait() {
  if (!impl)
    return Status();
  std::unique_ptr<Impl> finishing = std::move(impl);
  return finishing->wait();
}

} // namespace parc::rt
