#include "clonezilla_import.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "child_pipeline.hpp"
#include "clonezilla_layout.hpp"
#include "revive/file_util.hpp"

namespace revive::ctl {

namespace fs = std::filesystem;

namespace {

struct Decompressor {
  ChildPipeline::Command command;
  const char* package;
};

const std::map<std::string, Decompressor>& decompressors() {
  static const std::map<std::string, Decompressor> kByName{
      {"gz", {{"gzip", "-dc"}, "gzip"}},    {"zst", {{"zstd", "-dcq"}, "zstd"}},
      {"xz", {{"xz", "-dc"}, "xz-utils"}},  {"lzma", {{"xz", "--format=lzma", "-dc"}, "xz-utils"}},
      {"bz2", {{"bzip2", "-dc"}, "bzip2"}}, {"lz4", {{"lz4", "-dc"}, "lz4"}},
      {"lzo", {{"lzop", "-dc"}, "lzop"}},   {"lzip", {{"lzip", "-dc"}, "lzip"}},
  };
  return kByName;
}

// Old dd images carry no compression in their name: the first piece's magic says it.
std::string compression_by_magic(const fs::path& first_piece) {
  auto fd = open_file(first_piece, O_RDONLY);
  std::byte head[6]{};
  if (!fd || !pread_exact(fd->get(), head, 0, first_piece.string())) return "uncomp";
  auto is = [&](std::string_view magic) {
    return std::memcmp(head, magic.data(), magic.size()) == 0;
  };
  if (is("\x1f\x8b")) return "gz";
  if (is("\x28\xb5\x2f\xfd")) return "zst";
  if (is("\xfd"
         "7zXZ"))
    return "xz";
  if (is("BZh")) return "bz2";
  return "uncomp";
}

// partclone.dd writes the partition's bytes as they are (Debian's 0.3.23); a partclone that
// writes its image format for dd too starts the stream with its magic. Looking costs a few
// bytes of decompression.
Result<bool> starts_with_partclone_magic(const std::vector<ChildPipeline::Command>& decompress) {
  auto peek = ChildPipeline::start(decompress);
  if (!peek) return peek.error();
  std::string head(15, '\0');
  std::size_t got = 0;
  while (got < head.size()) {
    auto n = (*peek)->read(std::as_writable_bytes(std::span(head)).subspan(got));
    if (!n) return n.error();
    if (*n == 0) break;
    got += *n;
  }
  return head == "partclone-image";  // the pipeline is stopped when `peek` goes
}

Result<std::vector<ChildPipeline::Command>> restore_commands(const ClonezillaPartition& p) {
  std::vector<ChildPipeline::Command> commands;
  ChildPipeline::Command cat{"cat", "--"};
  for (const auto& f : p.image_files) cat.push_back(f.string());
  commands.push_back(std::move(cat));
  const std::string compression = p.compression == "uncomp" && p.filesystem == "dd"
                                      ? compression_by_magic(p.image_files.front())
                                      : p.compression;
  if (compression != "uncomp") {
    const auto it = decompressors().find(compression);
    if (it == decompressors().end()) {
      return make_error(Errc::unsupported, p.image_files.front().string() +
                                               ": unknown compression \"" + compression + "\"");
    }
    if (!program_in_path(it->second.command.front())) {
      return make_error(Errc::unsupported, p.image_files.front().string() + " needs " +
                                               it->second.command.front() + " (Debian package " +
                                               it->second.package + ")");
    }
    commands.push_back(it->second.command);
  }
  bool partclone = p.filesystem != "dd";
  if (p.filesystem == "dd" && p.partclone) {
    auto magic = starts_with_partclone_magic(commands);
    if (!magic) return magic.error();
    partclone = *magic;
  }
  if (partclone) {
    if (!program_in_path("partclone.restore")) {
      return make_error(Errc::unsupported, p.image_files.front().string() +
                                               " needs partclone.restore (Debian package "
                                               "partclone)");
    }
    // -C: the output is a pipe, whose size partclone cannot check; -L: no log in /var/log;
    // -f 1: its progress thread wakes every second (the default 2 s is also its exit delay).
    commands.push_back(
        {"partclone.restore", "-q", "-f", "1", "-C", "-L", "/dev/null", "-s", "-", "-o", "-"});
  }
  return commands;
}

Result<void> write_file_at(int fd, const fs::path& file, std::uint64_t offset) {
  auto bytes = read_small_file(file, 16u << 20);
  if (!bytes) return bytes.error();
  return pwrite_all(fd, as_bytes(*bytes), offset, "writing " + file.string());
}

// Runs a tool that writes the base file, its output drained; errors name `what` it read.
Result<void> run_to_end(const ChildPipeline::Command& command, const std::string& stdin_file,
                        const std::string& what) {
  auto p = ChildPipeline::start({command}, stdin_file);
  if (!p) return p.error();
  std::byte drain[512];
  for (;;) {
    auto n = (*p)->read(drain);
    if (!n) return n.error();
    if (*n == 0) break;
  }
  if (auto r = (*p)->finish(); !r) return r.error().with_context(what);
  return {};
}

// The disk with only its partition tables written, as a sparse temp file (a few KiB on disk):
// the stream reads every byte outside the restored partitions from it.
Result<UniqueFd> partition_table_base(const ClonezillaLayout& l, const fs::path& tmp_dir) {
  const fs::path path = tmp_dir / unique_tmp_name("clonezilla-table");
  auto fd = open_file(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (!fd) return fd.error();
  struct Unlink {
    fs::path p;
    ~Unlink() { ::unlink(p.c_str()); }
  } unlink_at_end{path};
  if (::ftruncate(fd->get(), static_cast<off_t>(l.disk_size)) != 0) {
    return errno_error(errno, "sizing " + path.string());
  }
  if (l.label == "gpt" && !l.gpt_first.empty() && !l.gpt_second.empty()) {
    REVIVE_TRY(write_file_at(fd->get(), l.gpt_first, 0));
    auto second = read_small_file(l.gpt_second, 16u << 20);
    if (!second) return second.error();
    if (second->size() > l.disk_size) {
      return make_error(Errc::invalid_input, l.gpt_second.string() + " is bigger than the disk");
    }
    REVIVE_TRY(pwrite_all(fd->get(), as_bytes(*second), l.disk_size - second->size(),
                          "writing " + l.gpt_second.string()));
    return std::move(*fd);
  }
  if (l.label == "gpt" && !l.gpt_backup.empty()) {
    // No sector copies: sgdisk's own backup (protective MBR, both headers, the entries).
    REVIVE_TRY(run_to_end({"sgdisk", "--load-backup=" + l.gpt_backup.string(), path.string()},
                          "/dev/null", l.gpt_backup.string()));
  } else {
    // MBR (and GPT without copies): sfdisk writes the table from the dump, for MBR also the
    // logical partitions' EBRs; the saved first sector (boot code included) and the data
    // hidden after it are then laid over it.
    REVIVE_TRY(run_to_end({"sfdisk", "--no-reread", "--no-tell-kernel", "-q", path.string()},
                          l.sfdisk_dump.string(), l.sfdisk_dump.string()));
  }
  if (!l.mbr.empty()) REVIVE_TRY(write_file_at(fd->get(), l.mbr, 0));
  if (!l.hidden_after_mbr.empty()) REVIVE_TRY(write_file_at(fd->get(), l.hidden_after_mbr, 512));
  return std::move(*fd);
}

/// One restored partition inside the disk stream.
struct Overlay {
  std::uint64_t start = 0;
  std::uint64_t size = 0;
  std::string label;  ///< the first image piece, for messages
  std::vector<ChildPipeline::Command> commands;
  /// partclone restores the filesystem, which may be smaller than its partition; a dd image
  /// is the partition itself and must fill it exactly.
  bool may_end_short = false;
};

/// The disk front to back: the base file's bytes, each overlay's pipeline output in its place.
class ClonezillaStream final : public DiskStream {
 public:
  ClonezillaStream(UniqueFd base, std::uint64_t size, std::vector<Overlay> overlays)
      : base_(std::move(base)), size_(size), overlays_(std::move(overlays)) {}

  Result<std::size_t> read(std::span<std::byte> out) override {
    if (pos_ >= size_ || out.empty()) return std::size_t{0};
    if (next_ < overlays_.size() && pos_ >= overlays_[next_].start) return read_overlay(out);
    const std::uint64_t until = next_ < overlays_.size() ? overlays_[next_].start : size_;
    const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), until - pos_));
    REVIVE_TRY(pread_exact(base_.get(), out.first(len), pos_, "partition table copy"));
    pos_ += len;
    return len;
  }
  Result<void> finish() override { return {}; }

 private:
  Result<std::size_t> read_overlay(std::span<std::byte> out);

  UniqueFd base_;
  std::uint64_t size_;
  std::vector<Overlay> overlays_;
  std::size_t next_ = 0;
  std::uint64_t pos_ = 0;
  std::unique_ptr<ChildPipeline> running_;
  bool ended_ = false;  ///< the running pipeline reached its end before the partition's
};

Result<std::size_t> ClonezillaStream::read_overlay(std::span<std::byte> out) {
  const Overlay& o = overlays_[next_];
  if (!running_) {
    auto p = ChildPipeline::start(o.commands);
    if (!p) return p.error();
    running_ = std::move(*p);
    ended_ = false;
  }
  const std::uint64_t end = o.start + o.size;
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), end - pos_));
  std::size_t n = 0;
  if (!ended_) {
    auto got = running_->read(out.first(want));
    if (!got) return got.error().with_context(o.label);
    n = *got;
    ended_ = n == 0;
    if (ended_ && (!o.may_end_short || pos_ == o.start)) {
      return make_error(Errc::corrupt, o.label + " restores to " + std::to_string(pos_ - o.start) +
                                           " bytes, but its "
                                           "partition holds " +
                                           std::to_string(o.size));
    }
  }
  if (ended_) {
    // A filesystem smaller than its partition: the rest of the partition was never used.
    n = want;
    std::fill_n(out.data(), n, std::byte{0});
  }
  pos_ += n;
  if (pos_ == end) {
    std::byte extra{};
    if (!ended_) {
      auto more = running_->read(std::span<std::byte>(&extra, 1));
      if (!more) return more.error().with_context(o.label);
      if (*more != 0) {
        return make_error(Errc::corrupt, o.label + " restores to more than its partition's " +
                                             std::to_string(o.size) + " bytes");
      }
    }
    if (auto r = running_->finish(); !r) return r.error().with_context("restoring " + o.label);
    running_.reset();
    ++next_;
  }
  return n;
}

Result<std::vector<Overlay>> overlays_for(const ClonezillaLayout& l, std::uint64_t& image_bytes) {
  std::vector<Overlay> overlays;
  for (const auto& p : l.partitions) {
    if (p.image_files.empty()) continue;
    if (!overlays.empty() && p.start < overlays.back().start + overlays.back().size) {
      return make_error(Errc::invalid_input, l.sfdisk_dump.string() + ": " + p.name +
                                                 " overlaps the partition before it");
    }
    auto commands = restore_commands(p);
    if (!commands) return commands.error();
    for (const auto& f : p.image_files) {
      std::error_code ec;
      const auto size = fs::file_size(f, ec);
      if (ec) return make_error(Errc::io, "size of " + f.string() + ": " + ec.message());
      image_bytes += size;
    }
    const bool partclone_restores = commands->back().front() == "partclone.restore";
    overlays.push_back(
        Overlay{p.start, p.size, p.image_files.front().string(), *commands, partclone_restores});
  }
  return overlays;
}

}  // namespace

Result<ImportReport> import_clonezilla(ImageStore& store, const fs::path& dir,
                                       const ImportOptions& opts, std::vector<std::string>& notes) {
  auto layout = read_clonezilla_layout(dir);
  if (!layout) return layout.error();
  std::uint64_t image_bytes = 0;
  auto overlays = overlays_for(*layout, image_bytes);
  if (!overlays) return overlays.error();
  auto base = partition_table_base(*layout, store.tmp_dir());
  if (!base) return base.error();
  notes = layout->notes;
  ClonezillaStream stream(std::move(*base), layout->disk_size, std::move(*overlays));
  StreamSource src;
  src.file = dir.string();
  src.source = "clonezilla:" + dir.filename().string();
  src.size = layout->disk_size;
  // Compressed pieces: about what zstd will store of the same used blocks.
  src.data_estimate = image_bytes;
  return import_image_stream(store, stream, src, opts);
}

}  // namespace revive::ctl
