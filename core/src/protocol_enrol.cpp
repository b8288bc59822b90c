// The agent protocol's JSON codec, part of revive/protocol.hpp.
// Enrolment: who a laptop is and the token it gets.

#include "revive/protocol.hpp"

#include <utility>

#include "protocol_fields.hpp"

namespace revive::protocol {

using namespace fields;

Json to_json(const Identity& v) {
  return {{"system_uuid", v.system_uuid},
          {"serial", v.serial},
          {"model", v.model},
          {"vendor", v.vendor}};
}

Json to_json(const EnrolRequest& v) {
  Json j = {{"identity", to_json(v.identity)}, {"macs", v.macs}, {"inventory", v.inventory}};
  if (!v.boot_token.empty()) j["boot_token"] = v.boot_token;
  return j;
}

Json to_json(const EnrolResponse& v) {
  Json j = {{"device_id", v.device_id},
            {"agent_token", v.agent_token},
            {"new_device", v.new_device},
            {"protocol", v.protocol}};
  if (!v.workshop.empty()) j["workshop"] = v.workshop;
  if (!v.language.empty()) j["language"] = v.language;
  if (!v.label.empty()) j["label"] = v.label;
  return j;
}

template <>
Result<Identity> from_json<Identity>(const Json& j) {
  REVIVE_TRY(require_object(j, "\"identity\""));
  Identity id;
  for (auto [key, field] :
       {std::pair{"system_uuid", &id.system_uuid}, std::pair{"serial", &id.serial},
        std::pair{"model", &id.model}, std::pair{"vendor", &id.vendor}}) {
    REVIVE_FIELD(s, optional_string(j, key));
    if (s.size() > kMaxIdentityField) {
      return bad("identity fields are at most " + std::to_string(kMaxIdentityField) +
                 " characters");
    }
    *field = s;
  }
  return id;
}

template <>
Result<EnrolRequest> from_json<EnrolRequest>(const Json& j) {
  REVIVE_TRY(require_object(j, "the enrolment"));
  EnrolRequest r;
  REVIVE_FIELD(idj, optional_object(j, "identity"));
  REVIVE_FIELD(id, from_json<Identity>(idj));
  r.identity = id;
  if (auto it = j.find("macs"); it != j.end() && !it->is_null()) {
    if (!it->is_array() || it->size() > kMaxMacs) {
      return bad("\"macs\" must be an array of at most " + std::to_string(kMaxMacs) + " strings");
    }
    for (const auto& m : *it) {
      if (!m.is_string() || m.get_ref<const std::string&>().size() > 64) {
        return bad("\"macs\" must hold MAC addresses as strings");
      }
      r.macs.push_back(m.get<std::string>());
    }
  }
  if (auto it = j.find("inventory"); it != j.end() && !it->is_null()) {
    // Checked before the copy: the inventory is stored and shown as an object.
    if (!it->is_object()) return bad("\"inventory\" must be an object");
    r.inventory = *it;
  }
  REVIVE_FIELD(token, optional_string(j, "boot_token"));
  r.boot_token = token;
  return r;
}

template <>
Result<EnrolResponse> from_json<EnrolResponse>(const Json& j) {
  REVIVE_TRY(require_object(j, "the enrolment answer"));
  EnrolResponse r;
  REVIVE_FIELD(id, positive_int(j, "device_id"));
  REVIVE_FIELD(token, required_string(j, "agent_token"));
  REVIVE_FIELD(fresh, optional_bool(j, "new_device"));
  r.device_id = id;
  r.agent_token = token;
  r.new_device = fresh;
  REVIVE_FIELD(workshop, optional_string(j, "workshop"));
  if (workshop.size() > kMaxWorkshopName)
    return bad("\"workshop\" is at most " + std::to_string(kMaxWorkshopName) + " characters");
  r.workshop = workshop;
  REVIVE_FIELD(label, optional_string(j, "label"));
  if (label.size() > kMaxIdentityField)
    return bad("\"label\" is at most " + std::to_string(kMaxIdentityField) + " characters");
  r.label = label;
  REVIVE_FIELD(language, optional_string(j, "language"));
  // An unknown language (a newer server) is not an error: the screen keeps its default.
  for (auto known : kScreenLanguages) {
    if (language == known) r.language = language;
  }
  if (auto it = j.find("protocol"); it != j.end() && it->is_number_integer()) r.protocol = *it;
  return r;
}

}  // namespace revive::protocol
