#pragma once
// The image manifest: what a disk image is made of, in canonical JSON, signed with ed25519.
// nlohmann::json stays inside manifest.cpp; this header is plain C++.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "revive/error.hpp"
#include "revive/partition_table.hpp"
#include "revive/sha256.hpp"
#include "revive/signing.hpp"

namespace revive {

/// Version 1: every data extent is one chunk of chunk_size bytes (the last may be shorter), at a
/// multiple of chunk_size. Version 2: chunks cut where the content says (content_cuts.hpp): data
/// extents and holes are whole 4 KiB blocks (but the disk's end), data extents at most
/// chunk_size. Readers take both; an import writes 1 for fixed chunks so older readers still can.
inline constexpr int kFixedChunksFormatVersion = 1;
inline constexpr int kContentDefinedFormatVersion = 2;
/// The block version-2 extents are made of: filesystems shift data by whole blocks of this size.
inline constexpr std::uint64_t kCutBlock = 4096;
inline constexpr std::uint64_t kDefaultChunkSize = 4u << 20;
inline constexpr std::uint64_t kMinChunkSize = 64u << 10;
inline constexpr std::uint64_t kMaxChunkSize = 64u << 20;
/// Largest manifest file we read (a 16 TiB image at 4 MiB chunks is ~400 MiB of extents in the
/// worst case; real disks are mostly holes or need fewer). Bounds the parser's memory.
inline constexpr std::size_t kMaxManifestBytes = 512u << 20;

/// A run of the image: one data chunk (sha256 set) or a run of all-zero chunks (hole).
struct Extent {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::optional<Digest> sha256;   ///< nullopt: hole, reads as zeros, nothing stored
  std::uint64_t stored_size = 0;  ///< bytes of the compressed chunk file (0 for holes)

  bool is_hole() const { return !sha256.has_value(); }
};

struct Manifest {
  int format_version = kFixedChunksFormatVersion;
  std::string image_id;  ///< random UUID, unique per import
  std::string name;      ///< operator's name for the image, unique in a store
  std::string source;    ///< where it came from ("raw:disk.img", later a recipe)
  std::uint64_t logical_size = 0;
  std::uint64_t min_disk_size = 0;
  std::uint64_t chunk_size = kDefaultChunkSize;
  std::uint64_t data_bytes = 0;    ///< uncompressed bytes in data chunks
  std::uint64_t stored_bytes = 0;  ///< sum of stored_size
  std::string created_at;          ///< RFC 3339 UTC
  PartitionTable partitions;
  std::vector<Extent> extents;

  /// Data extents only (convenience for workers).
  std::size_t data_chunk_count() const;
  /// Indices into `extents` of the data (non-hole) extents, in order.
  std::vector<std::size_t> data_extents() const;
};

/// Canonical JSON: sorted keys, no insignificant whitespace, integers only. The signature is
/// over exactly these bytes.
std::string canonical_json(const Manifest& m);

/// Parses and validates a manifest body (structure, bounds, and that the extents tile
/// [0, logical_size) on the boundaries its format version allows). invalid_input/corrupt with
/// the first problem found.
Result<Manifest> manifest_from_json(std::string_view json);

/// A manifest file: {"manifest": {...}, "signature": {"alg","key_id","public_key","sig"}}.
struct SignedManifest {
  Manifest manifest;
  std::string canonical;  ///< canonical bytes the signature covers
  PublicKey signer{};     ///< key named in the file (not yet trusted)
  Signature signature{};
  bool legacy = false;  ///< signed before signatures covered the kind: check_signature refuses it
};

/// Signs the manifest with the key and returns the file text.
std::string sign_manifest(const Manifest& m, const KeyPair& key);

/// Parses a manifest file without trusting it (for `info` on a foreign manifest).
Result<SignedManifest> parse_signed_manifest(std::string_view text);

/// Checks that `sm` is signed by `trusted`; bad_signature naming both key ids otherwise.
Result<void> check_signature(const SignedManifest& sm, const PublicKey& trusted);

/// Parse + check in one go: the only way code that acts on an image should read a manifest.
Result<Manifest> open_signed_manifest(std::string_view text, const PublicKey& trusted);

/// Valid image names: 1-128 of [A-Za-z0-9._+-], not starting with '.' or '-'.
Result<void> validate_image_name(std::string_view name);

}  // namespace revive
