// The agent protocol's JSON codec, part of revive/protocol.hpp.
// What an agent leaves on record: its events, and the certificates listed back to it.

#include "revive/protocol.hpp"

#include "protocol_fields.hpp"

namespace revive::protocol {

using namespace fields;

Json to_json(const EventsReport& v) { return {{"events", v.events}}; }

Json to_json(const CertificateSummary& v) {
  return {{"cert_id", v.cert_id},
          {"kind", v.kind},
          {"result", v.result},
          {"step", v.step ? Json(*v.step) : Json()},
          {"created_at", v.created_at}};
}

template <>
Result<EventsReport> from_json<EventsReport>(const Json& j) {
  REVIVE_TRY(require_object(j, "the events report"));
  auto it = j.find("events");
  if (it == j.end() || !it->is_array() || it->size() > kMaxEvents) {
    return bad("\"events\" must be an array of at most " + std::to_string(kMaxEvents) + " events");
  }
  for (const auto& e : *it) {
    if (!e.is_object()) return bad("each event must be an object");
  }
  EventsReport r;
  r.events = *it;
  return r;
}

template <>
Result<CertificateSummary> from_json<CertificateSummary>(const Json& j) {
  REVIVE_TRY(require_object(j, "a certificate entry"));
  CertificateSummary c;
  REVIVE_FIELD(id, optional_string(j, "cert_id"));
  REVIVE_FIELD(kind, optional_string(j, "kind"));
  REVIVE_FIELD(result, optional_string(j, "result"));
  c.cert_id = id;
  c.kind = kind;
  c.result = result;
  if (auto it = j.find("step"); it != j.end() && it->is_number_integer()) c.step = *it;
  if (auto it = j.find("created_at"); it != j.end() && it->is_number_integer()) {
    c.created_at = *it;
  }
  return c;
}

}  // namespace revive::protocol
