#pragma once
// Chunks a peer or the server streams to this agent ahead of its deploy workers' asking (GET
// /stream/{position} or /api/v1/images/{name}/stream/{position}, chunk_stream.hpp), in the order
// the workers ask for them. Peer 0 is the server, as everywhere in the scheduled source.
//
// Why a stream and not a request per chunk: in a chain every laptop's port is as fast as the
// next, so a child that falls behind its parent never catches up. Four workers each asking for
// one chunk share the port and get their four chunks together, four chunk-times after the parent
// had the first: each hop of the chain lagged four chunk-times (N=8 at 50 Mbit/s: 1.36-1.45x T1,
// bench/workshop.sh). One request at a time lost a round trip through the port's queue per chunk
// (1.55x). A stream sends each chunk once, in order, the moment the parent verified it: one
// chunk-time per hop.
//
// Bounded: at most `buffer_frames` frames wait for their worker; the stream then stops reading and
// TCP holds the parent back. A stream that stops moving (the parent froze or its cable went) is
// cut after `stall_timeout` unless it is this side that is not reading; one whose parent gains
// nothing for `stuck_timeout`, or keeps filling without reaching this agent's chunk for
// `filling_timeout`, fails as "stalled". The caller (ScheduledChunkSource) reports failures and
// checks every frame against the manifest as from any other source.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "revive/error.hpp"
#include "revive/http_client.hpp"
#include "revive/sha256.hpp"

namespace revive::agent {

struct StreamedChunksOptions {
  /// The chunk of each data extent, in the manifest's (and the workers') order, and which of
  /// them are on the disk already (a resumed deploy): those are never waited for.
  std::vector<Digest> order;
  std::vector<bool> done;
  std::size_t buffer_frames = 8;
  std::size_t max_frame = 0;  ///< longest frame accepted
  std::chrono::milliseconds stall_timeout{2000};
  std::chrono::milliseconds stuck_timeout{6000};
  std::chrono::milliseconds filling_timeout{40000};
  http::ConnectionOptions connection;
  /// Sent with the server's stream (peer 0, whose URL is the image's path): the agent's
  /// credentials. A relay's stream takes none.
  std::vector<std::string> server_headers;
  std::atomic<std::uint64_t>* arrived = nullptr;  ///< counts every byte received
};

class StreamedChunks {
 public:
  explicit StreamedChunks(StreamedChunksOptions o);
  ~StreamedChunks();  // stops every stream and waits for their threads
  StreamedChunks(const StreamedChunks&) = delete;
  StreamedChunks& operator=(const StreamedChunks&) = delete;

  enum class Outcome {
    got,         ///< `out` holds the frame; `peer` served it
    not_coming,  ///< this stream will not bring it (a repeat already taken): ask for it alone
    failed,      ///< the stream failed: `error` says how (report the peer)
    gave_up,     ///< `give_up` said so (a re-plan, the stop flag)
  };
  struct Taken {
    Outcome what = Outcome::gave_up;
    std::int64_t peer = 0;
    std::optional<Error> error;
  };

  /// The frame of `d` from the stream of `peer` at `url` for assignment `epoch`, started (or
  /// restarted for a new epoch) as needed; waits for it, asking `give_up` a few times a second.
  Taken take(std::int64_t peer, const std::string& url, std::int64_t epoch, const Digest& d,
             std::vector<std::byte>& out, const std::function<bool()>& give_up);
  /// A frame a stream brought for `d`, if one waits (whoever fetches now); who sent it.
  std::optional<std::int64_t> take_buffered(const Digest& d, std::vector<std::byte>& out);
  /// Ends `peer`'s stream (it failed); `discard`: also what it sent that nobody took (it lied).
  void drop(std::int64_t peer, bool discard);
  /// `d` was fetched another way (the server, a request of its own): no stream needs to bring
  /// it, and a stream starts past it.
  void fetched(const Digest& d);
  /// Ends the current stream (the plan moved away from its peer); what it brought stays.
  void retire();

 private:
  struct Stream;
  void start_locked(std::int64_t peer, const std::string& url, std::int64_t epoch);
  void retire_locked();
  std::optional<std::int64_t> take_locked(const Digest& d, std::vector<std::byte>& out);
  bool coming_locked(const Digest& d) const;
  Result<void> on_chunk(Stream& s, const Digest& d, std::vector<std::byte>&& frame);
  Result<void> on_keep_alive(Stream& s, bool filling);
  void on_end(Stream& s, const Result<void>& r);
  void watch_locked();

  StreamedChunksOptions opts_;
  std::map<Digest, int> wanted_;            // positions not on disk and not yet taken
  std::map<Digest, std::size_t> last_pos_;  // last such position
  mutable std::mutex mu_;
  std::condition_variable changed_;
  struct Buffered {
    std::vector<std::byte> frame;
    std::int64_t peer = 0;
  };
  std::map<Digest, Buffered> buffer_;
  std::unique_ptr<Stream> current_;
  std::vector<std::unique_ptr<Stream>> retired_;
};

}  // namespace revive::agent
