#pragma once
// `revivectl cert verify`: checks an erasure certificate (JSON or PDF) offline, with nothing
// but the workshop server's public key(s).

#include <string>
#include <vector>

namespace revive::ctl {

/// 0: authentic and untouched, signed by one of the keys in `pubkey_files` (a summary naming
/// the key is printed); 1: not (the reason for each key is printed); 2: usage.
int cert_verify(const std::string& file, const std::vector<std::string>& pubkey_files);

}  // namespace revive::ctl
