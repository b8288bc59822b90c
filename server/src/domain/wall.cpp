#include "domain/wall.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <ctime>
#include <string_view>

#include "domain/json_fields.hpp"

namespace revive::server {

namespace {

// Values firmware writes when nobody set an asset tag (seen on Dell, HP, Lenovo and AMI
// boards); compared lower-case, spaces and punctuation included.
bool placeholder_tag(const std::string& tag) {
  static constexpr std::array<std::string_view, 10> kPlaceholders = {"no asset tag",
                                                                     "no asset information",
                                                                     "asset tag",
                                                                     "asset-1234567890",
                                                                     "to be filled by o.e.m.",
                                                                     "default string",
                                                                     "none",
                                                                     "not specified",
                                                                     "n/a",
                                                                     "0"};
  const std::string t = ascii_lower(tag);
  return std::find(kPlaceholders.begin(), kPlaceholders.end(), t) != kPlaceholders.end();
}

Seconds local_midnight(Seconds t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_isdst = -1;
  return static_cast<Seconds>(std::mktime(&tm));
}

// The status a tile shows (what the counts add up): failed and done from the run, working
// while an agent is at a step, waiting otherwise (no run yet, a step not picked up, a deploy
// queued for the server's port).
std::string tile_status(const std::string& run_state, const Json& current) {
  if (run_state == "failed") return "failed";
  if (run_state == "done") return "done";
  if (run_state == "cancelled") return "cancelled";
  if (!current.is_object()) return "waiting";
  const std::string step_state = text_field(current, "state");
  if (step_state == "failed") return "failed";
  if (step_state != "running") return "waiting";
  const Json source = current.value("source", Json());
  if (source.is_object() && text_field(source, "kind") == "queued") return "waiting";
  return "working";
}

Json failure_of(const std::string& status, const Json& current) {
  if (status != "failed" && status != "cancelled") return Json();
  const std::string error = current.is_object() ? text_field(current, "error") : std::string();
  const std::string step = current.is_object() ? text_field(current, "kind") : std::string();
  // The server's own stall message (step_lifecycle) is the one failure with a cause the wall
  // can put in plain words itself; an agent's message is shown as it came.
  std::string kind = status == "cancelled" ? "cancelled" : "step_failed";
  if (error.starts_with("no progress from the agent")) kind = "stalled";
  return Json{{"kind", kind}, {"step", step}, {"detail", kind == "stalled" ? "" : error}};
}

Json source_of(const Json& current, const std::function<std::string(std::int64_t)>& peer_label) {
  const Json source = current.is_object() ? current.value("source", Json()) : Json();
  if (!source.is_object()) return Json();
  const std::string kind = text_field(source, "kind");
  Json out = {{"kind", kind}};
  if (kind == "peer") {
    auto peer = source.find("peer");
    out["peer"] = peer != source.end() && peer->is_number_integer()
                      ? peer_label(peer->get<std::int64_t>())
                      : std::string("?");
  }
  if (kind == "queued") out["place"] = source.value("place", 0);
  return out;
}

}  // namespace

std::string asset_tag_of(const Json& inventory) {
  if (!inventory.is_object()) return "";
  const Json chassis = inventory.value("chassis", Json());
  if (!chassis.is_object()) return "";
  std::string tag = text_field(chassis, "asset_tag");
  while (!tag.empty() && std::isspace(static_cast<unsigned char>(tag.back()))) tag.pop_back();
  while (!tag.empty() && std::isspace(static_cast<unsigned char>(tag.front()))) tag.erase(0, 1);
  return placeholder_tag(tag) ? "" : tag;
}

std::string tile_label(const std::string& asset_tag, const std::string& serial, std::int64_t id) {
  if (!asset_tag.empty()) return asset_tag;
  if (serial.empty()) return "#" + std::to_string(id);
  // The end of a serial is what differs between laptops of one batch, and what a volunteer
  // finds on the sticker; six characters stay readable from across the room.
  if (serial.size() <= 6) return serial;
  return "\u2026" + serial.substr(serial.size() - 6);
}

namespace {

// A run none of whose steps has begun: made for a laptop that is not here yet (a loan's
// return makes the next visit's run at once).
bool not_started(const Json& summary) {
  const Json steps = summary.value("steps", Json::array());
  if (!steps.is_array() || steps.empty()) return false;
  return std::all_of(steps.begin(), steps.end(),
                     [](const Json& s) { return text_field(s, "state") == "pending"; });
}

}  // namespace

bool on_floor(const Json& summary, Seconds now, Seconds window) {
  const std::string state = text_field(summary, "state");
  if (state == "cancelled") return false;
  const auto seen = number_field(summary, "last_seen");
  const bool recent = seen && static_cast<Seconds>(*seen) >= now - window;
  // A working laptop stays however long ago it last reported; one whose run waits for it to
  // come back (a returned loan) only once it was heard of lately.
  if (state == "running") return recent || !not_started(summary);
  return recent;
}

Json wall_tile(const Json& summary, const std::string& asset_tag,
               const std::function<std::string(std::int64_t)>& peer_label) {
  const std::int64_t id = summary.value("id", std::int64_t{0});
  const std::string run_state = text_field(summary, "state");
  const Json current = summary.value("current", Json());
  const std::string status = tile_status(run_state, current);
  std::string stage = current.is_object() ? text_field(current, "kind") : std::string("waiting");
  if (status == "done") stage = "done";
  Json tile = {{"id", id},
               {"model", text_field(summary, "model")},
               {"vendor", text_field(summary, "vendor")},
               {"label", tile_label(asset_tag, text_field(summary, "serial"), id)},
               {"status", status},
               {"stage", stage},
               {"fraction", nullptr},
               {"rate", nullptr},
               {"eta_s", nullptr}};
  const Json progress =
      status == "working" && current.is_object() ? current.value("progress", Json()) : Json();
  if (progress.is_object()) {
    const auto done = number_field(progress, "bytes_done"),
               total = number_field(progress, "bytes_total");
    const auto rate = number_field(progress, "rate");
    if (done && total && *total > 0) tile["fraction"] = std::clamp(*done / *total, 0.0, 1.0);
    if (rate && *rate > 0) {
      tile["rate"] = *rate;
      if (done && total && *total > *done) tile["eta_s"] = std::round((*total - *done) / *rate);
    }
  }
  const Json grade = summary.value("grade", Json());
  tile["grade"] = grade.is_string() ? grade : Json();
  tile["source"] =
      status == "working" || status == "waiting" ? source_of(current, peer_label) : Json();
  tile["failure"] = failure_of(status, current);
  return tile;
}

Json wall_counts(const std::map<std::int64_t, Json>& tiles,
                 const std::map<std::int64_t, Seconds>& finished_at, Seconds day_start) {
  Json c = {{"waiting", 0}, {"working", 0}, {"done", 0}, {"failed", 0}, {"done_today", 0}};
  for (const auto& [id, tile] : tiles) {
    const std::string status = text_field(tile, "status");
    if (c.contains(status)) c[status] = c[status].get<int>() + 1;
    auto f = finished_at.find(id);
    if (status == "done" && f != finished_at.end() && f->second >= day_start)
      c["done_today"] = c["done_today"].get<int>() + 1;
  }
  return c;
}

Wall::Wall(DomainContext& ctx, Views& views, WallOptions opts)
    : ctx_(ctx), views_(views), opts_(std::move(opts)) {
  if (!opts_.day_start) opts_.day_start = local_midnight;
}

Result<std::string> Wall::asset_tag(std::int64_t device) {
  // Read once per laptop while the server runs: the inventory is the largest thing stored per
  // device, and a laptop's chassis tag does not change between its steps.
  if (auto it = asset_tags_.find(device); it != asset_tags_.end()) return it->second;
  REVIVE_ASSIGN(inventory, ctx_.storage().devices().inventory(device));
  std::string tag = inventory ? asset_tag_of(*inventory) : std::string();
  if (inventory) asset_tags_[device] = tag;
  return tag;
}

std::string Wall::peer_label(std::int64_t id) {
  if (auto it = shown_.find(id); it != shown_.end()) return text_field(it->second.tile, "label");
  auto d = ctx_.storage().devices().find(id);
  if (!d || !*d) return "#" + std::to_string(id);
  auto tag = asset_tag(id);
  return tile_label(tag ? *tag : std::string(), (*d)->serial, id);
}

Result<std::optional<Wall::Shown>> Wall::build(std::int64_t device) {
  auto summary = views_.device_summary(device);
  if (!summary) {
    if (summary.error().code == Errc::not_found) return std::optional<Shown>();
    return summary.error();
  }
  if (!on_floor(*summary, ctx_.now(), opts_.floor_window)) return std::optional<Shown>();
  REVIVE_ASSIGN(tag, asset_tag(device));
  Shown s;
  s.tile = wall_tile(*summary, tag, [this](std::int64_t id) { return peer_label(id); });
  const auto f = number_field(*summary, "finished_at");
  if (f) s.finished_at = static_cast<Seconds>(*f);
  s.summary = std::move(*summary);
  return std::optional<Shown>(std::move(s));
}

Json Wall::counts() const {
  std::map<std::int64_t, Json> tiles;
  std::map<std::int64_t, Seconds> finished;
  for (const auto& [id, s] : shown_) {
    tiles[id] = s.tile;
    if (s.finished_at) finished[id] = *s.finished_at;
  }
  return wall_counts(tiles, finished, opts_.day_start(ctx_.now()));
}

Result<Json> Wall::snapshot() {
  REVIVE_ASSIGN(ids, ctx_.storage().devices().ids());
  std::map<std::int64_t, Shown> fresh;
  for (auto id : ids) {
    REVIVE_ASSIGN(s, build(id));
    if (s) fresh[id] = std::move(*s);
  }
  // Screens already connected get what this rebuild found changed at the next update(): the
  // baseline moves for everyone at once.
  for (const auto& [id, s] : fresh) {
    auto it = shown_.find(id);
    if (has_baseline_ && (it == shown_.end() || it->second.tile != s.tile)) pending_[id] = s.tile;
  }
  for (const auto& [id, s] : shown_) {
    if (!fresh.contains(id)) pending_gone_.insert(id);
  }
  has_baseline_ = true;
  shown_ = std::move(fresh);
  const Json sent_before = sent_counts_;
  sent_counts_ = counts();
  if (sent_before != sent_counts_ && !sent_before.is_null()) pending_counts_ = true;
  REVIVE_ASSIGN(workshop, ctx_.storage().settings().get("workshop_name"));
  Json tiles = Json::array();
  for (const auto& [id, s] : shown_) tiles.push_back(s.tile);
  return Json{{"workshop", workshop.value_or("")}, {"counts", sent_counts_}, {"tiles", tiles}};
}

Result<Json> Wall::update() {
  const Seconds now = ctx_.now();
  Json tiles = Json::array(), gone = Json::array();
  for (auto& [id, tile] : pending_) {
    if (!dirty_.contains(id)) tiles.push_back(std::move(tile));
  }
  for (auto id : pending_gone_) {
    if (!dirty_.contains(id)) gone.push_back(id);
  }
  pending_.clear();
  pending_gone_.clear();
  // Laptops whose time on the floor ran out leave without an event of their own.
  for (auto it = shown_.begin(); it != shown_.end();) {
    if (!dirty_.contains(it->first) && !on_floor(it->second.summary, now, opts_.floor_window)) {
      gone.push_back(it->first);
      it = shown_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto id : dirty_) {
    REVIVE_ASSIGN(s, build(id));
    if (!s) {
      if (shown_.erase(id)) gone.push_back(id);
      continue;
    }
    // Sent when new or different; a snapshot in between may have updated the baseline already,
    // so a dirty tile is always sent (the screens may still show the old one).
    tiles.push_back(s->tile);
    shown_[id] = std::move(*s);
  }
  dirty_.clear();
  Json c = counts();  // today's count also changes at midnight, with no laptop changing
  if (tiles.empty() && gone.empty() && c == sent_counts_ && !pending_counts_) return Json();
  pending_counts_ = false;
  sent_counts_ = c;
  return Json{{"tiles", tiles}, {"gone", gone}, {"counts", std::move(c)}};
}

}  // namespace revive::server
