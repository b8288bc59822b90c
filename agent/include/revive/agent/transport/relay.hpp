#pragma once
// A laptop's relay for the one image it deploys: the RelayStore of the chunks it verified and
// the PeerServer that hands them to the peers the server names. It starts with the deploy step
// and outlives it: after the step the agent keeps serving (reporting each second that it does)
// until the server releases it, a later step is about to change the disk, or the finish step
// has waited long enough. Closing it stops the listener; nothing is served after that.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "revive/agent/transport/peer_server.hpp"
#include "revive/agent/transport/relay_store.hpp"
#include "revive/chunk_pipeline.hpp"
#include "revive/error.hpp"
#include "revive/manifest.hpp"
#include "revive/protocol.hpp"

namespace revive::agent {

class BlockDevice;

struct RelayOptions {
  PeerServerOptions server;
  RelayStoreOptions store;
};

/// Posts one relay report; the server's answer.
using RelayReporter = std::function<Result<protocol::RelayAck>(const protocol::RelayReport&)>;

class Relay {
 public:
  /// Starts serving the chunks of `m` that are held: `held` (data-extent ranges already on
  /// `disk` from an earlier attempt) and every chunk passed to held() later. `disk` is read
  /// back for chunks that left the RAM cache (hash-checked again). io when it cannot listen.
  static Result<std::unique_ptr<Relay>> start(const Manifest& m, std::shared_ptr<BlockDevice> disk,
                                              const ChunkRanges& held, RelayOptions o = {});
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  /// The pipeline's after_put: data extent `item` is verified and written; its frame is cached.
  void held(std::size_t item, std::span<const std::byte> frame);
  /// The port peers fetch from (0 once closed).
  std::uint16_t port() const;
  const std::string& image_id() const { return image_id_; }
  std::uint64_t chunks_held() const { return store_.held_count(); }
  std::uint64_t chunk_count() const { return store_.chunk_count(); }
  /// Compressed bytes sent to peers so far.
  std::uint64_t bytes_served() const;

  /// Keeps relaying after the deploy step: a thread posts a report through `report` every
  /// `every` until the server answers release (or refuses the reports: an older server, a
  /// finished session), then closes the relay. Errors that may pass (io) are retried.
  void linger(RelayReporter report, std::chrono::milliseconds every = std::chrono::seconds(1));
  /// Waits until lingering ended or `timeout` passed, then closes; true when the server
  /// released the relay (false: timed out, refused, or never lingering).
  bool finish(std::chrono::milliseconds timeout);
  /// Stops serving at once (the disk is about to change).
  void close();
  bool closed() const;

 private:
  Relay(const Manifest& m, std::shared_ptr<BlockDevice> disk, RelayOptions o);
  void linger_loop(const std::stop_token& stop, const RelayReporter& report,
                   std::chrono::milliseconds every);

  std::string image_id_;
  std::shared_ptr<BlockDevice> disk_;
  RelayOptions opts_;
  RelayStore store_;
  std::unique_ptr<PeerServer> server_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  bool lingering_ = false;
  bool released_ = false;
  bool closed_ = false;
  std::uint64_t served_at_close_ = 0;
  std::jthread linger_thread_;
};

}  // namespace revive::agent
