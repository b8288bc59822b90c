#pragma once
// `revivectl image ...`: the offline image tool working directly on a store directory.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

namespace revive::ctl {

struct ImageArgs {
  std::string store;
  std::string name;
  std::string file;    ///< import source / export target
  std::string pubkey;  ///< verify/export/info: trust this key file instead of the store's
  std::uint64_t chunk_size = 4u << 20;
  unsigned threads = 0;
  int level = 3;
  bool replace = false;
  bool raw = false;             ///< import: the bytes as they are, whatever they look like
  bool content_chunks = false;  ///< import: content-defined chunks (manifest version 2)
  bool no_space_check = false;  ///< import: try even when the store looks too small
  bool force = false;
  bool json = false;
  bool all = false;
  bool dry_run = false;
  bool progress = true;
};

/// Each returns the exit code and prints its own results and errors.
int image_import(const ImageArgs& a, const std::atomic<bool>& cancel);
int image_export(const ImageArgs& a, const std::atomic<bool>& cancel);
int image_verify(const ImageArgs& a);
int image_info(const ImageArgs& a);
int image_list(const ImageArgs& a);
int image_rm(const ImageArgs& a);
int image_gc(const ImageArgs& a);
int image_key(const ImageArgs& a);

/// Parses "4M", "512K", "1G", "65536" into bytes; nullopt when malformed.
std::optional<std::uint64_t> parse_size(const std::string& text);

}  // namespace revive::ctl
