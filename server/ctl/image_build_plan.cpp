#include "image_build_plan.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <sstream>

#include "revive/encoding.hpp"
#include "revive/sha256.hpp"

namespace revive::ctl {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMiB = 1ull << 20;

Digest derived(const Recipe& r, std::string_view what) {
  const std::string seed = "revive-recipe:" + r.name + ":" + std::string(what);
  return sha256(std::as_bytes(std::span(seed.data(), seed.size())));
}

// An RFC 4122 version-4-shaped UUID from a digest: stable per recipe and purpose.
std::string uuid_from(Digest d) {
  d[6] = static_cast<std::uint8_t>((d[6] & 0x0f) | 0x40);
  d[8] = static_cast<std::uint8_t>((d[8] & 0x3f) | 0x80);
  const std::string h = to_hex(std::span(d.data(), 16));
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

// Single-quoted for sh: the paths are ours (mkdtemp, the recipe's checked relative paths).
std::string sq(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string sources_suffix(const Recipe& r) { return join(r.base.components, " "); }

// The unsigned number at the start of `s` (after spaces); nullopt when there is none.
std::optional<std::uint32_t> leading_number(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  std::uint32_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end == s.data()) return std::nullopt;
  return v;
}

// dumpe2fs's free-inode list ("16266-16384, 16390"; empty when the group is full) as ranges.
std::optional<std::vector<InodeRange>> parse_inode_list(std::string_view s) {
  std::vector<InodeRange> out;
  for (;;) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    if (s.empty()) break;
    const std::size_t comma = s.find(',');
    const std::string_view item = s.substr(0, comma);
    const std::size_t dash = item.find('-');
    const auto first = leading_number(item.substr(0, dash));
    const auto last =
        dash == std::string_view::npos ? first : leading_number(item.substr(dash + 1));
    if (!first || !last || *last < *first) return std::nullopt;
    out.push_back({*first, *last});
    s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
  }
  return out;
}

// Appends the group's inodes minus its free ones (which dumpe2fs lists in ascending order).
void append_used(InodeRange group, const std::vector<InodeRange>& free,
                 std::vector<InodeRange>& out) {
  std::uint64_t next = group.first;
  for (const InodeRange& f : free) {
    if (f.first > next) out.push_back({static_cast<std::uint32_t>(next), f.first - 1});
    next = std::max<std::uint64_t>(next, std::uint64_t{f.last} + 1);
  }
  if (next <= group.last) out.push_back({static_cast<std::uint32_t>(next), group.last});
}

// The value after `key` when `line` starts with it (dumpe2fs's unindented header fields).
std::optional<std::uint32_t> header_field(std::string_view line, std::string_view key) {
  if (line.substr(0, key.size()) != key) return std::nullopt;
  return leading_number(line.substr(key.size()));
}

}  // namespace

DiskLayout plan_layout(const Recipe& r) {
  DiskLayout l;
  l.disk_size = (r.disk.min_size + kMiB - 1) / kMiB * kMiB;
  l.bios_offset = kMiB;
  l.bios_size = RecipeDisk::kBiosBootSize;
  l.esp_offset = l.bios_offset + l.bios_size;
  l.esp_size = r.disk.esp_size;
  l.root_offset = l.esp_offset + l.esp_size;
  l.root_size = l.disk_size - kMiB - l.root_offset;
  return l;
}

BuildIds ids_for(const Recipe& r) {
  BuildIds ids;
  ids.disk_guid = uuid_from(derived(r, "disk"));
  ids.bios_guid = uuid_from(derived(r, "bios"));
  ids.esp_guid = uuid_from(derived(r, "esp"));
  ids.root_guid = uuid_from(derived(r, "root-partition"));
  ids.root_uuid = uuid_from(derived(r, "root-fs"));
  ids.root_hash_seed = uuid_from(derived(r, "root-hash-seed"));
  const Digest v = derived(r, "esp-volume");
  ids.esp_volume_id = to_hex(std::span(v.data(), 4));
  std::string up = ids.esp_volume_id;
  std::transform(up.begin(), up.end(), up.begin(), ::toupper);
  ids.esp_fs_uuid = up.substr(0, 4) + "-" + up.substr(4, 4);
  return ids;
}

std::vector<std::string> packages_to_install(const Recipe& r) {
  // passwd: the provision step's first-boot unit runs useradd; e2fsprogs and dosfstools: the
  // boot-time fsck of the root and the ESP (not in mmdebstrap's apt variant).
  std::vector<std::string> p = {"linux-image-amd64", "systemd-sysv", "initramfs-tools", "passwd",
                                "e2fsprogs",         "dosfstools"};
  if (r.boot.bios) p.emplace_back("grub-pc-bin");
  if (r.boot.uefi) {
    p.emplace_back("shim-signed");
    p.emplace_back("grub-efi-amd64-signed");
  }
  if (r.locale.lang != "C.UTF-8" || !r.locale.extra.empty()) p.emplace_back("locales");
  for (const auto& x : r.packages)
    if (std::find(p.begin(), p.end(), x) == p.end()) p.push_back(x);
  return p;
}

std::string fstab_text(const BuildIds& ids) {
  return "# Written by revivectl image build; the UUIDs are fixed per recipe.\n"
         "UUID=" +
         ids.root_uuid +
         "\t/\text4\terrors=remount-ro\t0\t1\n"
         "UUID=" +
         ids.esp_fs_uuid + "\t/boot/efi\tvfat\tumask=0077,nofail\t0\t1\n";
}

std::string root_grub_cfg(const Recipe& r, const BuildIds& ids) {
  std::string cmdline = "root=UUID=" + ids.root_uuid + " ro";
  if (!r.boot.kernel_cmdline.empty()) cmdline += " " + r.boot.kernel_cmdline;
  return fmt::format(
      "# Written by revivectl image build (recipe {0}). /vmlinuz and /initrd.img are kept\n"
      "# current by Debian's kernel packages, so this file needs no update-grub.\n"
      "set timeout=2\n"
      "serial --unit=0 --speed=115200\n"
      "terminal_input console serial\n"
      "terminal_output console serial\n"
      "search --no-floppy --fs-uuid --set=root {1}\n"
      "menuentry '{2}' {{\n"
      "  linux /vmlinuz {3}\n"
      "  initrd /initrd.img\n"
      "}}\n"
      "menuentry '{2} (previous kernel)' {{\n"
      "  linux /vmlinuz.old {3}\n"
      "  initrd /initrd.img.old\n"
      "}}\n",
      r.name, ids.root_uuid, r.description.empty() ? r.name : r.description, cmdline);
}

std::string stub_grub_cfg(const BuildIds& ids) {
  return "search --no-floppy --fs-uuid --set=root " + ids.root_uuid +
         "\nset prefix=($root)/boot/grub\nconfigfile $prefix/grub.cfg\n";
}

std::string first_boot_unit() {
  return "[Unit]\n"
         "Description=Recipe first-boot hooks (revivectl image build)\n"
         "ConditionPathExists=!/var/lib/revive/recipe-first-boot.done\n"
         "After=revive-firstboot.service local-fs.target\n"
         "Before=display-manager.service\n"
         "\n"
         "[Service]\n"
         "Type=oneshot\n"
         "ExecStart=/bin/run-parts --exit-on-error /usr/lib/revive/first-boot.d\n"
         "ExecStartPost=/bin/sh -c 'mkdir -p /var/lib/revive && : > "
         "/var/lib/revive/recipe-first-boot.done'\n"
         "\n"
         "[Install]\n"
         "WantedBy=multi-user.target\n";
}

std::string customize_script(const Recipe& r, const BuildPaths& p) {
  const std::string files = sq(p.files_dir().string());
  std::string s =
      "#!/bin/sh\n"
      "# mmdebstrap customize hook written by revivectl image build; $1 is the new root.\n"
      "set -eu\n"
      "root=\"$1\"\n";
  if (!r.overlay.empty()) {
    s += "# The overlay, owned by root, modes as committed.\n"
         "tar -C " +
         sq(r.overlay.string()) +
         " --owner=0 --group=0 --numeric-owner -cf - . | tar -C \"$root\" --no-overwrite-dir -xf "
         "-\n";
  }
  std::vector<std::string> locales = {r.locale.lang};
  for (const auto& x : r.locale.extra)
    if (std::find(locales.begin(), locales.end(), x) == locales.end()) locales.push_back(x);
  if (r.locale.lang != "C.UTF-8" || !r.locale.extra.empty()) {
    s += ": > \"$root/etc/locale.gen\"\n";
    for (const auto& l : locales)
      if (l != "C.UTF-8") s += "echo '" + l + " UTF-8' >> \"$root/etc/locale.gen\"\n";
    // (a base.archive root is prepared under fakeroot, where chroot is not possible)
    s += "if [ -z \"${REVIVE_NO_CHROOT:-}\" ]; then chroot \"$root\" locale-gen; fi\n";
  }
  s += "echo 'LANG=" + r.locale.lang + "' > \"$root/etc/default/locale\"\n";
  s += "echo 'LANG=" + r.locale.lang + "' > \"$root/etc/locale.conf\"\n";
  s += "printf '%s\\n' 'XKBMODEL=\"pc105\"' 'XKBLAYOUT=\"" + r.locale.keyboard_layout +
       "\"' 'XKBVARIANT=\"" + r.locale.keyboard_variant +
       "\"' 'XKBOPTIONS=\"\"' 'BACKSPACE=\"guess\"' > \"$root/etc/default/keyboard\"\n";
  s += "ln -sfn '/usr/share/zoneinfo/" + r.locale.timezone + "' \"$root/etc/localtime\"\n";
  s += "echo '" + r.locale.timezone + "' > \"$root/etc/timezone\"\n";
  s += "echo '" + r.hostname + "' > \"$root/etc/hostname\"\n";
  s += "printf '127.0.0.1\\tlocalhost\\n127.0.1.1\\t" + r.hostname +
       "\\n::1\\tlocalhost ip6-localhost ip6-loopback\\n' > \"$root/etc/hosts\"\n";
  s += "cp " + files + "/fstab \"$root/etc/fstab\"\n";
  s += "mkdir -p \"$root/boot/efi\" \"$root/boot/grub\"\n";
  s += "cp " + files + "/grub.cfg \"$root/boot/grub/grub.cfg\"\n";
  if (r.boot.bios) {
    s +=
        "# GRUB's BIOS modules where core.img's prefix looks for them (what grub-install copies).\n"
        "cp -a \"$root/usr/lib/grub/i386-pc\" \"$root/boot/grub/\"\n";
  }
  if (!r.first_boot.empty()) {
    s += "mkdir -p \"$root/usr/lib/revive/first-boot.d\" "
         "\"$root/etc/systemd/system/multi-user.target.wants\"\n";
    for (const auto& h : r.first_boot) {
      s += "install -m 0755 " + sq(h.script.string()) + " \"$root/usr/lib/revive/first-boot.d/" +
           h.name + "\"\n";
    }
    s += "cp " + files + "/revive-recipe-first-boot.service \"$root/etc/systemd/system/\"\n";
    s += "ln -sfn /etc/systemd/system/revive-recipe-first-boot.service "
         "\"$root/etc/systemd/system/multi-user.target.wants/revive-recipe-first-boot.service\"\n";
  }
  // e2scrub checks ext4 on LVM through snapshots; a recipe disk is plain partitions, so its
  // units have nothing to do, and the boot-time one (e2scrub_reap, idle CPU and I/O priority,
  // ordered before multi-user.target) only slows every boot. (It was masked when a pxe_boot run
  // seemed to stall in it; that was systemd's console going quiet, see
  // agent/src/provision_linux_root.cpp, and the next stall showed in systemd-fsck.)
  s += "# e2scrub works on LVM snapshots: a recipe disk has none (plain partitions).\n"
       "ln -sfn /dev/null \"$root/etc/systemd/system/e2scrub_reap.service\"\n"
       "ln -sfn /dev/null \"$root/etc/systemd/system/e2scrub_all.timer\"\n";
  s += "# Every laptop makes its own identity at first boot (the provision step writes one too).\n"
       ": > \"$root/etc/machine-id\"\n"
       "rm -f \"$root/var/lib/dbus/machine-id\" \"$root\"/etc/ssh/ssh_host_*\n"
       "# ssl-cert's postinst made a self-signed pair: a random key, dated and named after the\n"
       "# build (CN = the build host). Made again at first boot (the provision step's unit).\n"
       "rm -f \"$root/etc/ssl/certs/ssl-cert-snakeoil.pem\" "
       "\"$root/etc/ssl/private/ssl-cert-snakeoil.key\"\n"
       "[ ! -d \"$root/etc/ssl/certs\" ] || "
       "find \"$root/etc/ssl/certs\" -maxdepth 1 -lname ssl-cert-snakeoil.pem -delete\n"
       "# What differs from build to build without changing the system: caches and logs.\n"
       "rm -f \"$root\"/var/cache/apt/archives/*.deb \"$root\"/var/cache/apt/*.bin "
       "\"$root/var/cache/ldconfig/aux-cache\" \"$root\"/var/cache/debconf/*-old "
       "\"$root\"/var/lib/dpkg/*-old\n"
       "find \"$root/var/lib/apt/lists\" -type f -delete\n"
       "find \"$root/var/log\" -type f -exec truncate -s 0 {} +\n";
  return s;
}

std::vector<std::string> mmdebstrap_argv(const Recipe& r, const BuildPaths& p) {
  const std::string cache = sq(p.deb_cache.string());
  std::vector<std::string> a = {
      "mmdebstrap",
      "--variant=" + r.base.variant,
      "--components=" + join(r.base.components, ","),
      "--include=" + join(packages_to_install(r), ","),
      "--aptopt=Acquire::Retries \"3\"",
      "--dpkgopt=path-exclude=/usr/share/doc/*/changelog*",
      // The .deb cache: apt downloads only what the cache lacks (man mmdebstrap, "EXAMPLES").
      "--skip=download/empty",
      "--skip=essential/unlink",
      "--setup-hook=mkdir -p \"$1\"/var/cache/apt/archives/",
      "--setup-hook=sync-in " + cache + " /var/cache/apt/archives/",
      "--customize-hook=sync-out /var/cache/apt/archives " + cache,
      "--customize-hook=sh " + sq((p.files_dir() / "customize.sh").string()) + " \"$1\"",
      r.base.suite,
      p.root_tar().string(),
      r.base.mirror,
      "deb " + r.base.mirror + " " + r.base.suite + "-updates " + sources_suffix(r),
  };
  if (!r.base.security_mirror.empty()) {
    a.push_back("deb " + r.base.security_mirror + " " + r.base.suite + "-security " +
                sources_suffix(r));
  }
  return a;
}

std::vector<std::string> sgdisk_argv(const DiskLayout& l, const BuildIds& ids,
                                     const fs::path& disk) {
  auto sec = [](std::uint64_t b) { return std::to_string(b / 512); };
  auto last = [](std::uint64_t off, std::uint64_t size) {
    return std::to_string((off + size) / 512 - 1);
  };
  // (no -q: sgdisk 1.0.9 with -q silently writes nothing)
  return {"sgdisk",
          "-U",
          ids.disk_guid,
          "-n",
          "1:" + sec(l.bios_offset) + ":" + last(l.bios_offset, l.bios_size),
          "-t",
          "1:EF02",
          "-c",
          "1:bios",
          "-u",
          "1:" + ids.bios_guid,
          "-n",
          "2:" + sec(l.esp_offset) + ":" + last(l.esp_offset, l.esp_size),
          "-t",
          "2:EF00",
          "-c",
          "2:esp",
          "-u",
          "2:" + ids.esp_guid,
          "-n",
          "3:" + sec(l.root_offset) + ":" + last(l.root_offset, l.root_size),
          "-t",
          "3:8304",
          "-c",
          "3:root",
          "-u",
          "3:" + ids.root_guid,
          disk.string()};
}

std::vector<std::string> mkfs_ext4_argv(const BuildIds& ids, const BuildPaths& p) {
  // -d fills the filesystem from the (fakeroot-owned) tree; with the UUID, hash seed and
  // E2FSPROGS_FAKE_TIME fixed, the same tree gives the same filesystem but for the atime and
  // ctime it copies from the tree (inode_times_script's pass fixes those).
  return {"mkfs.ext4",
          "-q",
          "-F",
          "-L",
          "root",
          "-U",
          ids.root_uuid,
          "-E",
          "hash_seed=" + ids.root_hash_seed + ",nodiscard",
          "-d",
          p.root_dir().string(),
          p.root_fs().string()};
}

Result<UsedInodes> used_inodes(const std::string& dumpe2fs_output) {
  UsedInodes u;
  std::uint32_t per_group = 0;
  std::optional<std::uint32_t> group;  // the "Group N:" whose "Free inodes:" comes next
  std::size_t groups = 0;
  std::istringstream in(dumpe2fs_output);
  for (std::string line; std::getline(in, line);) {
    const std::string_view l = line;
    const std::size_t indent = l.find_first_not_of(' ');
    if (auto pg = header_field(l, "Inodes per group:")) {
      per_group = *pg;
    } else if (auto fi = header_field(l, "First inode:")) {
      u.first_ino = *fi;
    } else if (auto g = header_field(l, "Group "); g && l.find(':') != std::string_view::npos) {
      group = g;  // ("Group descriptor size:" has no number, so it is no group)
    } else if (group && indent != 0 && indent != std::string_view::npos &&
               l.substr(indent, 12) == "Free inodes:") {
      const auto free = parse_inode_list(l.substr(indent + 12));
      if (!free || per_group == 0)
        return make_error(Errc::invalid_input, "dumpe2fs: unreadable free inodes: " + line);
      append_used({*group * per_group + 1, (*group + 1) * per_group}, *free, u.ranges);
      group.reset();
      ++groups;
    }
  }
  if (groups == 0 || group || u.first_ino == 0)
    return make_error(Errc::invalid_input, "dumpe2fs: no inode usage per group in its output");
  return u;
}

std::string inode_times_script(const UsedInodes& used, std::string_view epoch) {
  // Reserved inodes below first_ino (the journal, the resize inode) and the root directory
  // are made by mke2fs itself, with E2FSPROGS_FAKE_TIME's time: only the copied ones vary.
  std::string s;
  for (const InodeRange& r : used.ranges) {
    for (std::uint64_t i = std::max(r.first, used.first_ino); i <= r.last; ++i) {
      s += fmt::format("sif <{0}> atime {1}\nsif <{0}> ctime {1}\n", i, epoch);
    }
  }
  return s;
}

std::vector<std::string> debugfs_failures(const std::string& output) {
  std::vector<std::string> out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    const bool echo = line.rfind("debugfs: ", 0) == 0;
    const bool banner = line.rfind("debugfs ", 0) == 0;  // "debugfs 1.47.0 (5-Feb-2023)"
    const bool header = line.rfind("$ ", 0) == 0;        // run_tool's line naming the command
    if (!echo && !banner && !header && !line.empty()) out.push_back(line);
  }
  return out;
}

std::vector<std::string> dumpe2fs_argv(const BuildPaths& p) {
  return {"dumpe2fs", p.root_fs().string()};
}

std::vector<std::string> debugfs_script_argv(const BuildPaths& p, const fs::path& script) {
  return {"debugfs", "-w", "-f", script.string(), p.root_fs().string()};
}

std::vector<std::string> mkfs_vfat_argv(const BuildIds& ids, const BuildPaths& p) {
  // --invariant first: it sets the volume id to 1234abcd itself, so a later -i is what wins
  // (dosfstools 4.2 takes the options in order; fstab names the ESP by our id).
  return {"mkfs.vfat",       "--invariant",      "-F", "32", "-n", "ESP", "-i",
          ids.esp_volume_id, p.esp_fs().string()};
}

std::vector<std::string> grub_bios_mkimage_argv(const BuildPaths& p, const fs::path& stub_cfg,
                                                const fs::path& out) {
  return {"grub-mkimage",
          "-O",
          "i386-pc",
          "-d",
          (p.root_dir() / "usr/lib/grub/i386-pc").string(),
          "-c",
          stub_cfg.string(),
          "-p",
          "/boot/grub",
          "-o",
          out.string(),
          "biosdisk",
          "part_gpt",
          "ext2",
          "search",
          "search_fs_uuid",
          "configfile",
          "normal",
          "linux",
          "echo",
          "test",
          "serial",
          "terminal",
          "gzio"};
}

Result<BiosBootCode> bios_boot_code(std::vector<std::uint8_t> boot_img,
                                    std::vector<std::uint8_t> core_img, const DiskLayout& l) {
  if (boot_img.size() != 512)
    return make_error(Errc::invalid_input,
                      fmt::format("boot.img is {} bytes, GRUB's is 512", boot_img.size()));
  if (core_img.size() < 512)
    return make_error(Errc::invalid_input, "core.img is shorter than one sector");
  core_img.resize((core_img.size() + 511) / 512 * 512, 0);
  if (core_img.size() > l.bios_size) {
    return make_error(Errc::invalid_input,
                      fmt::format("core.img ({} bytes) does not fit the BIOS boot partition ({})",
                                  core_img.size(), l.bios_size));
  }
  auto put_le = [](std::uint8_t* at, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) at[i] = static_cast<std::uint8_t>(v >> (8 * i));
  };
  const std::uint64_t first = l.bios_offset / 512;
  put_le(&core_img[512 - 12], first + 1, 8);                 // blocklist start
  put_le(&core_img[512 - 4], core_img.size() / 512 - 1, 2);  // sectors after the first
  put_le(&boot_img[0x5c], first, 8);                         // GRUB_BOOT_MACHINE_KERNEL_SECTOR
  BiosBootCode out;
  out.mbr_code.assign(boot_img.begin(), boot_img.begin() + 440);
  out.core = std::move(core_img);
  return out;
}

}  // namespace revive::ctl
