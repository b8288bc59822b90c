#pragma once
// A Clonezilla image directory restored into a raw disk stream and imported: the partition
// table from the directory's own copies (GPT: DISK-gpt-1st/2nd, else sgdisk's backup
// DISK-gpt.gdisk, else sfdisk from DISK-pt.sf; MBR: sfdisk from DISK-pt.sf), then DISK-mbr
// and the hidden data after it, each partition from
// `cat pieces | decompressor | partclone.restore -s - -o -` (unused blocks come out as zeros
// and become holes, so only used blocks are stored), zeros everywhere else.

#include <filesystem>
#include <string>
#include <vector>

#include "revive/image_ops.hpp"

namespace revive::ctl {

/// Imports the Clonezilla image in `dir`. `notes` gets what was left out and why (a swap
/// partition without an image stays empty). Needs partclone and the decompressors the images
/// use; says which package is missing.
Result<ImportReport> import_clonezilla(ImageStore& store, const std::filesystem::path& dir,
                                       const ImportOptions& opts, std::vector<std::string>& notes);

}  // namespace revive::ctl
