#pragma once
// A recipe's base.archive (a root filesystem in any archive format libarchive reads: tar with
// any compression, cpio, zip...) rewritten as the plain tar the rest of the build unpacks.

#include <filesystem>

#include "revive/error.hpp"

namespace revive::ctl {

/// Streams `archive` into a pax tar at `tar` entry by entry (bounded memory). Owners, modes,
/// device nodes, links and times are kept. Fails naming the archive and the entry.
Result<void> archive_to_tar(const std::filesystem::path& archive, const std::filesystem::path& tar);

}  // namespace revive::ctl
