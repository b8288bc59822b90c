#include "build_report.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "revive/encoding.hpp"
#include "revive/sha256.hpp"

namespace revive::ctl {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::vector<InstalledPackage> installed_packages(std::string_view dpkg_status) {
  std::vector<InstalledPackage> out;
  InstalledPackage cur;
  bool installed = false;
  auto flush = [&] {
    if (installed && !cur.name.empty()) out.push_back(cur);
    cur = {};
    installed = false;
  };
  std::istringstream in{std::string(dpkg_status)};
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) {
      flush();
    } else if (line.starts_with("Package: ")) {
      cur.name = line.substr(9);
    } else if (line.starts_with("Version: ")) {
      cur.version = line.substr(9);
    } else if (line.starts_with("Status: ")) {
      installed = line.ends_with(" installed");
    }
  }
  flush();
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

ChunkReuse chunk_reuse(const Manifest* previous, const Manifest& now) {
  ChunkReuse r;
  std::set<Digest> before;
  if (previous) {
    r.previous_image_id = previous->image_id;
    for (const auto& e : previous->extents)
      if (e.sha256) before.insert(*e.sha256);
  }
  for (const auto& e : now.extents) {
    if (!e.sha256) continue;
    ++r.data_chunks;
    r.data_bytes += e.length;
    if (before.count(*e.sha256)) {
      ++r.same_chunks;
    } else {
      r.new_bytes += e.length;
    }
  }
  return r;
}

Result<std::string> recipe_hash(const Recipe& r) {
  std::set<fs::path> files = {r.file};
  for (const auto& h : r.first_boot) files.insert(h.script);
  std::error_code ec;
  if (!r.overlay.empty()) {
    for (fs::recursive_directory_iterator it(r.overlay, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (it->is_regular_file() || it->is_symlink()) files.insert(it->path());
    }
    if (ec)
      return make_error(Errc::io, "reading overlay " + r.overlay.string() + ": " + ec.message());
  }
  Sha256 h;
  for (const auto& f : files) {
    const std::string rel = f.lexically_relative(r.dir).string();
    std::string content;
    if (fs::is_symlink(f)) {
      content = "symlink:" + fs::read_symlink(f).string();
    } else {
      std::ifstream in(f, std::ios::binary);
      if (!in) return make_error(Errc::io, "reading " + f.string() + " for the recipe hash");
      std::ostringstream s;
      s << in.rdbuf();
      content = s.str();
    }
    // Length-prefixed, so no two file sets hash alike by moving bytes between name and body.
    const std::string head =
        std::to_string(rel.size()) + ":" + rel + ":" + std::to_string(content.size()) + ":";
    h.update(std::as_bytes(std::span(head.data(), head.size())));
    h.update(std::as_bytes(std::span(content.data(), content.size())));
  }
  return digest_hex(h.finish());
}

Json build_report(const Recipe& r, const BuildFacts& f, const Manifest& m,
                  const ChunkReuse& reuse) {
  Json packages = Json::object();
  for (const auto& p : f.packages) packages[p.name] = p.version;
  Json steps = Json::array();
  double total = 0;
  for (const auto& s : f.steps) {
    steps.push_back({{"step", s.name}, {"seconds", s.seconds}});
    total += s.seconds;
  }
  Json reuse_json = {{"data_chunks", reuse.data_chunks},
                     {"same_as_previous", reuse.same_chunks},
                     {"data_bytes", reuse.data_bytes},
                     {"new_bytes", reuse.new_bytes}};
  if (reuse.previous_image_id.empty()) {
    reuse_json["previous_image_id"] = nullptr;
  } else {
    reuse_json["previous_image_id"] = reuse.previous_image_id;
    reuse_json["fraction"] = reuse.fraction();
    reuse_json["bytes_fraction"] = reuse.bytes_fraction();
  }
  return {{"recipe", r.name},
          {"recipe_file", r.file.string()},
          {"recipe_sha256", f.recipe_hash},
          {"image_id", m.image_id},
          {"created_at", m.created_at},
          {"mmdebstrap_mode", f.mmdebstrap_mode},
          {"needs_root", f.needs_root},
          {"sizes",
           {{"disk", f.disk_size},
            {"root_files", f.root_used_bytes},
            {"data", m.data_bytes},
            {"stored", m.stored_bytes},
            {"chunk_size", m.chunk_size}}},
          {"deb_cache",
           {{"files_before", f.deb_cache_files_before}, {"files_after", f.deb_cache_files_after}}},
          {"build_seconds", total},
          {"steps", steps},
          {"chunk_reuse", reuse_json},
          {"package_count", f.packages.size()},
          {"packages", packages}};
}

}  // namespace revive::ctl
