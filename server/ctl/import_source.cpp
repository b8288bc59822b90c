#include "import_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include "clonezilla_import.hpp"
#include "clonezilla_layout.hpp"
#include "revive/file_util.hpp"
#include "revive/image_probe.hpp"
#include "vm_disk_import.hpp"

namespace revive::ctl {

namespace fs = std::filesystem;

namespace {

Result<ImportOutcome> import_directory(ImageStore& store, const fs::path& dir,
                                       const ImportOptions& opts) {
  if (is_clonezilla_dir(dir)) {
    ImportOutcome out;
    auto r = import_clonezilla(store, dir, opts, out.notes);
    if (!r) return r.error();
    out.report = std::move(*r);
    out.path = "Clonezilla image restored through partclone";
    return out;
  }
  if (auto fog = fog_image_file(dir)) {
    return make_error(Errc::unsupported,
                      dir.string() + " is a FOG image directory (" + *fog +
                          "): Revive does not read FOG's layout. Deploy it with FOG to a "
                          "machine or a virtual machine, then import that disk (the block "
                          "device, or the VM's qcow2/VMDK/VDI file) with `revivectl image "
                          "import`");
  }
  return make_error(Errc::invalid_input,
                    dir.string() +
                        " is a directory, but not a Clonezilla image directory (no "
                        "`disk` and `parts` files): import a disk image file, a "
                        "block device or a Clonezilla image directory");
}

// The first bytes decide: a VM disk's magic sends it to qemu; everything else is read raw
// (import_raw_image then refuses what is no disk at all).
Result<ContentProbe> probe_file(const fs::path& file) {
  auto fd = open_file(file, O_RDONLY | O_CLOEXEC);
  if (!fd) return fd.error();
  std::vector<std::byte> head(1 << 20);
  std::size_t got = 0;
  while (got < head.size()) {
    const ssize_t n =
        ::pread(fd->get(), head.data() + got, head.size() - got, static_cast<off_t>(got));
    if (n < 0) return errno_error(errno, "reading " + file.string());
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  head.resize(got);
  ContentProbe probe = probe_image_content(head, got);
  struct stat st {};
  if (::fstat(fd->get(), &st) == 0 && st.st_size >= 1024) {
    std::vector<std::byte> tail(512);
    REVIVE_TRY(
        pread_exact(fd->get(), tail, static_cast<std::uint64_t>(st.st_size) - 512, file.string()));
    if (auto vhd = probe_image_tail(tail)) probe = *vhd;
  }
  return probe;
}

}  // namespace

Result<ImportOutcome> import_any(ImageStore& store, const fs::path& input,
                                 const ImportOptions& opts) {
  // "dir/" names the same directory as "dir"; the manifest's source wants its name.
  const fs::path path = input.has_filename() ? input : input.parent_path();
  std::error_code ec;
  if (fs::is_directory(path, ec)) return import_directory(store, path, opts);
  if (!opts.raw && fs::is_regular_file(path, ec)) {
    auto probe = probe_file(path);
    if (!probe) return probe.error();
    if (probe->kind == ContentKind::vm_disk) {
      ImportOutcome out;
      auto r = import_vm_disk(store, path, probe->qemu_format, opts);
      if (!r) return r.error();
      out.report = std::move(*r);
      out.path = probe->qemu_format + " streamed through qemu-nbd and nbdcopy";
      return out;
    }
  }
  ImportOutcome out;
  auto r = import_raw_image(store, path, opts);
  if (!r) return r.error();
  out.report = std::move(*r);
  out.path = "raw";
  return out;
}

}  // namespace revive::ctl
