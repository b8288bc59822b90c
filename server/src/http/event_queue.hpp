#pragma once
// What one Server-Sent Events client has not been sent yet, bounded in bytes. A client that
// falls further behind than the bound (a TV whose Wi-Fi stalls, a host that stops reading) is
// not given a partial picture: the queue says it overflowed, the HTTP layer ends the stream,
// and the browser reconnects and starts again from a fresh snapshot. Pure.

#include <cstddef>
#include <string>

namespace revive::server {

class EventQueue {
 public:
  explicit EventQueue(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  /// Appends a framed message; false (and overflowed() from now on) when the queue would hold
  /// more than its bound. The first message of an empty queue is always taken, so a snapshot
  /// larger than the bound still reaches a client that keeps up.
  bool push(const std::string& message);
  /// Everything queued, in order, as one buffer for one write; the queue is empty after.
  std::string take();
  bool empty() const { return pending_.empty(); }
  std::size_t bytes() const { return pending_.size(); }
  bool overflowed() const { return overflowed_; }

 private:
  std::size_t max_bytes_;
  std::string pending_;
  bool overflowed_ = false;
};

}  // namespace revive::server
