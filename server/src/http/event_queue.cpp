#include "http/event_queue.hpp"

namespace revive::server {

bool EventQueue::push(const std::string& message) {
  if (overflowed_) return false;
  if (!pending_.empty() && pending_.size() + message.size() > max_bytes_) {
    overflowed_ = true;
    pending_.clear();  // never sent: the stream ends, and its memory goes now
    return false;
  }
  pending_ += message;
  return true;
}

std::string EventQueue::take() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace revive::server
