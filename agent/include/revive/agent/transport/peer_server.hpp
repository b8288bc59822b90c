#pragma once
// The relay side of a deploying agent: a small HTTP/1.1 server (libmicrohttpd, keep-alive,
// single `Range`) that hands the chunks in a RelayStore to the peers the server names. It
// answers `GET /chunks/{sha256}` (one chunk) and `GET /stream/{position}` (the chunks from a
// data extent on, as they are verified: chunk_stream.hpp) and nothing else: a peer can learn
// nothing from it but chunks
// of the image being deployed, which it could fetch from the server anyway and re-checks
// against the signed manifest itself. It exists only while a deploy runs.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "revive/error.hpp"

namespace revive::agent {

class RelayStore;

struct PeerServerOptions {
  std::string address = "0.0.0.0";  ///< where to listen (IPv4)
  std::uint16_t port = 0;           ///< 0: any free port (reported to the server)
  unsigned max_connections = 16;
  /// A stream and a connection for each of a child's four deploy workers.
  unsigned max_per_address = 6;
  std::chrono::seconds idle_timeout{30};
  /// How long a request for a chunk of the image that is not held yet may wait for it: about a
  /// chunk-time, so a child right behind its parent gets each chunk as soon as it is verified.
  std::chrono::milliseconds chunk_wait{2000};
  /// How often a chunk stream waiting for its next chunk says so (a keep-alive record): well
  /// under the child's stall timeout (2 s), so a waiting relay is not taken for a dead one.
  std::chrono::milliseconds stream_keep_alive{700};
  /// The TCP congestion control for peers' connections ("": the system's default; the default
  /// too where the kernel lacks the one named, counted in the stats). A relay receives and
  /// sends at its port's full rate at once: a loss-based sender (cubic) keeps the port's queue
  /// full, and this laptop's own ACKs to its source wait behind that data. "bbr" paces at the
  /// measured rate and keeps the queue short; measured on bench/workshop.sh N=4 it was not
  /// clearly faster (docs/scheduler.md), so it is not the default.
  std::string congestion_control{};
};

struct PeerServerStats {
  std::uint64_t chunks_served = 0;
  std::uint64_t bytes_served = 0;
  std::uint64_t refused = 0;             ///< not found, not held in time, bad requests
  std::uint64_t default_congestion = 0;  ///< connections left on the system's default
};

class PeerServer {
 public:
  /// Starts listening; io error naming the address when it cannot bind. `store` must outlive
  /// the server.
  static Result<std::unique_ptr<PeerServer>> start(RelayStore& store,
                                                   const PeerServerOptions& opts = {});
  ~PeerServer();
  PeerServer(const PeerServer&) = delete;
  PeerServer& operator=(const PeerServer&) = delete;

  /// The port it listens on.
  std::uint16_t port() const { return port_; }
  PeerServerStats stats() const;

  struct Impl;  ///< implementation detail, public only for libmicrohttpd's C callback

 private:
  explicit PeerServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
};

}  // namespace revive::agent
