#include "revive/sched/config.hpp"

namespace revive::sched {

namespace {

Error bad(const std::string& field, const std::string& why) {
  return make_error(Errc::invalid_input, "scheduler config: " + field + " " + why);
}

}  // namespace

Result<void> validate(const std::string& name, const ImageShape& shape) {
  if (shape.data_chunks == 0 || shape.stored_bytes == 0 || shape.raw_bytes == 0) {
    return make_error(Errc::invalid_input,
                      "image " + name + ": no data chunks, stored bytes or raw bytes to deploy");
  }
  return {};
}

Result<void> validate(const Config& c) {
  if (!(c.server_port_rate > 0)) return bad("server_port_rate", "must be positive");
  if (!(c.default_port_rate > 0)) return bad("default_port_rate", "must be positive");
  if (!(c.report_interval > 0)) return bad("report_interval", "must be positive");
  if (!(c.useful_share > 0 && c.useful_share <= 1)) return bad("useful_share", "must be in (0, 1]");
  if (!(c.rate_change > 0 && c.rate_change < 1)) return bad("rate_change", "must be in (0, 1)");
  if (!(c.speed_step > 0 && c.speed_step < 1)) return bad("speed_step", "must be in (0, 1)");
  if (!(c.move_gain > 0 && c.move_gain < 1)) return bad("move_gain", "must be in (0, 1)");
  if (!(c.move_harm >= 0)) return bad("move_harm", "must not be negative");
  if (!(c.catch_up_share >= 0 && c.catch_up_share < 1)) {
    return bad("catch_up_share", "must be in [0, 1)");
  }
  if (!(c.stall_chunk_times > 0) || !(c.stall_reports > 0)) {
    return bad("stall_chunk_times/stall_reports", "must be positive");
  }
  if (c.relay_strikes < 1) return bad("relay_strikes", "must be at least 1");
  if (!(c.finished_relay_linger >= 0)) return bad("finished_relay_linger", "must not be negative");
  for (const auto& [name, shape] : c.images) REVIVE_TRY(validate(name, shape));
  return {};
}

}  // namespace revive::sched
