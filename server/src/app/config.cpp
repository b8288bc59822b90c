#include "app/config.hpp"

#include <toml++/toml.h>

#include <algorithm>

namespace revive::server {

Result<std::pair<std::string, std::uint16_t>> parse_listen(const std::string& s) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon + 1 == s.size()) {
    return make_error(Errc::invalid_input, "listen address \"" + s + "\" must be HOST:PORT");
  }
  std::string host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(s.substr(colon + 1), &used);
    if (used != s.size() - colon - 1 || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    return make_error(Errc::invalid_input,
                      "listen port in \"" + s + "\" is not a number from 0 to 65535");
  }
  return std::make_pair(host.empty() ? std::string("0.0.0.0") : host,
                        static_cast<std::uint16_t>(port));
}

Result<std::optional<std::pair<std::string, std::uint16_t>>> tls_listen_address(
    const ServerConfig& cfg) {
  using Out = std::optional<std::pair<std::string, std::uint16_t>>;
  if (cfg.tls_listen == "off") return Out();
  if (!cfg.tls_listen.empty()) {
    auto a = parse_listen(cfg.tls_listen);
    if (!a) return a.error().with_context("tls_listen");
    return Out(*a);
  }
  auto plain = parse_listen(cfg.listen);
  if (!plain) return plain.error();
  return Out(
      std::make_pair(plain->first, plain->second == 0 ? std::uint16_t{0} : std::uint16_t{8443}));
}

namespace {

// Reads one config file; every error names the file and the key.
class ConfigReader {
 public:
  ConfigReader(const std::filesystem::path& path, ServerConfig& cfg) : path_(path), cfg_(cfg) {}

  Result<void> top_level(const std::string& key, const toml::node& v) {
    if (key == "state_dir" || key == "store" || key == "listen" || key == "user")
      return top_string(key, v);
    if (key == "long_poll_s" || key == "max_body_bytes" || key == "shutdown_grace_s" ||
        key == "stall_timeout_s" || key == "blocking_threads")
      return top_number(key, v);
    if (key.starts_with("tls_")) return security_string(key, v);
    if (key.starts_with("max_connections") || key.starts_with("events_keep_"))
      return limit_number(key, v);
    if (key == "step_stall_timeout_s") return stall_table(key, v);
    if (key == "demo") {  // issue 15: trust the network (see docs/SECURITY.md)
      auto f = v.value<bool>();
      if (!f) return bad(key, "true or false");
      cfg_.demo = *f;
      return {};
    }
    if (key == "boot_token_ttl_s") {
      auto n = v.value<std::int64_t>();
      if (!n || *n < 60 || *n > 86400) return bad(key, "seconds from 60 to 86400");
      cfg_.boot_token_ttl_s = *n;
      return {};
    }
    if (key == "session_ttl_s") {
      auto n = v.value<std::int64_t>();
      if (!n || *n < 1 || *n > 7L * 86400) return bad(key, "seconds from 1 to 604800");
      cfg_.session_ttl_s = *n;
      return {};
    }
    if (key == "boot") {
      const auto* tbl = v.as_table();
      if (!tbl) return bad(key, "a table");
      for (auto&& [bk, bv] : *tbl) REVIVE_TRY(boot_key(std::string(bk.str()), bv));
      return {};
    }
    if (key == "deploy") {
      const auto* tbl = v.as_table();
      if (!tbl) return bad(key, "a table");
      for (auto&& [dk, dv] : *tbl) REVIVE_TRY(deploy_key(std::string(dk.str()), dv));
      return {};
    }
    return unknown(key);
  }

 private:
  Error bad(const std::string& key, const std::string& want) const {
    return make_error(Errc::invalid_input, path_.string() + ": \"" + key + "\" must be " + want);
  }
  Error unknown(const std::string& key) const {
    return make_error(Errc::invalid_input, path_.string() + ": unknown setting \"" + key + "\"");
  }

  Result<void> top_string(const std::string& key, const toml::node& v) {
    auto s = v.value<std::string>();
    if (!s) return bad(key, "a string");
    if (key == "state_dir") cfg_.state_dir = *s;
    if (key == "store") cfg_.store_dir = *s;
    if (key == "listen") cfg_.listen = *s;
    if (key == "user") cfg_.user = *s;
    return {};
  }

  Result<void> top_number(const std::string& key, const toml::node& v) {
    auto n = v.value<std::int64_t>();
    if (!n || *n < 0) return bad(key, "a non-negative integer");
    if (key == "long_poll_s") cfg_.long_poll_s = static_cast<int>(*n);
    if (key == "max_body_bytes") cfg_.max_body_bytes = static_cast<std::size_t>(*n);
    if (key == "shutdown_grace_s") cfg_.shutdown_grace_s = static_cast<int>(*n);
    if (key == "stall_timeout_s") cfg_.stall_timeout_s = *n;
    if (key == "blocking_threads")
      cfg_.blocking_threads = static_cast<unsigned>(std::max<std::int64_t>(1, *n));
    return {};
  }

  Result<void> security_string(const std::string& key, const toml::node& v) {
    auto s = v.value<std::string>();
    if (!s) return bad(key, "a string");
    if (key == "tls_listen") {
      cfg_.tls_listen = *s;
    } else if (key == "tls_cert") {
      cfg_.tls_cert = *s;
    } else if (key == "tls_key") {
      cfg_.tls_key = *s;
    } else {
      return unknown(key);
    }
    return {};
  }

  Result<void> limit_number(const std::string& key, const toml::node& v) {
    auto n = v.value<std::int64_t>();
    if (!n || *n < 1) return bad(key, "a positive integer");
    if (key == "max_connections") {
      cfg_.max_connections = static_cast<std::size_t>(*n);
    } else if (key == "max_connections_per_address") {
      cfg_.max_connections_per_address = static_cast<std::size_t>(*n);
    } else if (key == "events_keep_days") {
      cfg_.events_keep_days = *n;
    } else if (key == "events_keep_rows") {
      cfg_.events_keep_rows = *n;
    } else {
      return unknown(key);
    }
    return {};
  }

  Result<void> stall_table(const std::string& key, const toml::node& v) {
    const auto* tbl = v.as_table();
    if (!tbl) return bad(key, "a table of step = seconds");
    for (auto&& [sk, sv] : *tbl) {
      auto n = sv.value<std::int64_t>();
      if (!n || *n <= 0) return bad(key + "." + std::string(sk.str()), "a positive integer");
      cfg_.step_stall_timeout_s[std::string(sk.str())] = *n;
    }
    return {};
  }

  Result<void> boot_key(const std::string& b, const toml::node& v) {
    const std::string full = "boot." + b;
    if (b == "proxy_dhcp" || b == "tftp" || b == "secure_boot") {
      auto f = v.value<bool>();
      if (!f) return bad(full, "true or false");
      (b == "proxy_dhcp" ? cfg_.proxy_dhcp : b == "tftp" ? cfg_.tftp : cfg_.secure_boot) = *f;
      return {};
    }
    if (std::string* field = boot_string(b)) {
      auto s = v.value<std::string>();
      if (!s) return bad(full, "a string");
      *field = *s;
      return {};
    }
    return boot_number(b, full, v);
  }

  std::string* boot_string(const std::string& b) {
    if (b == "dhcp_range") return &cfg_.dhcp_range;
    if (b == "dhcp_router") return &cfg_.dhcp_router;
    if (b == "dhcp_netmask") return &cfg_.dhcp_netmask;
    if (b == "address") return &cfg_.boot_address;
    if (b == "listen") return &cfg_.boot_listen;
    if (b == "kernel_args") return &cfg_.boot_kernel_args;
    return nullptr;
  }

  Result<void> boot_number(const std::string& b, const std::string& full, const toml::node& v) {
    if (b == "dir") {
      auto s = v.value<std::string>();
      if (!s) return bad(full, "a string");
      cfg_.boot_dir = *s;
      return {};
    }
    auto n = v.value<std::int64_t>();
    if (b == "dhcp_ping_ms") {
      if (!n || *n < 0 || *n > 5000) return bad(full, "milliseconds from 0 (off) to 5000");
      cfg_.dhcp_ping_ms = *n;
    } else if (b == "dhcp_offer_burst") {
      if (!n || *n < 1 || *n > 1000) return bad(full, "a number of offers from 1 to 1000");
      cfg_.dhcp_offer_burst = *n;
    } else if (b == "dhcp_offer_every_s") {
      if (!n || *n < 0 || *n > 3600) return bad(full, "seconds from 0 (no wait) to 3600");
      cfg_.dhcp_offer_every_s = *n;
    } else if (b == "dhcp_max_pending_offers") {
      if (!n || *n < 0 || *n > 65536) return bad(full, "a number from 0 (half the range) to 65536");
      cfg_.dhcp_max_pending_offers = *n;
    } else if (b == "dhcp_lease_s") {
      if (!n || *n < 60 || *n > 7L * 86400) return bad(full, "seconds from 60 to 604800");
      cfg_.dhcp_lease_s = *n;
    } else if (b == "dhcp_port" || b == "pxe_port" || b == "tftp_port") {
      if (!n || *n < 0 || *n > 65535) return bad(full, "a port number");
      (b == "dhcp_port"  ? cfg_.dhcp_port
       : b == "pxe_port" ? cfg_.pxe_port
                         : cfg_.tftp_port) = static_cast<std::uint16_t>(*n);
    } else {
      return unknown(full);
    }
    return {};
  }

  Result<void> deploy_key(const std::string& d, const toml::node& v) {
    const std::string full = "deploy." + d;
    if (d == "relay") {
      auto f = v.value_exact<bool>();
      if (!f) return bad(full, "true or false");
      cfg_.relay = *f;
      return {};
    }
    auto n = v.value<std::int64_t>();
    if (d == "uplink_mbps") {
      if (!n || *n < 1 || *n > 1'000'000) return bad(full, "Mbit/s from 1 to 1000000");
      cfg_.uplink_mbps = *n;
    } else if (d == "spare_finished_relays") {
      if (!n || *n < 0 || *n > 1000) return bad(full, "a number from 0 to 1000");
      cfg_.spare_finished_relays = *n;
    } else {
      return unknown(full);
    }
    return {};
  }

  const std::filesystem::path& path_;
  ServerConfig& cfg_;
};

}  // namespace

Result<void> load_config_file(const std::filesystem::path& path, ServerConfig& cfg) {
  toml::table t;
  try {
    t = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    return make_error(Errc::invalid_input, path.string() + ":" +
                                               std::to_string(e.source().begin.line) + ": " +
                                               std::string(e.description()));
  }
  ConfigReader reader(path, cfg);
  for (auto&& [k, v] : t) REVIVE_TRY(reader.top_level(std::string(k.str()), v));
  return {};
}

}  // namespace revive::server
