#include "revive/image_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <unordered_set>

#include "revive/file_util.hpp"

namespace revive {

namespace fs = std::filesystem;

namespace {
constexpr std::string_view kMarker = "revive-store 1\n";
constexpr std::string_view kManifestSuffix = ".json";

struct DigestHash {
  std::size_t operator()(const Digest& d) const noexcept {
    std::size_t h;
    std::memcpy(&h, d.data(), sizeof h);
    return h;
  }
};
}  // namespace

StoreLock::~StoreLock() {
  if (fd_ >= 0) ::close(fd_);  // closing drops the flock
}

Result<std::unique_ptr<ImageStore>> ImageStore::open(const fs::path& root, bool create) {
  std::error_code ec;
  const fs::path marker = root / "revive-store";
  if (!fs::exists(marker, ec)) {
    if (!create) {
      return make_error(Errc::not_found,
                        "no Revive image store at " + root.string() +
                            " (it is created by the first `revivectl image import`)");
    }
    if (fs::exists(root, ec) && !fs::is_directory(root, ec)) {
      return make_error(Errc::invalid_input, root.string() + " exists and is not a directory");
    }
    if (fs::exists(root, ec) && !fs::is_empty(root, ec)) {
      return make_error(Errc::invalid_input,
                        root.string() +
                            " is a non-empty directory that is not a Revive store; "
                            "refusing to write into it");
    }
    fs::create_directories(root / "images", ec);
    if (ec) return make_error(Errc::io, "create store " + root.string() + ": " + ec.message());
    fs::create_directories(root / "tmp", ec);
    if (ec) return make_error(Errc::io, "create store " + root.string() + ": " + ec.message());
    REVIVE_TRY(write_file_atomic(marker, as_bytes(kMarker), root / "tmp"));
  } else {
    auto text = read_small_file(marker, 1024);
    if (!text) return text.error();
    if (*text != kMarker) {
      return make_error(Errc::unsupported, root.string() +
                                               " is a Revive store of another layout version (" +
                                               text->substr(0, text->find('\n')) + ")");
    }
  }
  auto chunks = ChunkStore::open(root / "chunks", root / "tmp");
  if (!chunks) return chunks.error();
  auto key = KeyPair::load_or_create(root / "keys");
  if (!key) return key.error().with_context("store key");
  return std::unique_ptr<ImageStore>(new ImageStore(root, std::move(*chunks), *key));
}

fs::path ImageStore::manifest_path(const std::string& name) const {
  return root_ / "images" / (name + std::string(kManifestSuffix));
}

Result<std::vector<std::string>> ImageStore::list() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(root_ / "images", ec), end; !ec && it != end; it.increment(ec)) {
    auto n = it->path().filename().string();
    if (!n.ends_with(kManifestSuffix)) continue;
    n.resize(n.size() - kManifestSuffix.size());
    if (validate_image_name(n)) names.push_back(std::move(n));
  }
  if (ec) return make_error(Errc::io, "list " + (root_ / "images").string() + ": " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::string> ImageStore::read_manifest_text(const std::string& name) const {
  REVIVE_TRY(validate_image_name(name));
  auto text = read_small_file(manifest_path(name), kMaxManifestBytes);
  if (!text && text.error().code == Errc::not_found) {
    return make_error(Errc::not_found, "no image named \"" + name + "\" in " + root_.string());
  }
  return text;
}

Result<Manifest> ImageStore::load(const std::string& name,
                                  const std::optional<PublicKey>& trusted) const {
  auto text = read_manifest_text(name);
  if (!text) return text.error();
  auto m = open_signed_manifest(*text, trusted.value_or(key_.public_key()));
  if (!m) return m.error().with_context("image " + name);
  return m;
}

Result<void> ImageStore::publish(const Manifest& m, bool replace) {
  REVIVE_TRY(validate_image_name(m.name));
  const std::string text = sign_manifest(m, key_);
  const fs::path target = manifest_path(m.name);
  if (replace) return write_file_atomic(target, as_bytes(text), tmp_dir());
  // Exclusive publish: write + fsync a temp file, then link(2), which fails if the name exists.
  const fs::path tmp = tmp_dir() / unique_tmp_name(m.name + ".json");
  {
    auto fd = open_file(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (!fd) return fd.error();
    auto w = write_all(fd->get(), as_bytes(text), tmp.string());
    if (w && ::fsync(fd->get()) != 0) w = errno_error(errno, "fsync " + tmp.string());
    if (!w) {
      ::unlink(tmp.c_str());
      return w.error();
    }
  }
  const int rc = ::link(tmp.c_str(), target.c_str());
  const int err = errno;
  ::unlink(tmp.c_str());
  if (rc != 0) {
    if (err == EEXIST) {
      return make_error(
          Errc::already_exists,
          "an image named \"" + m.name + "\" already exists (use --replace to replace it)");
    }
    return errno_error(err, "publish " + target.string());
  }
  return fsync_dir(target.parent_path());
}

Result<std::vector<std::string>> ImageStore::resign_legacy_manifests() {
  auto names = list();
  if (!names) return names.error();
  std::vector<std::string> resigned;
  for (const auto& name : *names) {
    auto text = read_manifest_text(name);
    if (!text) continue;
    auto sm = parse_signed_manifest(*text);
    if (!sm || !sm->legacy || sm->signer != key_.public_key()) continue;
    // Only what this very key signed over the body alone gets the current signature.
    const auto& body = sm->canonical;
    if (!verify_signature(key_.public_key(),
                          {reinterpret_cast<const std::uint8_t*>(body.data()), body.size()},
                          sm->signature)) {
      continue;
    }
    REVIVE_TRY(publish(sm->manifest, /*replace=*/true));
    resigned.push_back(name);
  }
  return resigned;
}

Result<void> ImageStore::remove(const std::string& name) {
  REVIVE_TRY(validate_image_name(name));
  const fs::path p = manifest_path(name);
  if (::unlink(p.c_str()) != 0) {
    if (errno == ENOENT)
      return make_error(Errc::not_found, "no image named \"" + name + "\" in " + root_.string());
    return errno_error(errno, "remove " + p.string());
  }
  return fsync_dir(p.parent_path());
}

Result<StoreLock> ImageStore::lock(int op, bool wait) const {
  auto fd = open_file(root_ / "lock", O_RDWR | O_CREAT, 0644);
  if (!fd) return fd.error();
  while (::flock(fd->get(), op | (wait ? 0 : LOCK_NB)) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK)
      return make_error(Errc::busy, "the store " + root_.string() + " is in use");
    return errno_error(errno, "lock " + (root_ / "lock").string());
  }
  return StoreLock(fd->release());
}

Result<StoreLock> ImageStore::lock_shared() const { return lock(LOCK_SH, true); }
Result<StoreLock> ImageStore::lock_exclusive(bool wait) const { return lock(LOCK_EX, wait); }

Result<GcReport> ImageStore::gc(bool dry_run) {
  std::unordered_set<Digest, DigestHash> live;
  auto names = list();
  if (!names) return names.error();
  for (const auto& n : *names) {
    // Any manifest we cannot read could reference any chunk: fail closed, delete nothing.
    auto text = read_manifest_text(n);
    if (!text) return text.error().with_context("gc stopped, nothing removed");
    auto sm = parse_signed_manifest(*text);
    if (!sm) return sm.error().with_context("gc stopped, nothing removed: image " + n);
    for (const auto& e : sm->manifest.extents) {
      if (e.sha256) live.insert(*e.sha256);
    }
  }
  GcReport report;
  std::vector<std::pair<Digest, std::uint64_t>> dead;
  REVIVE_TRY(chunks_.for_each([&](const Digest& d, std::uint64_t size) {
    if (live.count(d)) {
      ++report.chunks_kept;
    } else {
      dead.emplace_back(d, size);
    }
  }));
  for (const auto& [d, size] : dead) {
    if (!dry_run) REVIVE_TRY(chunks_.remove(d));
    ++report.chunks_removed;
    report.bytes_removed += size;
  }
  std::error_code ec;
  for (fs::directory_iterator it(tmp_dir(), ec), end; !ec && it != end; it.increment(ec)) {
    ++report.temp_files_removed;
    if (!dry_run) fs::remove(it->path(), ec);
  }
  return report;
}

}  // namespace revive
