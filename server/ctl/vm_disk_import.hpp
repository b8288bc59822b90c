#pragma once
// Virtual machine disks (qcow2, VMDK, VHD, VHDX, VDI) into the store without a raw copy on
// disk: qemu-nbd serves the disk read-only on a socket nbdcopy makes (socket activation, no
// root, no /dev/nbd), and nbdcopy writes it to a pipe the importer reads. `qemu-img convert`
// and `qemu-img dd` cannot do this: they write only to regular files and devices.

#include <filesystem>
#include <string>

#include "revive/image_ops.hpp"

namespace revive::ctl {

/// Imports `file`, whose format `qemu_format` ("qcow2", "vmdk", "vpc", "vhdx", "vdi") was
/// found by its magic (image_probe.hpp): qemu never guesses it. Needs qemu-utils and
/// libnbd-bin; says so when they are missing.
Result<ImportReport> import_vm_disk(ImageStore& store, const std::filesystem::path& file,
                                    const std::string& qemu_format, const ImportOptions& opts);

}  // namespace revive::ctl
