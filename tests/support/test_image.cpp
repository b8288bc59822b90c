#include "test_image.hpp"

#include "revive/image_ops.hpp"
#include "test_files.hpp"

namespace revive::test {

Result<TestImage> make_test_image(const std::filesystem::path& dir, std::size_t chunks,
                                  std::uint64_t seed, bool content_defined) {
  constexpr std::uint64_t kChunk = 65536;
  TestImage t;
  auto store = ImageStore::open(dir / "store", true);
  if (!store) return store.error();
  t.store = std::move(*store);
  t.raw = dir / "image.raw";
  write_at(t.raw, random_bytes(chunks * kChunk, seed), 0);
  ImportOptions o;
  o.name = "img";
  o.chunk_size = kChunk;
  o.content_defined = content_defined;
  REVIVE_TRY(import_raw_image(*t.store, t.raw, o));
  auto m = t.store->load("img");
  if (!m) return m.error();
  t.manifest = std::move(*m);
  return t;
}

}  // namespace revive::test
