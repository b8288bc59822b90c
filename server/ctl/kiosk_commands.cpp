#include "kiosk_commands.hpp"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace revive::ctl {

namespace {

using nlohmann::json;

int create(const RemoteArgs& ra, const std::string& label) {
  std::string answer, server;
  if (int rc = remote_request(ra, "POST", "/api/v1/kiosk-tokens", json{{"label", label}}.dump(),
                              answer, server))
    return rc;
  const json j = json::parse(answer, nullptr, false);
  if (!j.is_object() || !j.contains("path") || !j["path"].is_string()) {
    fmt::print(stderr, "revivectl: error: the server's answer has no kiosk link: {}\n", answer);
    return 1;
  }
  // The server names the link on its plain HTTP port (a TV there needs no trust in the
  // operators' certificate); an older server only the path, which joins the URL logged in to.
  const std::string link = j.contains("wall_url") && j["wall_url"].is_string()
                               ? j["wall_url"].get<std::string>()
                               : server + j["path"].get<std::string>();
  fmt::print("kiosk link (id {}): {}\n", j.value("id", ""), link);
  fmt::print(stderr,
             "Open it on the workshop's TV. It shows the wall and changes nothing; anyone with "
             "the link can look, so revoke it when it is no longer needed "
             "(revivectl kiosk revoke ID).\n");
  return 0;
}

int list(const RemoteArgs& ra) {
  std::string answer, server;
  if (int rc = remote_request(ra, "GET", "/api/v1/tokens", "", answer, server)) return rc;
  const json j = json::parse(answer, nullptr, false);
  fmt::print("{:<16}  {:<12}  {}\n", "ID", "CREATED", "LABEL");
  for (const auto& t : j.value("tokens", json::array())) {
    if (t.value("kind", "") != "kiosk") continue;
    fmt::print("{:<16}  {:<12}  {}\n", t.value("id", ""), t.value("created_at", 0),
               t.value("label", ""));
  }
  return 0;
}

int revoke(const RemoteArgs& ra, const std::string& id) {
  std::string answer, server;
  if (int rc = remote_request(ra, "DELETE", "/api/v1/tokens/" + id, "", answer, server)) return rc;
  fmt::print("revoked kiosk link {}: its screens go dark within seconds\n", id);
  return 0;
}

}  // namespace

void add_kiosk_commands(CLI::App& app, RemoteArgs& ra, int& rc,
                        const std::function<void(CLI::App*)>& server_opt) {
  auto label = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  auto* kiosk = app.add_subcommand(
      "kiosk", "Read-only links that show the workshop wall screen on a TV (no login there)");
  kiosk->require_subcommand(1);
  auto* c = kiosk->add_subcommand("create", "Make a kiosk link and print it");
  server_opt(c);
  c->add_option("--label", *label, "Where it is shown, e.g. \"TV by the door\"");
  c->callback([&ra, &rc, label] { rc = create(ra, *label); });
  auto* l = kiosk->add_subcommand("list", "Your kiosk links (ids and labels, not the links)");
  server_opt(l);
  l->callback([&ra, &rc] { rc = list(ra); });
  auto* r = kiosk->add_subcommand("revoke", "Revoke a kiosk link: its screens are refused");
  server_opt(r);
  r->add_option("ID", *id, "The link's id (kiosk list)")->required();
  r->callback([&ra, &rc, id] { rc = revoke(ra, *id); });
}

}  // namespace revive::ctl
