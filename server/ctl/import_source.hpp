#pragma once
// `revivectl image import FILE`: what FILE is decides how it is imported. A raw disk or block
// device is read in place; a VM disk goes through qemu-nbd and nbdcopy (vm_disk_import); a
// Clonezilla image directory is restored (clonezilla_import); a FOG image directory, and any
// other directory, is refused with what to do instead.

#include <filesystem>
#include <string>
#include <vector>

#include "revive/image_ops.hpp"

namespace revive::ctl {

struct ImportOutcome {
  ImportReport report;
  std::string path;                ///< "raw", "qcow2 through qemu-nbd + nbdcopy", "clonezilla"
  std::vector<std::string> notes;  ///< what was left out and why
};

/// Imports `input`, whatever it is of the kinds above; with `opts.raw` a file is imported
/// byte for byte whatever it looks like.
Result<ImportOutcome> import_any(ImageStore& store, const std::filesystem::path& input,
                                 const ImportOptions& opts);

}  // namespace revive::ctl
