// Network boot over HTTP: the per-laptop iPXE script (the decision is the boot planner's) and
// the boot files (TFTP root and live image) for UEFI HTTP boot and iPXE. Public, like TFTP: a
// booting laptop has no credentials yet.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "api/handler.hpp"
#include "tftp.hpp"

namespace revive::server {

namespace {

Response boot_file(ApiContext& api, const char* area, const std::string& name) {
  if (api.opts.boot_dir.empty())
    return error_response(404, "not_found",
                          "network boot is not set up on this server (--boot-dir)");
  const auto dir = api.opts.boot_dir / area;
  const int root = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return error_response(404, "not_found", "no " + dir.string() + " on this server");
  auto f = boot::open_confined(root, name);
  ::close(root);
  if (!f) return from_error(f.error());
  Response r;
  r.content_type = "application/octet-stream";
  r.file = Response::File{f->fd, 0, f->size};
  return r;
}

Response boot_script(ApiContext& api, Call& c) {
  Response r;
  r.content_type = "text/plain";
  r.headers = {{"Cache-Control", "no-store"}};
  const std::string& script = c.param("script");
  const std::string suffix = ".ipxe";
  const auto mac = script.size() > suffix.size() && script.ends_with(suffix)
                       ? boot::normalise_mac(script.substr(0, script.size() - suffix.size()))
                       : std::nullopt;
  if (!mac) {
    r.status = 404;
    r.body = boot::ipxe_error_script("no boot script \"" + script.substr(0, 40) +
                                     "\": ask for /boot/MAC.ipxe");
    return r;
  }
  const std::string host = c.req.header("host");
  if (!plausible_host(host))
    return error_response(400, "invalid_input",
                          "the Host header must name this server (host[:port])");
  auto text = api.services.boot.ipxe_script(*mac, "http://" + host);
  if (!text) return from_error(text.error());
  r.body = std::move(*text);
  return r;
}

}  // namespace

void add_boot_routes(HandlerTable& t, ApiContext& api) {
  t.add(RouteId::boot_local_disk, [](Call&) {
    return error_response(404, "not_found",
                          "this laptop's workflow is done: it boots its own disk");
  });
  t.add(RouteId::boot_file, [&api](Call& c) { return boot_file(api, "tftp", c.param("name")); });
  t.add(RouteId::boot_live, [&api](Call& c) { return boot_file(api, "live", c.param("name")); });
  t.add(RouteId::boot_script, [&api](Call& c) { return boot_script(api, c); });
}

}  // namespace revive::server
