#include "revive/store_chunk_source.hpp"

namespace revive {

Result<void> StoreChunkSource::fetch(const Digest& d, std::vector<std::byte>& out) {
  REVIVE_TRY(store_.read(d, out, max_frame_));
  fetched_ += out.size();
  return {};
}

}  // namespace revive
