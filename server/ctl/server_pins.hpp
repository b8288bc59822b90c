#pragma once
// revivectl's trust in a server's TLS key (trust on first use). A workshop server makes its own
// self-signed certificate, so no authority vouches for it: on the first login revivectl shows
// the key's pin ("sha256//<base64>", revive/tls_pin.hpp), which the operator compares with the
// one revive-server printed at start, and keeps it in known_servers.json beside the saved
// session (mode 0600). Every later connection to that URL must show the same key.

#include <filesystem>
#include <optional>
#include <string>

#include "revive/error.hpp"

namespace revive::ctl {

/// $XDG_CONFIG_HOME/revive, else ~/.config/revive: the saved session and the pins.
std::filesystem::path config_dir();

/// The pin kept for `server` (a base URL), or nullopt; corrupt when the file is damaged.
Result<std::optional<std::string>> pinned_key(const std::string& server);

/// Keeps `pin` for `server` (replacing an older pin), file mode 0600.
Result<void> save_pinned_key(const std::string& server, const std::string& pin);

/// The pin of the key the TLS server at `server` shows now (not trusted; for comparing).
Result<std::string> presented_key(const std::string& server);

/// The pin to connect to `server` with, for `revivectl login`: "" for http:// URLs. With
/// `fingerprint`, the server must show that key (then it is kept); else a kept pin must still
/// match; else (first use) the key is shown and, when a person confirms at the terminal, kept.
/// bad_signature naming both pins when the server shows another key; forbidden on first use
/// without a terminal or a confirmation; io when the server cannot be reached.
Result<std::string> trust_server_key(const std::string& server, const std::string& fingerprint);

/// The clear refusal for a server whose key no longer matches `pinned` (asks the server which
/// key it shows now, to name both).
std::string changed_key_message(const std::string& server, const std::string& pinned);

}  // namespace revive::ctl
