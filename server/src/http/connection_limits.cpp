#include "http/connection_limits.hpp"

#include <algorithm>

namespace revive::server {

ConnectionLimits::Verdict ConnectionLimits::check(const std::string& address, bool local) const {
  if (!local && from(address) >= caps_.per_address) return Verdict::address_full;
  if (open_ >= caps_.total) return Verdict::total_full;
  return Verdict::admit;
}

void ConnectionLimits::add(const std::string& address, bool local) {
  ++open_;
  if (!local) ++per_address_[address];
}

void ConnectionLimits::release(const std::string& address) {
  if (open_ > 0) --open_;
  auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

std::size_t ConnectionLimits::from(const std::string& address) const {
  auto it = per_address_.find(address);
  return it == per_address_.end() ? 0 : it->second;
}

std::size_t connection_cap_for(std::size_t nofile, std::size_t wanted, std::size_t reserved) {
  const std::size_t fits = nofile > reserved + 16 ? nofile - reserved : 16;
  return std::max<std::size_t>(16, std::min(wanted, fits));
}

}  // namespace revive::server
