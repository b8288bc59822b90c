#include "watch_source.hpp"

#include <fmt/core.h>

namespace revive::ctl {

namespace {

using json = nlohmann::json;

std::string peer_name(std::int64_t peer, const json& devices) {
  if (devices.is_array()) {
    for (const auto& d : devices) {
      if (!d.is_object() || d.value("id", std::int64_t{0}) != peer) continue;
      const json serial = d.value("serial", json());
      if (serial.is_string() && !serial.get<std::string>().empty())
        return "peer " + serial.get<std::string>();
    }
  }
  return "peer " + std::to_string(peer);
}

std::string delivered(const json& d) {
  const double server = d.value("bytes_from_server", 0.0);
  const double peers = d.value("bytes_from_peers", 0.0);
  if (server + peers <= 0) return "-";
  return fmt::format("done {:.0f}% peer", 100 * peers / (server + peers));
}

}  // namespace

std::string source_cell(const json& device, const json& devices) {
  if (!device.is_object()) return "-";
  const json cur = device.value("current", json());
  const json src = cur.is_object() ? cur.value("source", json()) : json();
  if (src.is_object()) {
    const std::string kind = src.value("kind", "");
    if (kind == "peer") return peer_name(src.value("peer", std::int64_t{0}), devices);
    if (kind == "queued") return fmt::format("queued #{}", src.value("place", 0));
    if (kind == "server") return "server";
  }
  const json d = device.value("delivery", json());
  return d.is_object() ? delivered(d) : "-";
}

}  // namespace revive::ctl
