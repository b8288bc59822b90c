#pragma once
// The deploying agent's chunk source under the server's scheduler: every chunk comes from the
// source the server assigned last (the server itself, a named peer's relay, or nothing yet:
// queued), and the assignment can change at any moment of the deploy (a higher epoch wins).
// A peer is never trusted: the pipeline checks every frame against the signed manifest, and a
// frame that fails is blamed on the peer that served it (rejected()), which this agent then
// never fetches from again. A peer that refuses the connection, stalls or keeps not having the
// chunk is failed too; one that says it is still filling (it is behind this laptop, where the
// plan may put it) is waited for, up to a bound. Each failure is held for the deploy step's next
// progress report (take_failure), and the workers wait for the re-plan; if none comes within
// `replan_wait` they fetch from the server, which can always serve.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "revive/agent/transport/streamed_chunks.hpp"
#include "revive/chunk_pipeline.hpp"
#include "revive/protocol.hpp"

namespace revive::agent {

struct ScheduledSourceOptions {
  std::string server;          ///< http://host:port: where `server` assignments fetch from
  std::uint64_t max_rate = 0;  ///< bytes/s per connection (slow workshop links); 0: no cap
  /// A peer's answer must begin within this (a relay waits up to about 2 s for a chunk its own
  /// source has not delivered yet, then says so with a 503).
  std::chrono::milliseconds peer_first_byte_timeout{4000};
  /// Once a peer's answer flows, no byte for this long fails the peer (about two chunk-times
  /// on a workshop LAN).
  std::chrono::milliseconds peer_stall_timeout{2000};
  /// Consecutive "not here yet" answers (503) from the assigned peer before it counts as
  /// stalled: its own source has delivered nothing for that many relay waits.
  int peer_busy_limit = 3;
  /// Consecutive 503s from a peer that says it is filling (it gained chunks meanwhile, so it
  /// is behind this laptop, as the plan may intend) before it counts as stalled all the same:
  /// a bound on how long a peer that only claims to fill can hold this laptop up.
  int peer_filling_limit = 20;
  /// After a failure, how long the workers wait for the server's re-plan before they fetch
  /// from the server on their own.
  std::chrono::milliseconds replan_wait{5000};
  const std::atomic<bool>* stop = nullptr;  ///< set: fetch returns cancelled
  /// The chunk of each data extent in the order the deploy fetches them, and which are on disk
  /// already: then a peer streams them (streamed_chunks.hpp). Empty: a request per chunk.
  std::vector<Digest> order;
  std::vector<bool> done;
  /// With `order`: the server streams the image too while it is the source (its URL's base,
  /// `server` + chunk_stream::image_stream_base(name), and the agent's credentials). Empty: a
  /// request per chunk from the server.
  std::string server_stream;
  std::vector<std::string> server_headers;
};

/// Compressed bytes fetched, by where they came from.
struct SourceBytes {
  std::uint64_t server = 0;
  std::uint64_t peers = 0;
  std::map<std::int64_t, std::uint64_t> by_peer;  ///< peer device id -> bytes
};

class ScheduledChunkSource : public ChunkSource {
 public:
  explicit ScheduledChunkSource(ScheduledSourceOptions o);
  ~ScheduledChunkSource() override;
  ScheduledChunkSource(const ScheduledChunkSource&) = delete;
  ScheduledChunkSource& operator=(const ScheduledChunkSource&) = delete;

  /// Applies the server's assignment unless an assignment of the same or a higher epoch was
  /// applied already; true when it was applied. A peer that served a bad chunk is refused even
  /// when assigned again (and reported again).
  bool assign(const protocol::SourceAssignment& a);
  /// The failure not reported yet, if any (handed out once: the caller reports it).
  std::optional<protocol::SourceFailure> take_failure();
  /// Puts back a failure whose report did not reach the server (unless a newer one waits).
  void unreport(protocol::SourceFailure f);
  /// Whether a failure waits to be reported (the caller reports at once rather than on its
  /// next tick).
  bool failure_pending() const;
  /// What it fetches from now, for reports and the screen: "server", "peer 7", "queued".
  std::string source_label() const;
  /// The line for the volunteer: "queued (place 3): the server's port is busy".
  std::string describe() const;
  SourceBytes bytes_by_source() const;
  /// Assignments applied and failures detected so far.
  std::uint64_t replans() const;
  std::uint64_t failures() const;

  /// The frame of `d` from the assigned source; waits while queued or while a failed peer is
  /// being replaced. Errors from the server are the server chunk source's (io: unreachable);
  /// cancelled once the stop flag is set.
  Result<void> fetch(const Digest& d, std::vector<std::byte>& out) override;
  std::uint64_t bytes_fetched() const override;
  /// Compressed bytes that arrived from any source, counted as they arrive (whole chunks or
  /// not): the link's rate. Counting whole chunks only, four workers' chunks finish together
  /// about once a second at 50 Mbit/s, and a one-second report read 0 or 5.6 MB/s (issue 14).
  std::uint64_t bytes_arrived() const { return arrived_.load(std::memory_order_relaxed); }
  /// Blames the peer that served `d` to this thread, if a peer did.
  void rejected(const Digest& d, const Error& why) override;

 private:
  struct Plan;
  struct PeerConnections;
  Plan plan_for_fetch();
  Result<void> fetch_from_peer(const Plan& p, const Digest& d, std::vector<std::byte>& out,
                               bool& filling);
  /// From the peer's stream: true when `out` holds the frame, false when the chunk must be
  /// asked for alone or the plan changed (`replan`).
  bool fetch_streamed(const Plan& p, const Digest& d, std::vector<std::byte>& out, bool& replan);
  /// The same from the server's stream; a failed stream is not reported (the server is no
  /// peer to replace): the chunk is asked for alone, as are the rest until the next plan.
  bool fetch_server_streamed(const Plan& p, const Digest& d, std::vector<std::byte>& out,
                             bool& replan);
  void fail_peer(std::int64_t peer, std::int64_t epoch, std::string reason, bool bad_chunk);
  void served_by(std::int64_t peer, std::size_t bytes);
  bool stopped() const { return opts_.stop != nullptr && opts_.stop->load(); }

  ScheduledSourceOptions opts_;
  std::atomic<std::uint64_t> arrived_{0};
  std::unique_ptr<ChunkSource> server_;
  std::unique_ptr<PeerConnections> peers_;
  std::unique_ptr<StreamedChunks> streams_;  // null: no order given

  mutable std::mutex mu_;
  std::condition_variable changed_;
  protocol::SourceAssignment current_;  // epoch -1 until the server's first word: the server
  bool assigned_ = false;
  // The assigned peer failed (at this time): wait for the re-plan, then the server.
  std::optional<std::chrono::steady_clock::time_point> failed_at_;
  int busy_in_a_row_ = 0;          // 503s from a peer gaining nothing
  int filling_in_a_row_ = 0;       // 503s from a peer still gaining chunks
  std::set<std::int64_t> banned_;  // served a bad chunk: never again
  std::optional<protocol::SourceFailure> pending_;
  std::map<std::thread::id, std::int64_t> last_origin_;  // per worker: who served its frame
  SourceBytes bytes_;
  std::uint64_t replans_ = 0;
  std::uint64_t failures_ = 0;
};

}  // namespace revive::agent
