#include "server_pins.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <iostream>

#include "revive/file_util.hpp"
#include "revive/http_client.hpp"
#include "revive/tls_pin.hpp"

namespace revive::ctl {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path pins_file() { return config_dir() / "known_servers.json"; }

bool is_https(const std::string& server) { return server.starts_with("https://"); }

Result<json> load_pins() {
  std::error_code ec;
  if (!fs::exists(pins_file(), ec)) return json::object();
  auto text = read_small_file(pins_file(), 1 << 20);
  if (!text) return text.error();
  json j = json::parse(*text, nullptr, false);
  if (!j.is_object())
    return make_error(Errc::corrupt, pins_file().string() + " is not a JSON object (damaged?)");
  return j;
}

Error key_mismatch(const std::string& server, const std::string& expected, const std::string& shown,
                   const std::string& expected_from) {
  return make_error(
      Errc::bad_signature,
      fmt::format("the server at {} shows TLS key {}, but {} is {}: refused (someone may be "
                  "intercepting the connection). If the server's certificate was replaced on "
                  "purpose, compare the new key with the one revive-server printed at start, "
                  "then run `revivectl login --server {} --user NAME --fingerprint {}`",
                  server, shown, expected_from, expected, server, shown));
}

// First use: the person at the terminal compares the key with the server's start-up line.
Result<std::string> first_use(const std::string& server, const std::string& shown) {
  fmt::print(stderr,
             "The server at {} shows TLS key {}\n"
             "Compare it with the \"key pin\" revive-server printed when it started.\n",
             server, shown);
  if (!::isatty(STDIN_FILENO)) {
    return make_error(Errc::forbidden,
                      "no terminal to confirm the server's TLS key on: once you have compared "
                      "it, run again with --fingerprint " +
                          shown);
  }
  fmt::print(stderr, "Trust it and pin it for this server? [y/N] ");
  std::string answer;
  std::getline(std::cin, answer);
  if (answer != "y" && answer != "Y" && answer != "yes")
    return make_error(Errc::forbidden, "the server's TLS key was not trusted: not logged in");
  REVIVE_TRY(save_pinned_key(server, shown));
  return shown;
}

}  // namespace

fs::path config_dir() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  fs::path base = xdg && *xdg ? fs::path(xdg) : fs::path(home ? home : ".") / ".config";
  return base / "revive";
}

Result<std::optional<std::string>> pinned_key(const std::string& server) {
  auto pins = load_pins();
  if (!pins) return pins.error();
  auto it = pins->find(server);
  if (it == pins->end() || !it->is_string() || !is_public_key_pin(it->get<std::string>()))
    return std::optional<std::string>();
  return std::optional<std::string>(it->get<std::string>());
}

Result<void> save_pinned_key(const std::string& server, const std::string& pin) {
  auto pins = load_pins();
  if (!pins) return pins.error();
  (*pins)[server] = pin;
  std::error_code ec;
  fs::create_directories(config_dir(), ec);
  if (ec) return make_error(Errc::io, "create " + config_dir().string() + ": " + ec.message());
  return write_file_atomic(pins_file(), as_bytes(pins->dump(2) + "\n"), config_dir(), 0600);
}

Result<std::string> presented_key(const std::string& server) {
  auto pem = http::peer_certificate(server);
  if (!pem) return pem.error();
  return public_key_pin(*pem);
}

Result<std::string> trust_server_key(const std::string& server, const std::string& fingerprint) {
  if (!is_https(server)) {
    if (!fingerprint.empty())
      return make_error(Errc::invalid_input, "--fingerprint needs an https:// server URL");
    return std::string();
  }
  if (!fingerprint.empty() && !is_public_key_pin(fingerprint)) {
    return make_error(Errc::invalid_input,
                      "--fingerprint must be the key pin revive-server printed (sha256// and 44 "
                      "base64 characters), not \"" +
                          fingerprint + "\"");
  }
  auto kept = pinned_key(server);
  if (!kept) return kept.error();
  auto shown = presented_key(server);
  if (!shown) return shown.error();
  if (!fingerprint.empty()) {
    if (*shown != fingerprint) return key_mismatch(server, fingerprint, *shown, "--fingerprint");
    if (*kept != fingerprint) REVIVE_TRY(save_pinned_key(server, fingerprint));
    return fingerprint;
  }
  if (*kept) {
    if (*shown != **kept)
      return key_mismatch(server, **kept, *shown, "the key revivectl pinned for it");
    return **kept;
  }
  return first_use(server, *shown);
}

std::string changed_key_message(const std::string& server, const std::string& pinned) {
  auto shown = presented_key(server);
  if (!shown) {
    return "the server at " + server + " did not show the TLS key revivectl pinned for it (" +
           pinned + "): refused";
  }
  return key_mismatch(server, pinned, *shown, "the key revivectl pinned for it").message;
}

}  // namespace revive::ctl
