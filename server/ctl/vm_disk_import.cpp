#include "vm_disk_import.hpp"

#include <nlohmann/json.hpp>

#include "child_pipeline.hpp"

namespace revive::ctl {

namespace fs = std::filesystem;

namespace {

struct VmDiskInfo {
  std::uint64_t virtual_size = 0;
  std::uint64_t actual_size = 0;  ///< the file's allocated bytes
};

Result<std::string> read_all(DiskStream& stream, std::size_t limit, const std::string& what) {
  std::string text;
  std::byte buf[4096];
  for (;;) {
    auto n = stream.read(buf);
    if (!n) return n.error();
    if (*n == 0) break;
    if (text.size() + *n > limit)
      return make_error(Errc::invalid_input, what + ": too much output");
    text.append(reinterpret_cast<const char*>(buf), *n);
  }
  REVIVE_TRY(stream.finish());
  return text;
}

Result<VmDiskInfo> vm_disk_info(const fs::path& file, const std::string& format) {
  auto p =
      ChildPipeline::start({{"qemu-img", "info", "--output=json", "-f", format, file.string()}});
  if (!p) return p.error();
  auto text = read_all(**p, 1 << 20, "qemu-img info");
  if (!text) return text.error();
  const auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("virtual-size") || !j["virtual-size"].is_number_unsigned()) {
    return make_error(Errc::invalid_input, "qemu-img info on " + file.string() +
                                               " gave no virtual size: " + text->substr(0, 200));
  }
  if (j.value("encrypted", false)) {
    return make_error(Errc::invalid_input,
                      file.string() + " is an encrypted " + format +
                          " image: recipients could not open it. Convert it to an unencrypted "
                          "image with qemu-img first (`qemu-img convert --object secret,... "
                          "-O qcow2 IN OUT`)");
  }
  VmDiskInfo info;
  info.virtual_size = j["virtual-size"].get<std::uint64_t>();
  info.actual_size = j.value("actual-size", std::uint64_t{0});
  return info;
}

}  // namespace

Result<ImportReport> import_vm_disk(ImageStore& store, const fs::path& file,
                                    const std::string& qemu_format, const ImportOptions& opts) {
  for (const auto& [program, package] :
       {std::pair{"qemu-img", "qemu-utils"}, std::pair{"qemu-nbd", "qemu-utils"},
        std::pair{"nbdcopy", "libnbd-bin"}}) {
    if (!program_in_path(program)) {
      return make_error(Errc::unsupported, file.string() + " is a " + qemu_format +
                                               " disk; importing it needs " + program +
                                               " (Debian package " + package + ")");
    }
  }
  // An absolute path: a file named like an option is never read as one.
  std::error_code ec;
  const fs::path abs = fs::absolute(file, ec);
  if (ec) return make_error(Errc::io, "absolute path of " + file.string() + ": " + ec.message());
  auto info = vm_disk_info(abs, qemu_format);
  if (!info) return info.error();
  auto stream = ChildPipeline::start({{"nbdcopy", "--", "[", "qemu-nbd", "--read-only",
                                       "--format=" + qemu_format, abs.string(), "]", "-"}});
  if (!stream) return stream.error();
  StreamSource src;
  src.file = file.string();
  src.source = qemu_format + ":" + file.filename().string();
  src.size = info->virtual_size;
  src.data_estimate =
      info->actual_size ? std::min(info->actual_size, info->virtual_size) : info->virtual_size;
  return import_image_stream(store, **stream, src, opts);
}

}  // namespace revive::ctl
