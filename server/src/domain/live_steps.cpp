#include "domain/live_steps.hpp"

namespace revive::server {

Seconds StallTimeouts::of(StepKind kind) const {
  auto it = per_kind.find(std::string(protocol::to_string(kind)));
  return it != per_kind.end() ? it->second : fallback;
}

void LiveSteps::track(std::int64_t step, std::int64_t device, StepKind kind, Seconds now) {
  auto& l = live_[step];
  l.device = device;
  l.kind = kind;
  l.last_beat = now;
}

LiveSteps::Live* LiveSteps::find(std::int64_t step, std::int64_t device) {
  auto it = live_.find(step);
  return it == live_.end() || it->second.device != device ? nullptr : &it->second;
}

void LiveSteps::forget_device(std::int64_t device) {
  std::erase_if(live_, [&](const auto& kv) { return kv.second.device == device; });
}

std::vector<std::pair<std::int64_t, LiveSteps::Live>> LiveSteps::overdue(
    Seconds now, const StallTimeouts& timeouts) const {
  std::vector<std::pair<std::int64_t, Live>> out;
  for (const auto& [step, live] : live_) {
    if (now - live.last_beat > timeouts.of(live.kind)) out.emplace_back(step, live);
  }
  return out;
}

Json LiveSteps::progress(std::int64_t step) const {
  auto it = live_.find(step);
  return it == live_.end() ? Json::object() : it->second.progress;
}

}  // namespace revive::server
