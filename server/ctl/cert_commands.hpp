#pragma once
// `revivectl cert verify`: checks an erasure certificate (JSON or PDF) offline, with nothing
// but the workshop server's public key.

#include <string>

namespace revive::ctl {

/// 0: authentic and untouched (a summary is printed); 1: not (the reason is printed); 2: usage.
int cert_verify(const std::string& file, const std::string& pubkey_file);

}  // namespace revive::ctl
