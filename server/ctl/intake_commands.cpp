#include "intake_commands.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace revive::ctl {

namespace {

struct IntakeArgs {
  std::string batch;
  long long minutes = 240;
  long long until = 0;  // seconds since the epoch; wins over minutes
  std::vector<std::string> macs, vendors;
};

std::string open_body(const IntakeArgs& a) {
  nlohmann::json body = {{"batch", a.batch}};
  if (a.until > 0) {
    body["until"] = a.until;
  } else {
    body["for_s"] = a.minutes * 60;
  }
  if (!a.macs.empty()) body["macs"] = a.macs;
  if (!a.vendors.empty()) body["vendors"] = a.vendors;
  return body.dump();
}

}  // namespace

void add_intake_commands(CLI::App& app, RemoteArgs& ra, int& rc,
                         const std::function<void(CLI::App*)>& server_opt) {
  auto args = std::make_shared<IntakeArgs>();
  auto* intake = app.add_subcommand(
      "intake", "Which unknown machines may join: nothing is wiped that was not taken in");
  intake->require_subcommand(1);
  auto* open = intake->add_subcommand(
      "open", "Let unknown laptops that network-boot join a batch, for a while");
  server_opt(open);
  open->add_option("batch", args->batch, "Batch the new laptops join")->required();
  open->add_option("--minutes", args->minutes, "How long the intake stays open (default 240)")
      ->check(CLI::Range(1, 31 * 24 * 60));
  open->add_option("--until", args->until, "Until this time (seconds since the epoch)");
  open->add_option("--mac", args->macs, "Only this MAC address (repeatable)");
  open->add_option("--vendor", args->vendors,
                   "Only laptops whose SMBIOS vendor starts with this (repeatable)");
  open->callback([&ra, &rc, args] { rc = remote_post(ra, "/api/v1/intake", open_body(*args)); });
  auto* close = intake->add_subcommand("close", "No more unknown laptops join");
  server_opt(close);
  close->callback([&ra, &rc] { rc = remote_post(ra, "/api/v1/intake/close", "{}"); });
  auto* status =
      intake->add_subcommand("status", "The open intake and the machines recently turned away");
  server_opt(status);
  status->callback([&ra, &rc] { rc = remote_get_json(ra, "/api/v1/intake"); });
}

}  // namespace revive::ctl
