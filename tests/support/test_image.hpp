#pragma once
// A small image in a fresh store, as the deploy, relay and chunk-source tests start from.

#include <cstdint>
#include <filesystem>
#include <memory>

#include "revive/error.hpp"
#include "revive/image_store.hpp"
#include "revive/manifest.hpp"

namespace revive::test {

struct TestImage {
  std::unique_ptr<ImageStore> store;  ///< dir/store, holding the image "img"
  std::filesystem::path raw;          ///< dir/image.raw, the bytes imported (to compare disks)
  Manifest manifest;
};

/// Writes `chunks` x 64 KiB of seeded random bytes to dir/image.raw and imports them as "img"
/// into a new store in dir/store: in 64 KiB chunks, or `content_defined` (as recipe builds
/// import) in pieces of 4-64 KiB, about three times as many.
Result<TestImage> make_test_image(const std::filesystem::path& dir, std::size_t chunks,
                                  std::uint64_t seed, bool content_defined = false);

}  // namespace revive::test
