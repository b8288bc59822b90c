#pragma once
// A store directory: signed manifests, the chunk store they share, and the signing key.
//
//   DIR/revive-store        marker + layout version
//   DIR/keys/ed25519.{key,pub}
//   DIR/images/NAME.json    signed manifest (written last: an image exists once this exists)
//   DIR/chunks/ab/<sha>.zst
//   DIR/tmp/                temp files, never read; gc removes leftovers
//   DIR/lock                flock: writers and readers shared, gc exclusive

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "revive/chunk_store.hpp"
#include "revive/error.hpp"
#include "revive/manifest.hpp"
#include "revive/signing.hpp"

namespace revive {

/// Holds an flock on the store's lock file until destroyed.
class StoreLock {
 public:
  StoreLock() = default;
  explicit StoreLock(int fd) : fd_(fd) {}
  ~StoreLock();
  StoreLock(StoreLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  StoreLock& operator=(StoreLock&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  StoreLock(const StoreLock&) = delete;

 private:
  int fd_ = -1;
};

struct GcReport {
  std::uint64_t chunks_kept = 0;
  std::uint64_t chunks_removed = 0;
  std::uint64_t bytes_removed = 0;
  std::uint64_t temp_files_removed = 0;
};

class ImageStore {
 public:
  /// Opens the store at `root`; with `create`, makes it (and its key pair) when absent.
  /// Refuses a non-empty directory that is not a store.
  static Result<std::unique_ptr<ImageStore>> open(const std::filesystem::path& root, bool create);

  const std::filesystem::path& root() const { return root_; }
  ChunkStore& chunks() { return chunks_; }
  const ChunkStore& chunks() const { return chunks_; }
  const KeyPair& key() const { return key_; }
  std::filesystem::path tmp_dir() const { return root_ / "tmp"; }
  std::filesystem::path public_key_path() const { return root_ / "keys" / "ed25519.pub"; }

  /// Names of all images, sorted.
  Result<std::vector<std::string>> list() const;

  /// Path of an image's manifest file.
  std::filesystem::path manifest_path(const std::string& name) const;

  /// Raw manifest file text; not_found naming the image when absent.
  Result<std::string> read_manifest_text(const std::string& name) const;

  /// Manifest checked against `trusted` (default: this store's own key).
  Result<Manifest> load(const std::string& name,
                        const std::optional<PublicKey>& trusted = std::nullopt) const;

  /// Signs and publishes a manifest. Without `replace`, fails with already_exists when the
  /// name is taken (also when another import took it a moment ago).
  Result<void> publish(const Manifest& m, bool replace);

  /// Re-signs, with this store's key, every manifest this key signed before signatures
  /// covered the document kind (see signed_document.hpp), so agents that refuse such
  /// signatures can still install the store's images. The names re-signed; a manifest signed
  /// by another key or not readable is left alone (its own errors surface when it is used).
  /// io when a re-signed manifest cannot be written.
  Result<std::vector<std::string>> resign_legacy_manifests();

  /// Removes the image's manifest (its chunks stay until gc).
  Result<void> remove(const std::string& name);

  /// Shared lock for anything that reads or adds; blocks while gc runs.
  Result<StoreLock> lock_shared() const;
  /// Exclusive lock for gc; with wait=false returns busy when someone holds it.
  Result<StoreLock> lock_exclusive(bool wait) const;

  /// Removes chunks no manifest refers to and leftover temp files. The caller holds the
  /// exclusive lock. Fails without deleting anything when any manifest cannot be read.
  Result<GcReport> gc(bool dry_run);

 private:
  ImageStore(std::filesystem::path root, ChunkStore chunks, KeyPair key)
      : root_(std::move(root)), chunks_(std::move(chunks)), key_(key) {}

  Result<StoreLock> lock(int op, bool wait) const;

  std::filesystem::path root_;
  ChunkStore chunks_;
  KeyPair key_;
};

}  // namespace revive
