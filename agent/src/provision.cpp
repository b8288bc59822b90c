// provision_disk: finds the installed system on the deployed disk and applies the profile to
// it (provision_linux_root.cpp, provision_windows.cpp).

#include "revive/agent/provision.hpp"

#include <unistd.h>

#include "provision_internal.hpp"
#include "revive/agent/fit.hpp"

namespace revive::agent {

namespace fs = std::filesystem;
using Json = nlohmann::json;

Result<Json> provision_disk(const fs::path& disk, BlockDevice& dev, Exec& exec, const Profile& p,
                            const DeviceFacts& facts) {
  auto hostname = expand_hostname(p.hostname, facts);
  if (!hostname) return hostname.error();
  auto pt = read_partition_table(dev);
  if (!pt) return pt.error();
  if (pt->partitions.empty())
    return make_error(Errc::unsupported, "the deployed disk has no partitions to provision");
  // Mount every candidate read-write in turn and look for an installed system.
  char tmpl[] = "/tmp/revive-provision-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return errno_error(errno, "mkdtemp");
  const fs::path mnt = tmpl;
  struct RemoveDir {
    fs::path p;
    ~RemoveDir() { ::rmdir(p.c_str()); }
  } cleanup{mnt};
  for (const auto& part : pt->partitions) {
    const std::uint64_t offset = part.first_lba * pt->sector_size;
    const std::uint64_t size = (part.last_lba - part.first_lba + 1) * pt->sector_size;
    const std::string fs_kind = detect_filesystem(dev, offset);
    if (fs_kind != "ext" && fs_kind != "ntfs") continue;
    REVIVE_TRY(dev.flush());
    auto loop = LoopAttachment::attach(exec, disk, offset, size);
    if (!loop) return loop.error();
    const std::vector<std::string> mount =
        fs_kind == "ext"
            ? std::vector<std::string>{"mount", "-t", "ext4", loop->device(), mnt.string()}
            : std::vector<std::string>{"ntfs-3g", loop->device(), mnt.string()};
    auto m = exec.run(mount, 120);
    if (!m) return m.error().with_context("mounting partition " + std::to_string(part.number));
    if (m->exit_code != 0)
      return make_error(Errc::io,
                        "mounting partition " + std::to_string(part.number) + " failed: " + m->err);
    Result<Json> applied = Json();
    bool found = false;
    if (fs_kind == "ext" && fs::exists(mnt / "etc/os-release")) {
      found = true;
      applied = apply_linux_profile(mnt, p, *hostname);
      if (applied) (*applied)["system"] = "linux";
    } else if (fs_kind == "ntfs" && fs::is_directory(mnt / "Windows/System32")) {
      found = true;
      applied = apply_windows_profile(mnt, p, *hostname);
    }
    ::sync();
    auto um = exec.run({"umount", mnt.string()}, 120);
    if (!um || um->exit_code != 0) {
      return make_error(Errc::io, "unmounting " + mnt.string() + " failed" +
                                      (um ? ": " + um->err : ": " + um.error().message));
    }
    if (!applied) return applied.error().with_context("partition " + std::to_string(part.number));
    if (found) {
      (*applied)["partition"] = part.number;
      return *applied;
    }
  }
  return make_error(Errc::not_found,
                    "no installed system found on the deployed disk (looked for ext* with "
                    "/etc/os-release and NTFS with /Windows/System32)");
}

}  // namespace revive::agent
