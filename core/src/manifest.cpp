#include "revive/manifest.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "revive/bounded_json.hpp"
#include "revive/encoding.hpp"
#include "revive/signed_document.hpp"

namespace revive {

using nlohmann::json;

namespace {

constexpr std::uint64_t kMaxLogicalSize = 1ull << 56;  // 64 PiB: a bound, not a real disk

json partitions_to_json(const PartitionTable& t) {
  json parts = json::array();
  for (const auto& p : t.partitions) {
    parts.push_back({{"number", p.number},
                     {"first_lba", p.first_lba},
                     {"last_lba", p.last_lba},
                     {"type", p.type},
                     {"type_name", p.type_name},
                     {"name", p.name}});
  }
  json out = {{"scheme", t.scheme}, {"sector_size", t.sector_size}, {"partitions", parts}};
  if (!t.disk_guid.empty()) out["disk_guid"] = t.disk_guid;
  if (!t.warnings.empty()) out["warnings"] = t.warnings;
  return out;
}

// Typed accessors that turn a wrong shape into a message naming the field.
struct Reader {
  std::string error;

  const json* field(const json& obj, const char* key) {
    if (!error.empty()) return nullptr;
    if (!obj.is_object()) {
      error = "expected an object around \"" + std::string(key) + "\"";
      return nullptr;
    }
    auto it = obj.find(key);
    if (it == obj.end()) {
      error = "missing field \"" + std::string(key) + "\"";
      return nullptr;
    }
    return &*it;
  }
  std::uint64_t u64(const json& obj, const char* key) {
    const json* v = field(obj, key);
    if (!v) return 0;
    if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<std::int64_t>() >= 0)) {
      error = "field \"" + std::string(key) + "\" must be a non-negative integer";
      return 0;
    }
    return v->get<std::uint64_t>();
  }
  std::string str(const json& obj, const char* key, std::size_t max_len = 4096) {
    const json* v = field(obj, key);
    if (!v) return {};
    if (!v->is_string()) {
      error = "field \"" + std::string(key) + "\" must be a string";
      return {};
    }
    auto s = v->get<std::string>();
    if (s.size() > max_len) {
      error = "field \"" + std::string(key) + "\" is longer than " + std::to_string(max_len);
      return {};
    }
    return s;
  }
  std::string opt_str(const json& obj, const char* key) {
    if (!error.empty() || !obj.is_object() || !obj.contains(key)) return {};
    return str(obj, key);
  }
};

PartitionTable partitions_from_json(const json& j, Reader& r) {
  PartitionTable t;
  t.scheme = r.str(j, "scheme", 16);
  t.sector_size = static_cast<std::uint32_t>(r.u64(j, "sector_size"));
  t.disk_guid = r.opt_str(j, "disk_guid");
  const json* parts = r.field(j, "partitions");
  if (!parts) return t;
  if (!parts->is_array() || parts->size() > 4096) {
    r.error = "\"partitions\" must be an array of at most 4096 entries";
    return t;
  }
  for (const auto& p : *parts) {
    PartitionEntry e;
    e.number = static_cast<std::uint32_t>(r.u64(p, "number"));
    e.first_lba = r.u64(p, "first_lba");
    e.last_lba = r.u64(p, "last_lba");
    e.type = r.str(p, "type", 64);
    e.type_name = r.str(p, "type_name", 128);
    e.name = r.str(p, "name", 256);
    if (!r.error.empty()) return t;
    t.partitions.push_back(std::move(e));
  }
  if (j.contains("warnings")) {
    const json& w = j["warnings"];
    if (!w.is_array() || w.size() > 4096) {
      r.error = "\"warnings\" must be an array of strings";
      return t;
    }
    for (const auto& s : w) {
      if (!s.is_string()) {
        r.error = "\"warnings\" must be an array of strings";
        return t;
      }
      t.warnings.push_back(s.get<std::string>());
    }
  }
  return t;
}

// The unit extents start and end on: a chunk in version 1, a 4 KiB block in version 2.
std::uint64_t extent_grain(const Manifest& m) {
  return m.format_version == kContentDefinedFormatVersion ? kCutBlock : m.chunk_size;
}

// Where an extent may start and end: version 1 on chunk boundaries, data one chunk long;
// version 2 on 4 KiB blocks, data up to one chunk long. Either may end at the disk's end.
// The problem, if any, reads after "extent N ".
std::optional<std::string> extent_shape_problem(const Manifest& m, const Extent& e) {
  const bool fixed = m.format_version == kFixedChunksFormatVersion;
  const std::uint64_t grain = extent_grain(m);
  const bool ends_image = e.offset + e.length == m.logical_size;
  if (e.offset % grain != 0) return fixed ? "is not chunk-aligned" : "is not 4 KiB-aligned";
  if (e.is_hole()) {
    if (e.length % grain != 0 && !ends_image)
      return fixed ? "is a hole of part of a chunk" : "is a hole of part of a 4 KiB block";
    if (e.stored_size != 0) return "is a hole with stored bytes";
    return std::nullopt;
  }
  if (fixed && e.length != std::min(m.chunk_size, m.logical_size - e.offset))
    return "is data that is not one chunk long";
  if (!fixed && (e.length > m.chunk_size || (e.length % grain != 0 && !ends_image)))
    return "is data that is not whole 4 KiB blocks of at most one chunk";
  return std::nullopt;
}

Result<void> validate_layout(const Manifest& m) {
  auto bad = [](const std::string& msg) -> Result<void> {
    return make_error(Errc::corrupt, "manifest: " + msg);
  };
  if (m.format_version != kFixedChunksFormatVersion &&
      m.format_version != kContentDefinedFormatVersion) {
    return make_error(Errc::unsupported, "manifest format version " +
                                             std::to_string(m.format_version) +
                                             " is not supported (this build reads versions " +
                                             std::to_string(kFixedChunksFormatVersion) + " and " +
                                             std::to_string(kContentDefinedFormatVersion) + ")");
  }
  if (m.chunk_size < kMinChunkSize || m.chunk_size > kMaxChunkSize ||
      (m.chunk_size & (m.chunk_size - 1)) != 0) {
    return bad("chunk_size " + std::to_string(m.chunk_size) +
               " is not a power of two in [64 KiB, 64 MiB]");
  }
  if (m.logical_size == 0 || m.logical_size > kMaxLogicalSize) {
    return bad("logical_size " + std::to_string(m.logical_size) + " is out of range");
  }
  if (m.min_disk_size > m.logical_size) return bad("min_disk_size exceeds logical_size");
  if (auto r = validate_image_name(m.name); !r) return bad(r.error().message);
  std::uint64_t pos = 0;
  std::uint64_t data = 0;
  std::uint64_t stored = 0;
  for (std::size_t i = 0; i < m.extents.size(); ++i) {
    const Extent& e = m.extents[i];
    const std::string where = "extent " + std::to_string(i);
    if (e.offset != pos)
      return bad(where + " starts at " + std::to_string(e.offset) + ", expected " +
                 std::to_string(pos));
    if (e.length == 0 || e.length > m.logical_size - pos)
      return bad(where + " has an invalid length");
    if (auto problem = extent_shape_problem(m, e)) return bad(where + " " + *problem);
    if (!e.is_hole()) {
      data += e.length;
      stored += e.stored_size;
    }
    pos += e.length;
  }
  if (pos != m.logical_size)
    return bad("extents cover " + std::to_string(pos) + " of " + std::to_string(m.logical_size) +
               " bytes");
  if (data != m.data_bytes) return bad("data_bytes does not match the extents");
  if (stored != m.stored_bytes) return bad("stored_bytes does not match the extents");
  return {};
}

}  // namespace

std::size_t Manifest::data_chunk_count() const {
  return static_cast<std::size_t>(
      std::count_if(extents.begin(), extents.end(), [](const Extent& e) { return !e.is_hole(); }));
}

std::vector<std::size_t> Manifest::data_extents() const {
  std::vector<std::size_t> out;
  out.reserve(extents.size());
  for (std::size_t i = 0; i < extents.size(); ++i) {
    if (!extents[i].is_hole()) out.push_back(i);
  }
  return out;
}

std::string canonical_json(const Manifest& m) {
  json extents = json::array();
  for (const auto& e : m.extents) {
    if (e.is_hole()) {
      extents.push_back({{"offset", e.offset}, {"length", e.length}, {"hole", true}});
    } else {
      extents.push_back({{"offset", e.offset},
                         {"length", e.length},
                         {"sha256", digest_hex(*e.sha256)},
                         {"stored", e.stored_size}});
    }
  }
  json j = {{"format_version", m.format_version},
            {"image_id", m.image_id},
            {"name", m.name},
            {"source", m.source},
            {"logical_size", m.logical_size},
            {"min_disk_size", m.min_disk_size},
            {"chunk_size", m.chunk_size},
            {"data_bytes", m.data_bytes},
            {"stored_bytes", m.stored_bytes},
            {"created_at", m.created_at},
            {"compression", "zstd"},
            {"hash", "sha256"},
            {"partition_table", partitions_to_json(m.partitions)},
            {"extents", std::move(extents)}};
  // nlohmann::json objects are std::map: keys come out sorted, so dump() is canonical.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Manifest> manifest_from_json(std::string_view text) {
  if (text.size() > kMaxManifestBytes)
    return make_error(Errc::invalid_input, "manifest is too large");
  json j = parse_json_bounded(text);
  if (j.is_discarded()) return make_error(Errc::corrupt, "manifest is not valid JSON");
  return [&]() -> Result<Manifest> {
    Reader r;
    Manifest m;
    m.format_version =
        static_cast<int>(std::min<std::uint64_t>(r.u64(j, "format_version"), 1u << 30));
    m.image_id = r.str(j, "image_id", 64);
    m.name = r.str(j, "name", 128);
    m.source = r.str(j, "source");
    m.logical_size = r.u64(j, "logical_size");
    m.min_disk_size = r.u64(j, "min_disk_size");
    m.chunk_size = r.u64(j, "chunk_size");
    m.data_bytes = r.u64(j, "data_bytes");
    m.stored_bytes = r.u64(j, "stored_bytes");
    m.created_at = r.str(j, "created_at", 64);
    if (r.error.empty() &&
        (r.str(j, "compression", 16) != "zstd" || r.str(j, "hash", 16) != "sha256")) {
      if (r.error.empty()) r.error = "unsupported compression or hash (need zstd and sha256)";
    }
    if (const json* pt = r.field(j, "partition_table")) m.partitions = partitions_from_json(*pt, r);
    const json* ex = r.field(j, "extents");
    if (ex && !ex->is_array()) r.error = "\"extents\" must be an array";
    if (!r.error.empty()) return make_error(Errc::corrupt, "manifest: " + r.error);
    // Bound before allocating: at most one extent per chunk (version 2: per 4 KiB block), +1
    // for a short tail.
    if (m.chunk_size >= kMinChunkSize && ex->size() > m.logical_size / extent_grain(m) + 1) {
      return make_error(Errc::corrupt, "manifest: more extents than chunks");
    }
    m.extents.reserve(ex->size());
    for (const auto& e : *ex) {
      Extent x;
      x.offset = r.u64(e, "offset");
      x.length = r.u64(e, "length");
      if (e.is_object() && e.contains("hole")) {
        if (!e["hole"].is_boolean() || !e["hole"].get<bool>() || e.contains("sha256")) {
          r.error = "extent with a malformed hole marker";
        }
      } else {
        auto d = parse_digest(r.str(e, "sha256", 64));
        if (r.error.empty() && !d) r.error = "extent sha256 is not 64 hex digits";
        x.sha256 = d;
        x.stored_size = r.u64(e, "stored");
      }
      if (!r.error.empty()) {
        return make_error(Errc::corrupt,
                          "manifest: extent " + std::to_string(m.extents.size()) + ": " + r.error);
      }
      m.extents.push_back(x);
    }
    REVIVE_TRY(validate_layout(m));
    return m;
  }();
}

std::string sign_manifest(const Manifest& m, const KeyPair& key) {
  return sign_canonical("manifest", canonical_json(m), key);
}

Result<SignedManifest> parse_signed_manifest(std::string_view text) {
  auto d = parse_signed_document(text, "manifest", kMaxManifestBytes);
  if (!d) return d.error();
  auto m = manifest_from_json(d->canonical);
  if (!m) return m.error();
  SignedManifest sm;
  sm.manifest = std::move(*m);
  sm.canonical = std::move(d->canonical);
  sm.signer = d->signer;
  sm.signature = d->signature;
  sm.legacy = d->legacy;
  return sm;
}

Result<void> check_signature(const SignedManifest& sm, const PublicKey& trusted) {
  return check_document(SignedDocument{sm.canonical, sm.signer, sm.signature, sm.legacy}, trusted,
                        "manifest");
}

Result<Manifest> open_signed_manifest(std::string_view text, const PublicKey& trusted) {
  auto sm = parse_signed_manifest(text);
  if (!sm) return sm.error();
  REVIVE_TRY(check_signature(*sm, trusted));
  return std::move(sm->manifest);
}

Result<void> validate_image_name(std::string_view name) {
  if (name.empty() || name.size() > 128) {
    return make_error(Errc::invalid_input, "image name must be 1 to 128 characters");
  }
  if (name.front() == '.' || name.front() == '-') {
    return make_error(Errc::invalid_input,
                      "image name \"" + std::string(name) + "\" must not start with '.' or '-'");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == '+';
    if (!ok) {
      return make_error(Errc::invalid_input, "image name \"" + std::string(name) +
                                                 "\" may only hold letters, digits and . _ - +");
    }
  }
  return {};
}

}  // namespace revive
