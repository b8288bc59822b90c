#pragma once
// Shared by the provisioning files (provision_*.cpp), not part of the agent's interface.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

#include "revive/agent/provision.hpp"
#include "revive/error.hpp"

namespace revive::agent {

/// invalid_input "profile field "<field>": <why>".
Error profile_field_error(const std::string& field, const std::string& why);

/// The welcome document for the recipient (plain text), naming the host.
std::string welcome_document(const Profile& p, const std::string& hostname);

/// Writes unattend.xml and the welcome document into a Windows system mounted at `root`.
/// Returns what was done.
Result<nlohmann::json> apply_windows_profile(const std::filesystem::path& root, const Profile& p,
                                             const std::string& hostname);

}  // namespace revive::agent
