//===- Rendezvous.cpp - --rendezvous values and the node's address --------===//

#include "parc/Runtime/Rendezvous.h"

#include <arpa/inet.h>
#include <cstdlib>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace parc::rt {

std::string RendezvousOptions::describe() const {
  switch (kind) {
  case Kind::Folder:
    return path;
  case Kind::File:
    return "file://" + path;
  case Kind::Redis:
    return "redis://" + host + ":" + std::to_string(port);
  case Kind::Tcp:
    return "tcp://" + host + ":" + std::to_string(port);
  }
  return "";
}

/// Splits HOST:PORT.
static bool parseHostPort(const std::string &text, std::string &host, int &port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return false;
  host = text.substr(0, colon);
  char *end = nullptr;
  long value = std::strtol(text.c_str() + colon + 1, &end, 10);
  if (colon + 1 == text.size() || *end != '\0' || value < 1 || value > 65535)
    return false;
  port = static_cast<int>(value);
  return true;
}

Status parseRendezvous(const std::string &spec, RendezvousOptions &options) {
  auto bad = [&] {
    return Status::error("--rendezvous='" + spec +
                         "': expected tcp, redis://HOST:PORT or file:///SHARED/DIR");
  };
  if (spec == "tcp") {
    options.kind = RendezvousOptions::Kind::Tcp;
    return Status::ok();
  }
  if (spec.rfind("redis://", 0) == 0) {
    options.kind = RendezvousOptions::Kind::Redis;
    return parseHostPort(spec.substr(8), options.host, options.port) ? Status::ok() : bad();
  }
  if (spec.rfind("file://", 0) == 0 && spec.size() > 8 && spec[7] == '/') {
    options.kind = RendezvousOptions::Kind::File;
    options.path = spec.substr(7);
    return Status::ok();
  }
  return bad();
}

Status localAddressReaching(const std::string &host, int port, std::string &address) {
  addrinfo hints{}, *found = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  int resolved = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (resolved != 0)
    return Status::error("cannot resolve the master '" + host + "': " + gai_strerror(resolved));
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in local{};
  socklen_t size = sizeof(local);
  bool ok = fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) == 0 &&
            getsockname(fd, reinterpret_cast<sockaddr *>(&local), &size) == 0;
  int error = errno;
  freeaddrinfo(found);
  if (fd >= 0)
    ::close(fd);
  if (!ok)
    return Status::error("no interface of this machine reaches the master '" + host +
                         "': " + std::strerror(error) + " (give --node-addr)");
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &local.sin_addr, text, sizeof(text));
  address = text;
  return Status::ok();
}

} // namespace parc::rt
