#pragma once
// The workshop wall screen's view model (issue 16): one tile per laptop on the floor (model,
// asset tag or serial tail, stage, progress with rate and ETA, grade, chunk source, failure
// reason), the counts at the top and today's throughput. Built from the device summaries
// (domain/views.hpp), pure of HTTP and SQL. Everything here is read-only: the wall changes
// nothing. Text is not here: tiles carry codes (stage, status, failure kind) that the browser
// words in the viewer's language (server/web/i18n/).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "domain/context.hpp"
#include "domain/views.hpp"

namespace revive::server {

struct WallOptions {
  /// A laptop stays on the wall this long after it was last heard of (a done or failed laptop
  /// waits to be picked up); a running one always shows.
  Seconds floor_window = 12L * 3600;
  /// The start of the local day `t` falls in (today's throughput); empty: the server's
  /// local midnight.
  std::function<Seconds(Seconds t)> day_start;
};

/// The asset tag of an inventory (SMBIOS chassis), or "" when absent or a firmware
/// placeholder ("No Asset Tag", "To Be Filled By O.E.M.", ...). Pure.
std::string asset_tag_of(const Json& inventory);
/// What a tile is called: the asset tag, else "…" and the serial's last 6 characters, else
/// "#id". Pure.
std::string tile_label(const std::string& asset_tag, const std::string& serial, std::int64_t id);
/// Whether a laptop (its summary) belongs on the wall at `now`. Pure.
bool on_floor(const Json& summary, Seconds now, Seconds window);
/// One tile from a device summary (Views::device_summary): {id, model, vendor, label, status
/// (waiting|working|done|failed), stage (waiting|inventory|wipe|test|deploy|provision|certify|
/// finish|done), fraction (0..1 or null), rate (bytes/s or null), eta_s (or null), grade (or
/// null), source ({kind: server|peer|queued, peer: label, place} while deploying, or null),
/// failure ({kind: stalled|step_failed|cancelled, step, detail} or null)}. `peer_label` names a
/// peer laptop by its id. Pure.
Json wall_tile(const Json& summary, const std::string& asset_tag,
               const std::function<std::string(std::int64_t)>& peer_label);
/// {waiting, working, done, failed, done_today} over the tiles; `finished_at` per tile id
/// (runs that are done) decides what counts as today. Pure.
Json wall_counts(const std::map<std::int64_t, Json>& tiles,
                 const std::map<std::int64_t, Seconds>& finished_at, Seconds day_start);

class Wall {
 public:
  Wall(DomainContext& ctx, Views& views, WallOptions opts = {});

  /// Everything the wall shows, for a screen that just connected: {workshop, counts, tiles
  /// (ordered by id)}; rebuilds every tile. io on a storage failure.
  Result<Json> snapshot();
  /// Notes a laptop whose tile may have changed, shown at the next update().
  void changed(std::int64_t device) { dirty_.insert(device); }
  /// What changed since the last update: {tiles (changed or new), gone (ids that left the
  /// floor), counts}, or null when nothing did. io on a storage failure (the changes are kept
  /// for the next call).
  Result<Json> update();

 private:
  // bugprone-exception-escape: nlohmann::json's noexcept destructor flattens nested values into
  // a std::vector, which could throw bad_alloc; the check blames every struct holding a Json.
  struct Shown {  // NOLINT(bugprone-exception-escape)
    Json tile;
    Json summary;
    std::optional<Seconds> finished_at;
  };
  /// The tile of one device, or nullopt when it is not on the floor.
  Result<std::optional<Shown>> build(std::int64_t device);
  Json counts() const;
  std::string peer_label(std::int64_t id);
  Result<std::string> asset_tag(std::int64_t device);

  DomainContext& ctx_;
  Views& views_;
  WallOptions opts_;
  std::set<std::int64_t> dirty_;
  std::map<std::int64_t, Shown> shown_;
  std::map<std::int64_t, std::string> asset_tags_;
  Json sent_counts_;
  // What a snapshot() found changed, for the screens connected before it.
  std::map<std::int64_t, Json> pending_;
  std::set<std::int64_t> pending_gone_;
  bool pending_counts_ = false;
  bool has_baseline_ = false;  ///< a snapshot was taken: screens may be showing shown_  // read
                               ///< once per laptop from its inventory
};

}  // namespace revive::server
