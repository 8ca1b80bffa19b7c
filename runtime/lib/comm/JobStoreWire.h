//===- JobStoreWire.h - the job store's messages ----------------*- C++ -*-===//
//
// A request is one opcode byte, a field count byte and the fields; a reply is a field count
// byte and the fields; a field is a 32-bit little-endian length and its bytes. Opcodes:
//   'H' hello(jobStoreHello(g))       -> (the store's jobStoreHello)
//   'S' set(key, value)                -> ()
//   'G' get(key)                       -> () when unset, (value) when set
//   'B' beat(rank, where)              -> (abort message, empty when none)
//   'D' done(rank)                     -> ()
//   'F' fail(rank, message)            -> ()
// Every read and write has a deadline, so a peer that stops answering is an error, not a
// hang.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_COMM_JOBSTOREWIRE_H
#define PARC_RUNTIME_COMM_JOBSTOREWIRE_H

#include <string>
#include <vector>

namespace parc::rt::comm {

/// What a parc job store and its clients say first, followed by " start N" (the job's
/// generation): anything else on that port is not one.
constexpr const char *kJobStoreHello = "parc-job-store/1";

/// The hello of generation `generation`.
inline std::string jobStoreHello(int generation) {
  return std::string(kJobStoreHello) + " start " + std::to_string(generation);
}

/// Writes all of `bytes` within `seconds` (MSG_NOSIGNAL); false on error or timeout.
bool sendAll(int socket, const std::string &bytes, double seconds);
/// Reads exactly `size` bytes within `seconds`; false on error, end of stream or timeout.
bool receiveAll(int socket, size_t size, std::string &bytes, double seconds);

/// The bytes of `fields` as the wire carries them (count byte, then each field).
std::string encodeFields(const std::vector<std::string> &fields);
/// Reads a field list; false on error or timeout.
bool receiveFields(int socket, std::vector<std::string> &fields, double seconds);

/// A TCP connection to host:port, or -1 with `error` set.
int connectTo(const std::string &host, int port, std::string &error);

} // namespace parc::rt::comm

#endif // PARC_RUNTIME_COMM_JOBSTOREWIRE_H
