#pragma once
// The versioned JSON API (/api/v1), health, metrics and chunk serving: routes requests to the
// state store and the image store. Knows nothing of Beast or Asio.

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "http_types.hpp"
#include "metrics.hpp"
#include "revive/image_store.hpp"
#include "state.hpp"

namespace revive::server {

struct ApiHooks {
  /// Wake long-polls waiting on a key.
  std::function<void(const std::string& key)> notify;
  /// Runs `work` on the blocking-work pool, then `done` back on the io thread.
  std::function<void(std::function<void()> work, std::function<void()> done)> run_blocking;
};

struct ApiOptions {
  int max_long_poll_s = 30;
  /// Network boot: BOOT/tftp (boot binaries, also served at /boot/files/NAME) and BOOT/live
  /// (the live agent's vmlinuz + initrd.img, at /boot/live/NAME). Empty: no boot routes.
  std::filesystem::path boot_dir;
  /// Extra kernel arguments for the live agent ("console=tty0 console=ttyS0,115200").
  std::string boot_kernel_args;
};

class Api {
 public:
  Api(StateStore& state, ImageStore& images, Metrics& metrics, ApiHooks hooks,
      ApiOptions opts = {});

  /// Answers one request; sets `route` to its metrics label.
  Response handle(Request& req, std::string& route);

  /// Which requests are uploads (their bodies are spooled to a file, not memory).
  static bool is_upload(const Request& req);
  /// Refuses an upload from its header alone (no operator token, bad name) before any byte
  /// of the body is spooled to disk.
  std::optional<Response> upload_precheck(const Request& req);
  /// TFTP files made per request (GRUB's configs for the Secure Boot path); nullopt otherwise.
  std::optional<std::string> generated_boot_file(const std::string& name,
                                                 const std::string& base_url);
  /// False for a laptop whose workflow is done: DHCP then offers it no network boot.
  bool offer_network_boot(const std::string& mac);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace revive::server
