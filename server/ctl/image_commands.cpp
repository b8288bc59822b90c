#include "image_commands.hpp"

#include <fmt/core.h>

#include <chrono>
#include <cstdio>
#include <set>

#include "import_source.hpp"
#include "progress_bar.hpp"
#include "revive/image_ops.hpp"
#include "revive/image_store.hpp"

namespace revive::ctl {

namespace {

using Clock = std::chrono::steady_clock;

int fail(const Error& e) {
  fmt::print(stderr, "revivectl: error: {}\n", e.message);
  return 1;
}

Result<std::unique_ptr<ImageStore>> open_store(const ImageArgs& a, bool create) {
  if (a.store.empty()) {
    return make_error(Errc::invalid_input, "no store given (use --store DIR or set REVIVE_STORE)");
  }
  return ImageStore::open(a.store, create);
}

Result<std::optional<PublicKey>> trusted_key(const ImageArgs& a) {
  if (a.pubkey.empty()) return std::optional<PublicKey>{};
  auto pk = load_public_key(a.pubkey);
  if (!pk) return pk.error();
  return std::optional<PublicKey>(*pk);
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string rate(std::uint64_t bytes, double secs) {
  return secs > 0
             ? human_bytes(static_cast<std::uint64_t>(static_cast<double>(bytes) / secs)) + "/s"
             : "-";
}

// How the image's chunks were cut (manifest format versions 1 and 2).
std::string chunking_text(const Manifest& m) {
  return m.format_version == kContentDefinedFormatVersion
             ? "cut by content, up to " + human_bytes(m.chunk_size)
             : "of " + human_bytes(m.chunk_size);
}

}  // namespace

std::optional<std::uint64_t> parse_size(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t pos = 0;
  std::uint64_t v = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    if (v > (UINT64_MAX - 9) / 10) return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(text[pos++] - '0');
  }
  if (pos == 0) return std::nullopt;
  std::string unit = text.substr(pos);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  if (unit.size() == 2 && (unit[1] == 'i' || unit[1] == 'I')) unit.pop_back();
  int shift = 0;
  if (unit.empty()) {
    shift = 0;
  } else if (unit == "K" || unit == "k") {
    shift = 10;
  } else if (unit == "M" || unit == "m") {
    shift = 20;
  } else if (unit == "G" || unit == "g") {
    shift = 30;
  } else {
    return std::nullopt;
  }
  if (shift && v > (UINT64_MAX >> shift)) return std::nullopt;
  return v << shift;
}

int image_import(const ImageArgs& a, const std::atomic<bool>& cancel) {
  auto store = open_store(a, /*create=*/true);
  if (!store) return fail(store.error());
  ProgressBar bar("import", a.progress);
  ImportOptions o;
  o.name = a.name;
  o.chunk_size = a.chunk_size;
  o.content_defined = a.content_chunks;
  o.threads = a.threads;
  o.zstd_level = a.level;
  o.replace = a.replace;
  o.raw = a.raw;
  o.check_free_space = !a.no_space_check;
  o.cancel = &cancel;
  o.progress = [&](std::uint64_t d, std::uint64_t t) { bar.update(d, t); };
  const auto t0 = Clock::now();
  auto outcome = import_any(**store, a.file, o);
  bar.finish();
  if (!outcome) return fail(outcome.error());
  const ImportReport* r = &outcome->report;
  const double secs = seconds_since(t0);
  const Manifest& m = r->manifest;
  const std::size_t data = m.data_chunk_count();
  fmt::print("imported {} ({}) from {} ({})\n", m.name, m.image_id, a.file, outcome->path);
  for (const auto& note : outcome->notes) fmt::print("  note: {}\n", note);
  fmt::print("  size {}: {} chunks with data ({}), {} all-zero runs (holes)\n",
             human_bytes(m.logical_size), data, chunking_text(m), m.extents.size() - data);
  fmt::print(
      "  stored {} ({:.2f}x smaller than the data), {} new chunks ({}), {} already in the store\n",
      human_bytes(m.stored_bytes),
      m.stored_bytes ? static_cast<double>(m.data_bytes) / static_cast<double>(m.stored_bytes)
                     : 0.0,
      r->chunks_new, human_bytes(r->bytes_written), r->chunks_reused);
  fmt::print("  partition table: {} ({} partitions)\n", m.partitions.scheme,
             m.partitions.partitions.size());
  fmt::print("  took {:.2f} s ({})\n", secs, rate(m.logical_size, secs));
  return 0;
}

int image_export(const ImageArgs& a, const std::atomic<bool>& cancel) {
  auto store = open_store(a, false);
  if (!store) return fail(store.error());
  auto pk = trusted_key(a);
  if (!pk) return fail(pk.error());
  ProgressBar bar("export", a.progress);
  ExportOptions o;
  o.threads = a.threads;
  o.overwrite = a.force;
  o.trusted = *pk;
  o.cancel = &cancel;
  o.progress = [&](std::uint64_t d, std::uint64_t t) { bar.update(d, t); };
  const auto t0 = Clock::now();
  auto r = export_raw_image(**store, a.name, a.file, o);
  bar.finish();
  if (!r) return fail(r.error());
  const double secs = seconds_since(t0);
  fmt::print("exported {} to {}: {} ({} of data, holes left sparse) in {:.2f} s ({})\n", a.name,
             a.file, human_bytes(r->logical_size), human_bytes(r->bytes_written), secs,
             rate(r->logical_size, secs));
  return 0;
}

namespace {

int verify_one(const ImageStore& store, const std::string& name, const std::optional<PublicKey>& pk,
               const ImageArgs& a) {
  ProgressBar bar("verify " + name, a.progress);
  VerifyOptions o;
  o.threads = a.threads;
  o.trusted = pk;
  o.progress = [&](std::uint64_t d, std::uint64_t t) { bar.update(d, t); };
  auto r = verify_image(store, name, o);
  bar.finish();
  if (!r) {
    fmt::print("image {}: FAILED: {}\n", name, r.error().message);
    return 1;
  }
  if (r->signature_problem.empty()) {
    fmt::print("image {}: signature OK (key {})\n", name,
               key_id(pk.value_or(store.key().public_key())));
  } else {
    fmt::print("image {}: signature BAD: {}\n", name, r->signature_problem);
  }
  for (const auto& p : r->bad_chunks) {
    fmt::print("image {}: BAD chunk at offset {} (extent {}): {}\n", name, p.offset, p.extent,
               p.problem);
  }
  fmt::print("image {}: {} of {} chunks OK -> {}\n", name, r->chunks_checked - r->bad_chunks.size(),
             r->chunks_checked, r->ok() ? "verified" : "FAILED");
  return r->ok() ? 0 : 1;
}

}  // namespace

int image_verify(const ImageArgs& a) {
  auto store = open_store(a, false);
  if (!store) return fail(store.error());
  auto pk = trusted_key(a);
  if (!pk) return fail(pk.error());
  if (!a.all) {
    if (a.name.empty()) return fail(make_error(Errc::invalid_input, "name an image or use --all"));
    return verify_one(**store, a.name, *pk, a);
  }
  auto names = (*store)->list();
  if (!names) return fail(names.error());
  int rc = 0;
  for (const auto& n : *names) rc |= verify_one(**store, n, *pk, a);
  // Store-wide: every chunk file must hold what its name says, referenced or not.
  ProgressBar bar("check chunk files", a.progress);
  auto sc = check_store_chunks(**store, a.threads,
                               [&](std::uint64_t d, std::uint64_t t) { bar.update(d, t); });
  bar.finish();
  if (!sc) return fail(sc.error());
  for (const auto& p : sc->stray_files) fmt::print("store: stray file {}\n", p);
  for (const auto& b : sc->bad) fmt::print("store: BAD chunk file {}\n", b);
  fmt::print("store: {} chunk files checked, {} bad, {} stray files\n", sc->chunk_files,
             sc->bad.size(), sc->stray_files.size());
  return rc | (sc->bad.empty() && sc->stray_files.empty() ? 0 : 1);
}

int image_info(const ImageArgs& a) {
  auto store = open_store(a, false);
  if (!store) return fail(store.error());
  auto pk = trusted_key(a);
  if (!pk) return fail(pk.error());
  auto text = (*store)->read_manifest_text(a.name);
  if (!text) return fail(text.error());
  auto sm = parse_signed_manifest(*text);
  if (!sm) return fail(sm.error().with_context("image " + a.name));
  const auto sig = check_signature(*sm, pk->value_or((*store)->key().public_key()));
  if (a.json) {
    fmt::print("{}\n", sm->canonical);
    return sig ? 0 : 1;
  }
  const Manifest& m = sm->manifest;
  const std::size_t data = m.data_chunk_count();
  fmt::print("name:            {}\n", m.name);
  fmt::print("id:              {}\n", m.image_id);
  fmt::print("source:          {}\n", m.source);
  fmt::print("created:         {}\n", m.created_at);
  fmt::print("size:            {} ({} bytes)\n", human_bytes(m.logical_size), m.logical_size);
  fmt::print("min disk size:   {} bytes\n", m.min_disk_size);
  fmt::print("chunks:          {} with data ({}), {} holes\n", data, chunking_text(m),
             m.extents.size() - data);
  fmt::print("data:            {}\n", human_bytes(m.data_bytes));
  fmt::print("stored:          {} (zstd, {:.2f}x)\n", human_bytes(m.stored_bytes),
             m.stored_bytes
                 ? static_cast<double>(m.data_bytes) / static_cast<double>(m.stored_bytes)
                 : 0.0);
  fmt::print("signature:       {}\n",
             sig ? "OK (key " + key_id(sm->signer) + ")" : "BAD: " + sig.error().message);
  fmt::print("partition table: {}", m.partitions.scheme);
  if (m.partitions.scheme != "none") {
    fmt::print(", {}-byte sectors{}", m.partitions.sector_size,
               m.partitions.disk_guid.empty() ? "" : ", disk " + m.partitions.disk_guid);
  }
  fmt::print("\n");
  for (const auto& p : m.partitions.partitions) {
    const std::uint64_t bytes = (p.last_lba - p.first_lba + 1) * m.partitions.sector_size;
    fmt::print("  {:>3}  {:>12} - {:<12} {:>10}  {}{}\n", p.number, p.first_lba, p.last_lba,
               human_bytes(bytes), p.type_name.empty() ? p.type : p.type_name,
               p.name.empty() ? "" : "  \"" + p.name + "\"");
  }
  for (const auto& w : m.partitions.warnings) fmt::print("  warning: {}\n", w);
  return sig ? 0 : 1;
}

int image_list(const ImageArgs& a) {
  auto store = open_store(a, false);
  if (!store) return fail(store.error());
  auto names = (*store)->list();
  if (!names) return fail(names.error());
  if (names->empty()) {
    fmt::print("no images in {}\n", a.store);
    return 0;
  }
  int rc = 0;
  fmt::print("{:<32} {:>10} {:>10} {:>7}  {:<20}  {}\n", "NAME", "SIZE", "STORED", "CHUNKS",
             "CREATED", "ID");
  for (const auto& n : *names) {
    auto m = (*store)->load(n);
    if (!m) {
      fmt::print("{:<32} UNREADABLE: {}\n", n, m.error().message);
      rc = 1;
      continue;
    }
    fmt::print("{:<32} {:>10} {:>10} {:>7}  {:<20}  {}\n", n, human_bytes(m->logical_size),
               human_bytes(m->stored_bytes), m->data_chunk_count(), m->created_at, m->image_id);
  }
  return rc;
}

int image_rm(const ImageArgs& a) {
  auto store = open_store(a, false);
  if (!store) return fail(store.error());
  auto lock = (*store)->lock_shared();
  if (!lock) return fail(lock.error());
  if (auto r = (*store)->remove(a.name); !r) return fail(r.error());
  fmt::print("removed image {} (its chunks are freed by `revivectl image gc`)\n", a.name);
  return 0;
}

int image_gc(const ImageArgs& a) {
  auto store = open_store(a, false);
  if (!store) return fail(store.error());
  auto lock = (*store)->lock_exclusive(false);
  if (!lock && lock.error().code == Errc::busy) {
    fmt::print(stderr, "revivectl: waiting for imports and exports on {} to finish...\n", a.store);
    lock = (*store)->lock_exclusive(true);
  }
  if (!lock) return fail(lock.error());
  auto r = (*store)->gc(a.dry_run);
  if (!r) return fail(r.error());
  fmt::print("{} {} unreferenced chunks ({}) and {} leftover temp files; {} chunks in use\n",
             a.dry_run ? "would remove" : "removed", r->chunks_removed,
             human_bytes(r->bytes_removed), r->temp_files_removed, r->chunks_kept);
  return 0;
}

int image_key(const ImageArgs& a) {
  auto store = open_store(a, false);
  if (!store) return fail(store.error());
  const auto& pk = (*store)->key().public_key();
  fmt::print("{}", public_key_to_text(pk));
  fmt::print(stderr, "key id {} (file {})\n", key_id(pk), (*store)->public_key_path().string());
  return 0;
}

}  // namespace revive::ctl
