//===- JobStoreClient.cpp - the job store's wire and its Gloo client ------===//

#include "JobStoreClient.h"
#include "JobStoreWire.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace parc::rt::comm {

namespace {
using Clock = std::chrono::steady_clock;

/// Milliseconds left until `deadline`, at least 0.
int millisecondsUntil(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1 << 30));
}

Clock::time_point after(double seconds) {
  return Clock::now() + std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
}
} // namespace

bool sendAll(int socket, const std::string &bytes, double seconds) {
  Clock::time_point deadline = after(seconds);
  size_t sent = 0;
  while (sent < bytes.size()) {
    pollfd ready{socket, POLLOUT, 0};
    int polled = poll(&ready, 1, millisecondsUntil(deadline));
    if (polled < 0 && errno == EINTR)
      continue;
    if (polled <= 0)
      return false;
    ssize_t n = ::send(socket, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n <= 0)
      return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

bool receiveAll(int socket, size_t size, std::string &bytes, double seconds) {
  Clock::time_point deadline = after(seconds);
  bytes.resize(size);
  size_t received = 0;
  while (received < size) {
    pollfd ready{socket, POLLIN, 0};
    int polled = poll(&ready, 1, millisecondsUntil(deadline));
    if (polled < 0 && errno == EINTR)
      continue;
    if (polled <= 0)
      return false;
    ssize_t n = ::recv(socket, bytes.data() + received, size - received, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n <= 0)
      return false;
    received += static_cast<size_t>(n);
  }
  return true;
}

std::string encodeFields(const std::vector<std::string> &fields) {
  std::string bytes(1, static_cast<char>(fields.size()));
  for (const std::string &field : fields) {
    uint32_t size = static_cast<uint32_t>(field.size());
    for (int shift = 0; shift < 32; shift += 8)
      bytes.push_back(static_cast<char>((size >> shift) & 0xff));
    bytes += field;
  }
  return bytes;
}

bool receiveFields(int socket, std::vector<std::string> &fields, double seconds) {
  Clock::time_point deadline = after(seconds);
  auto left = [&] { return std::max(0.0, millisecondsUntil(deadline) / 1000.0); };
  std::string count;
  if (!receiveAll(socket, 1, count, left()))
    return false;
  fields.assign(static_cast<unsigned char>(count[0]), std::string());
  for (std::string &field : fields) {
    std::string length;
    if (!receiveAll(socket, 4, length, left()))
      return false;
    uint32_t size = 0;
    for (int i = 3; i >= 0; --i)
      size = (size << 8) | static_cast<unsigned char>(length[i]);
    if (size > (1u << 30) || !receiveAll(socket, size, field, left()))
      return false;
  }
  return true;
}

int connectTo(const std::string &host, int port, std::string &error) {
  addrinfo hints{}, *found = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  int resolved = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (resolved != 0) {
    error = "cannot resolve '" + host + "': " + gai_strerror(resolved);
    return -1;
  }
  int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
    error = std::strerror(errno);
    ::close(fd);
    fd = -1;
  } else if (fd < 0) {
    error = std::strerror(errno);
  }
  freeaddrinfo(found);
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  return fd;
}

//===----------------------------------------------------------------------===//
// JobStoreClient
//===----------------------------------------------------------------------===//

/// How long one reply may take: the store answers at once, so longer means its process
/// is stopped or the network is gone.
constexpr double kReplySeconds = 5;

JobStoreClient::JobStoreClient(int socket, std::string where, double joinTimeoutSeconds)
    : socket(socket), where(std::move(where)),
      joinTimeout(static_cast<int64_t>(joinTimeoutSeconds * 1000)) {}

JobStoreClient::~JobStoreClient() { ::close(socket); }

std::unique_ptr<JobStoreClient> JobStoreClient::connect(const std::string &host, int port,
                                                        int generation,
                                                        double joinTimeoutSeconds,
                                                        Status &status) {
  std::string where = host + ":" + std::to_string(port);
  Clock::time_point deadline = after(joinTimeoutSeconds);
  std::string error;
  for (;;) {
    int fd = connectTo(host, port, error);
    if (fd >= 0) {
      std::vector<std::string> reply;
      std::string hello = jobStoreHello(generation);
      bool answered = sendAll(fd, std::string(1, 'H') + encodeFields({hello}), kReplySeconds) &&
                      receiveFields(fd, reply, kReplySeconds) && reply.size() == 1;
      if (answered && reply[0] == hello) {
        status = Status::ok();
        return std::unique_ptr<JobStoreClient>(
            new JobStoreClient(fd, where, joinTimeoutSeconds));
      }
      // Closed before answering: a store going away (its process ending) accepted us.
      char byte;
      bool closed = !answered && ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
      ::close(fd);
      // An earlier start's store, not yet gone: wait for this start's.
      if (((answered && reply[0].rfind(kJobStoreHello, 0) == 0) || closed) &&
          Clock::now() < deadline) {
        error = "the job's earlier start still holds the port";
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      status = Status::error("the master " + where +
                             " does not answer as parc-run's job store (another program "
                             "holds the port? choose another --master-port)");
      return nullptr;
    }
    if (Clock::now() >= deadline)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  char seconds[32];
  std::snprintf(seconds, sizeof(seconds), "%g", joinTimeoutSeconds);
  status = Status::error("cannot reach the job store at " + where +
                         " (served by global rank 0's process) within " + seconds +
                         " s (--rendezvous-timeout): " + error);
  return nullptr;
}

std::vector<std::string> JobStoreClient::request(char op, const std::vector<std::string> &fields,
                                                 double replySeconds) {
  std::lock_guard<std::mutex> guard(lock);
  std::vector<std::string> reply;
  if (!sendAll(socket, std::string(1, op) + encodeFields(fields), replySeconds) ||
      !receiveFields(socket, reply, replySeconds))
    throw std::runtime_error("the job store at " + where +
                             " (global rank 0's process) stopped answering");
  return reply;
}

void JobStoreClient::set(const std::string &key, const std::vector<char> &data) {
  request('S', {key, std::string(data.begin(), data.end())}, kReplySeconds);
}

bool JobStoreClient::tryGet(const std::string &key, std::vector<char> &value) {
  std::vector<std::string> reply = request('G', {key}, kReplySeconds);
  if (reply.empty())
    return false;
  value.assign(reply[0].begin(), reply[0].end());
  return true;
}

std::vector<char> JobStoreClient::get(const std::string &key) {
  wait({key}, joinTimeout);
  std::vector<char> value;
  if (!tryGet(key, value))
    throw std::runtime_error("job store key '" + key + "' vanished");
  return value;
}

void JobStoreClient::wait(const std::vector<std::string> &keys) { wait(keys, joinTimeout); }

void JobStoreClient::wait(const std::vector<std::string> &keys,
                          const std::chrono::milliseconds &timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  std::vector<char> value;
  for (const std::string &key : keys)
    while (!tryGet(key, value)) {
      if (Clock::now() >= deadline)
        throw std::runtime_error("timed out waiting for job store key '" + key + "'");
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(20));
    }
}

} // namespace parc::rt::comm
