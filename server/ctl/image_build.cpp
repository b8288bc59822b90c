// `revivectl image build`: mmdebstrap builds the root as a tarball (no root needed: unshare
// mode), fakeroot unpacks it and mkfs.ext4 -d makes the root filesystem from it, mkfs.vfat and
// mtools the ESP with Debian's signed shim and GRUB, sgdisk the GPT, GRUB's BIOS boot code is
// written directly; the disk file is then imported (streamed, chunked, signed) like any raw
// image. Nothing is mounted and no loop device is used.

#include "image_build.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "build_report.hpp"
#include "image_build_plan.hpp"
#include "progress_bar.hpp"
#include "recipe.hpp"
#include "remote_commands.hpp"
#include "revive/file_util.hpp"
#include "revive/image_ops.hpp"
#include "revive/image_store.hpp"
#include "rootfs_archive.hpp"
#include "run_tool.hpp"

namespace revive::ctl {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kSourceDateEpoch = "1700000000";

int fail(const Error& e) {
  fmt::print(stderr, "revivectl: error: {}\n", e.message);
  return 1;
}

fs::path default_deb_cache() {
  if (const char* c = std::getenv("REVIVE_RECIPE_CACHE"); c && *c) return c;
  if (::geteuid() == 0) return "/var/cache/revive-recipes";
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "revive-recipes";
  const char* home = std::getenv("HOME");
  return fs::path(home ? home : "/tmp") / ".cache/revive-recipes";
}

std::uint64_t count_files(const fs::path& dir) {
  std::error_code ec;
  std::uint64_t n = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) ++n;
  return n;
}

Result<std::vector<std::uint8_t>> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return make_error(Errc::not_found, "cannot read " + p.string());
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

Result<std::string> read_text(const fs::path& p) {
  auto b = read_bytes(p);
  if (!b) return b.error();
  return std::string(b->begin(), b->end());
}

Result<void> write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) return make_error(Errc::io, "cannot write " + p.string());
  return {};
}

Result<void> make_sparse_file(const fs::path& p, std::uint64_t size) {
  UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0 || ::ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
    return make_error(Errc::io, "cannot create " + p.string() + " of " + std::to_string(size));
  return {};
}

// One build: the recipe, where it works, and the facts the report collects on the way.
class Builder {
 public:
  Builder(const Recipe& r, BuildPaths p, const std::atomic<bool>& cancel)
      : r_(r), p_(std::move(p)), ids_(ids_for(r)), layout_(plan_layout(r)), cancel_(cancel) {}

  BuildFacts& facts() { return facts_; }

  Result<void> build_disk() {
    REVIVE_TRY(step("files", [&] { return write_build_files(); }));
    if (r_.base.from_archive()) {
      facts_.mmdebstrap_mode = "none (base.archive)";
      REVIVE_TRY(step("archive", [&] { return archive_to_tar(r_.base.archive, p_.root_tar()); }));
    } else {
      REVIVE_TRY(step("mmdebstrap", [&] { return mmdebstrap(); }));
    }
    REVIVE_TRY(step("unpack", [&] { return unpack_root(); }));
    REVIVE_TRY(step("root-fs", [&] { return make_root_fs(); }));
    REVIVE_TRY(step("esp", [&] { return make_esp(); }));
    return step("disk", [&] { return assemble_disk(); });
  }

  template <typename F>
  Result<void> step(const std::string& name, F&& f) {
    if (cancel_.load()) return make_error(Errc::cancelled, "cancelled before " + name);
    fmt::print("build: {}...\n", name);
    std::fflush(stdout);
    const auto t0 = Clock::now();
    auto r = f();
    facts_.steps.push_back({name, std::chrono::duration<double>(Clock::now() - t0).count()});
    if (!r) return r.error().with_context(name);
    return {};
  }

 private:
  Result<void> tool(std::vector<std::string> argv, std::vector<std::string> env = {}) {
    env.push_back(std::string("SOURCE_DATE_EPOCH=") + kSourceDateEpoch);
    return run_tool({std::move(argv), std::move(env), p_.work / "build.log", &cancel_});
  }

  Result<void> write_build_files() {
    const fs::path f = p_.files_dir();
    std::error_code ec;
    fs::create_directories(f, ec);
    fs::create_directories(p_.deb_cache, ec);
    if (ec)
      return make_error(Errc::io, "cannot create " + p_.deb_cache.string() + ": " + ec.message());
    REVIVE_TRY(write_build_file("customize.sh", customize_script(r_, p_)));
    REVIVE_TRY(write_build_file("fstab", fstab_text(ids_)));
    REVIVE_TRY(write_build_file("grub.cfg", root_grub_cfg(r_, ids_)));
    REVIVE_TRY(write_build_file("stub.cfg", stub_grub_cfg(ids_)));
    return write_build_file("revive-recipe-first-boot.service", first_boot_unit());
  }

  // Written with SOURCE_DATE_EPOCH as its mtime: mcopy -m puts stub.cfg's mtime into the
  // ESP's directory entries, which otherwise differed in every build.
  Result<void> write_build_file(const std::string& name, const std::string& text) {
    const fs::path f = p_.files_dir() / name;
    REVIVE_TRY(write_text(f, text));
    std::error_code ec;
    const auto epoch = std::chrono::sys_seconds(std::chrono::seconds(std::stoll(kSourceDateEpoch)));
    fs::last_write_time(f, fs::file_time_type::clock::from_sys(epoch), ec);
    if (ec)
      return make_error(Errc::io, "cannot set the mtime of " + f.string() + ": " + ec.message());
    return {};
  }

  Result<void> mmdebstrap() {
    // As root mmdebstrap's root mode needs nothing else; otherwise its unshare mode needs
    // unprivileged user namespaces and a subuid/subgid range (newuidmap from uidmap).
    auto argv = mmdebstrap_argv(r_, p_);
    facts_.mmdebstrap_mode = ::geteuid() == 0 ? "root" : "unshare";
    if (::geteuid() == 0) {
      facts_.needs_root.emplace_back("mmdebstrap ran as root (root mode); unshare mode needs none");
    }
    argv.insert(argv.begin() + 1, "--mode=" + facts_.mmdebstrap_mode);
    facts_.deb_cache_files_before = count_files(p_.deb_cache);
    REVIVE_TRY(tool(argv));
    facts_.deb_cache_files_after = count_files(p_.deb_cache);
    return {};
  }

  // fakeroot keeps the owners and device nodes of the tarball in its state file, so
  // mkfs.ext4 -d (run under the same state) records them though nothing ran as root.
  Result<void> unpack_root() {
    std::error_code ec;
    fs::create_directories(p_.root_dir(), ec);
    if (r_.base.from_archive()) {
      // mmdebstrap's hook did this for a suite base; here it runs under fakeroot.
      REVIVE_TRY(tool({"fakeroot", "-s", p_.fakeroot_state().string(), "--", "tar", "-C",
                       p_.root_dir().string(), "--numeric-owner", "-xpf", p_.root_tar().string()}));
      return tool(
          {"fakeroot", "-i", p_.fakeroot_state().string(), "-s", p_.fakeroot_state().string(), "--",
           "sh", (p_.files_dir() / "customize.sh").string(), p_.root_dir().string()},
          {"REVIVE_NO_CHROOT=1"});
    }
    return tool({"fakeroot", "-s", p_.fakeroot_state().string(), "--", "tar", "-C",
                 p_.root_dir().string(), "--numeric-owner", "-xpf", p_.root_tar().string()});
  }

  Result<void> make_root_fs() {
    REVIVE_TRY(make_sparse_file(p_.root_fs(), layout_.root_size));
    auto argv = mkfs_ext4_argv(ids_, p_);
    argv.insert(argv.begin(), {"fakeroot", "-i", p_.fakeroot_state().string(), "--"});
    REVIVE_TRY(tool(argv, {std::string("E2FSPROGS_FAKE_TIME=") + kSourceDateEpoch}));
    REVIVE_TRY(pin_inode_times());
    std::uintmax_t used = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(p_.root_dir(), fs::directory_options::none, ec), end;
         !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && !it->is_symlink(ec)) used += it->file_size(ec);
    }
    facts_.root_used_bytes = used;
    return {};
  }

  // mke2fs 1.47.0 -d copies each file's atime and ctime from the unpacked tree, where they
  // are the time of the unpack: without this pass every build's inode tables differ.
  Result<void> pin_inode_times() {
    auto listing = tool_output(dumpe2fs_argv(p_), {}, p_.work / "root.dumpe2fs");
    if (!listing) return listing.error();
    auto used = used_inodes(*listing);
    if (!used) return used.error();
    const fs::path script = p_.files_dir() / "inode-times.debugfs";
    REVIVE_TRY(write_text(script, inode_times_script(*used, kSourceDateEpoch)));
    // The fake time keeps debugfs's own superblock write time fixed too.
    auto out = tool_output(debugfs_script_argv(p_, script),
                           {std::string("E2FSPROGS_FAKE_TIME=") + kSourceDateEpoch},
                           p_.work / "inode-times.log");
    if (!out) return out.error();
    // debugfs exits 0 after a failed command: a silent failure would only show as a rebuild
    // that no longer shares its inode tables.
    if (const auto failed = debugfs_failures(*out); !failed.empty()) {
      return make_error(Errc::io, fmt::format("debugfs: {} failed commands, the first: {}",
                                              failed.size(), failed.front()));
    }
    return {};
  }

  // Runs a tool whose output the build reads, into a file of its own (run_tool appends).
  Result<std::string> tool_output(std::vector<std::string> argv, std::vector<std::string> env,
                                  const fs::path& out) {
    std::error_code ec;
    fs::remove(out, ec);
    REVIVE_TRY(run_tool({std::move(argv), std::move(env), out, &cancel_}));
    return read_text(out);
  }

  Result<void> make_esp() {
    REVIVE_TRY(make_sparse_file(p_.esp_fs(), layout_.esp_size));
    REVIVE_TRY(tool(mkfs_vfat_argv(ids_, p_)));
    if (!r_.boot.uefi) return {};
    const std::string img = p_.esp_fs().string();
    REVIVE_TRY(tool({"mmd", "-i", img, "::/EFI", "::/EFI/BOOT", "::/EFI/debian"}));
    const fs::path root = p_.root_dir();
    const std::vector<std::pair<fs::path, std::string>> files = {
        {root / "usr/lib/shim/shimx64.efi.signed", "::/EFI/BOOT/BOOTX64.EFI"},
        {root / "usr/lib/shim/mmx64.efi.signed", "::/EFI/BOOT/mmx64.efi"},
        {root / "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed", "::/EFI/BOOT/grubx64.efi"},
        {p_.files_dir() / "stub.cfg", "::/EFI/BOOT/grub.cfg"},
        {p_.files_dir() / "stub.cfg", "::/EFI/debian/grub.cfg"}};
    for (const auto& [from, to] : files) {
      if (!fs::exists(from)) {
        return make_error(Errc::not_found, from.string() +
                                               " is missing from the built root (boot.uefi needs "
                                               "shim-signed and grub-efi-amd64-signed)");
      }
      REVIVE_TRY(tool({"mcopy", "-m", "-i", img, from.string(), to}, {"MTOOLS_SKIP_CHECK=1"}));
    }
    return {};
  }

  Result<void> assemble_disk() {
    const fs::path disk = p_.disk();
    REVIVE_TRY(make_sparse_file(disk, layout_.disk_size));
    REVIVE_TRY(tool(sgdisk_argv(layout_, ids_, disk)));
    auto place = [&](const fs::path& part, std::uint64_t offset) {
      return tool({"dd", "if=" + part.string(), "of=" + disk.string(), "bs=1M", "oflag=seek_bytes",
                   "seek=" + std::to_string(offset), "conv=notrunc,sparse", "status=none"});
    };
    REVIVE_TRY(place(p_.esp_fs(), layout_.esp_offset));
    REVIVE_TRY(place(p_.root_fs(), layout_.root_offset));
    if (r_.boot.bios) REVIVE_TRY(write_bios_boot(disk));
    facts_.disk_size = layout_.disk_size;
    return {};
  }

  Result<void> write_bios_boot(const fs::path& disk) {
    const fs::path core = p_.work / "core.img";
    REVIVE_TRY(tool(grub_bios_mkimage_argv(p_, p_.files_dir() / "stub.cfg", core)));
    auto boot_img = read_bytes(p_.root_dir() / "usr/lib/grub/i386-pc/boot.img");
    if (!boot_img) return boot_img.error();
    auto core_img = read_bytes(core);
    if (!core_img) return core_img.error();
    auto code = bios_boot_code(std::move(*boot_img), std::move(*core_img), layout_);
    if (!code) return code.error();
    UniqueFd fd(::open(disk.c_str(), O_WRONLY | O_CLOEXEC));
    if (fd.get() < 0) return make_error(Errc::io, "cannot open " + disk.string());
    REVIVE_TRY(
        pwrite_all(fd.get(), std::as_bytes(std::span(code->mbr_code)), 0, "the MBR boot code"));
    REVIVE_TRY(pwrite_all(fd.get(), std::as_bytes(std::span(code->core)), layout_.bios_offset,
                          "GRUB core.img"));
    if (::fsync(fd.get()) != 0) return make_error(Errc::io, "fsync " + disk.string());
    return {};
  }

  const Recipe& r_;
  BuildPaths p_;
  BuildIds ids_;
  DiskLayout layout_;
  const std::atomic<bool>& cancel_;
  BuildFacts facts_;
};

}  // namespace

namespace {

struct Published {
  Manifest manifest;
  ChunkReuse reuse;
};

// Imports the disk into the store (streamed and chunked by import_raw_image), comparing its
// chunks with the previous build of the same name.
Result<Published> import_into_store(const BuildArgs& a, const std::string& name,
                                    const fs::path& disk, const std::atomic<bool>& cancel) {
  auto store = ImageStore::open(a.store, /*create=*/true);
  if (!store) return store.error();
  std::optional<Manifest> previous;
  if (auto m = (*store)->load(name)) previous = *m;
  ProgressBar bar("import", a.progress);
  ImportOptions o;
  o.name = name;
  // mkfs.ext4 -d lays the files out in the order it walks the tree: one package more moves
  // every later block, which content-defined chunks find again (fixed ones do not).
  o.content_defined = true;
  o.threads = a.threads;
  o.replace = a.replace;
  o.cancel = &cancel;
  o.progress = [&](std::uint64_t d, std::uint64_t t) { bar.update(d, t); };
  auto r = import_raw_image(**store, disk, o);
  bar.finish();
  if (!r) return r.error();
  return Published{r->manifest, chunk_reuse(previous ? &*previous : nullptr, r->manifest)};
}

// Refuses before building what would be refused after it: an existing image without --replace.
Result<void> check_target(const BuildArgs& a, const std::string& name) {
  if (a.store.empty() == a.server.empty())
    return make_error(Errc::invalid_input, "give either --store DIR or --server URL");
  if (a.store.empty() || a.replace) return {};
  auto store = ImageStore::open(a.store, /*create=*/true);
  if (!store) return store.error();
  if (fs::exists((*store)->manifest_path(name))) {
    return make_error(Errc::already_exists,
                      "image " + name + " already exists in " + a.store +
                          ": pass --replace to rebuild it (the report compares the chunks)");
  }
  return {};
}

void print_summary(const std::string& name, const nlohmann::json& j, const fs::path& report) {
  const auto& s = j["sizes"];
  fmt::print("built {} ({}) in {:.1f} s: disk {}, files {}, stored {}, {} packages\n", name,
             j.value("image_id", ""), j["build_seconds"].get<double>(),
             human_bytes(s["disk"].get<std::uint64_t>()),
             human_bytes(s["root_files"].get<std::uint64_t>()),
             human_bytes(s["stored"].get<std::uint64_t>()), j["package_count"].get<std::size_t>());
  const auto& reuse = j["chunk_reuse"];
  if (reuse.contains("fraction")) {
    fmt::print("  {} of {} data chunks ({:.1f}%, {:.1f}% of the data) as in the previous build\n",
               reuse["same_as_previous"].get<std::uint64_t>(),
               reuse["data_chunks"].get<std::uint64_t>(), 100 * reuse["fraction"].get<double>(),
               100 * reuse.value("bytes_fraction", 0.0));
  }
  fmt::print("  report: {}\n", report.string());
}

}  // namespace

int image_build(const BuildArgs& a, const std::atomic<bool>& cancel) {
  auto recipe = load_recipe(a.recipe);
  if (!recipe) return fail(recipe.error());
  const std::string name = a.name.empty() ? recipe->name : a.name;
  if (auto v = validate_image_name(name); !v) return fail(v.error());
  if (auto t = check_target(a, name); !t) return fail(t.error());
  auto hash = recipe_hash(*recipe);
  if (!hash) return fail(hash.error());

  BuildPaths p;
  p.deb_cache = (a.deb_cache.empty() ? default_deb_cache() : fs::path(a.deb_cache)) / "debs" /
                (recipe->base.suite.empty() ? "archive" : recipe->base.suite + "-amd64");
  std::error_code ec;
  if (a.work.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "revive-build.XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) return fail(make_error(Errc::io, "mkdtemp " + tmpl));
    p.work = tmpl;
  } else {
    p.work = fs::absolute(a.work);
    fs::create_directories(p.work, ec);
  }
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code e;
      if (!dir.empty()) fs::remove_all(dir, e);
    }
  } cleanup{a.work.empty() ? p.work : fs::path()};

  Builder b(*recipe, p, cancel);
  b.facts().recipe_hash = *hash;
  if (auto r = b.build_disk(); !r) {
    return fail(r.error().with_context("building " + name +
                                       " (log: " + (p.work / "build.log").string() + ")"));
  }
  auto status = read_text(p.root_dir() / "var/lib/dpkg/status");
  if (status) b.facts().packages = installed_packages(*status);

  Published pub;
  fs::path report_path = a.report;
  if (!a.store.empty()) {
    const auto t0 = Clock::now();
    auto r = import_into_store(a, name, p.disk(), cancel);
    b.facts().steps.push_back({"import", std::chrono::duration<double>(Clock::now() - t0).count()});
    if (!r) return fail(r.error().with_context("importing " + name));
    pub = *r;
    if (report_path.empty()) report_path = fs::path(a.store) / "images" / (name + ".build.json");
  } else {
    RemoteArgs ra;
    ra.server = a.server;
    ra.token = a.token;
    ra.id = name;
    ra.file = p.disk().string();
    ra.replace = a.replace;
    ra.content_chunks = true;  // as import_into_store: rebuilds find their chunks again
    if (int rc = remote_image_push(ra)) return rc;
    if (report_path.empty()) report_path = name + ".build.json";
  }
  const auto j = build_report(*recipe, b.facts(), pub.manifest, pub.reuse);
  const std::string text = j.dump(2) + "\n";
  auto w = write_file_atomic(report_path, std::as_bytes(std::span(text.data(), text.size())),
                             report_path.parent_path().empty() ? "." : report_path.parent_path());
  if (!w) return fail(w.error().with_context("writing the build report"));
  if (!a.disk_out.empty()) {
    fs::rename(p.disk(), a.disk_out, ec);
    if (ec)
      return fail(make_error(Errc::io, "keeping the disk as " + a.disk_out + ": " + ec.message()));
  }
  print_summary(name, j, report_path);
  return 0;
}

}  // namespace revive::ctl
