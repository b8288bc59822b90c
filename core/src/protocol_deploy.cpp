// The agent protocol's JSON codec, part of revive/protocol.hpp.
// A deploy's chunk sources: what a deploying agent reports (held chunks, rates, a
// failed source), where the scheduler sends it, and the relay reports after the step.

#include "revive/protocol.hpp"

#include <algorithm>

#include "protocol_fields.hpp"

namespace revive::protocol {

using namespace fields;

Json to_json(const SourceFailure& v) {
  return {{"peer", v.peer}, {"reason", v.reason}, {"bad_chunk", v.bad_chunk}};
}

Json to_json(const DeployProgress& v) {
  Json j = {{"image_id", v.image_id},
            {"chunks_held", v.chunks_held},
            {"chunk_count", v.chunk_count},
            {"relay_port", v.relay_port},
            {"receive_rate", v.receive_rate},
            {"write_rate", v.write_rate},
            {"source", v.source}};
  if (v.source_failed) j["source_failed"] = to_json(*v.source_failed);
  return j;
}

Json to_json(const SourceAssignment& v) {
  Json j = {{"kind", to_string(v.kind)}, {"reason", v.reason}, {"epoch", v.epoch}};
  if (v.kind == SourceAssignment::Kind::peer) {
    j["peer"] = v.peer;
    j["url"] = v.url;
  }
  if (v.kind == SourceAssignment::Kind::queued) j["place"] = v.place;
  return j;
}

Json to_json(const RelayReport& v) {
  return {{"image_id", v.image_id},
          {"relay_port", v.relay_port},
          {"chunks_held", v.chunks_held},
          {"bytes_served", v.bytes_served}};
}

Json to_json(const RelayAck& v) { return {{"release", v.release}}; }

template <>
Result<SourceFailure> from_json<SourceFailure>(const Json& j) {
  REVIVE_TRY(require_object(j, "\"source_failed\""));
  SourceFailure f;
  REVIVE_FIELD(reason, optional_string(j, "reason"));
  REVIVE_FIELD(bad_chunk, optional_bool(j, "bad_chunk"));
  auto it = j.find("peer");
  if (it == j.end() || !it->is_number_integer() || it->get<std::int64_t>() < 0) {
    return bad("\"peer\" must be a device id (0: the server)");
  }
  f.peer = *it;
  f.reason = reason.substr(0, 512);
  f.bad_chunk = bad_chunk;
  return f;
}

template <>
Result<DeployProgress> from_json<DeployProgress>(const Json& j) {
  REVIVE_TRY(require_object(j, "\"deploy\""));
  DeployProgress d;
  REVIVE_FIELD(image_id, optional_string(j, "image_id"));
  REVIVE_FIELD(held, count(j, "chunks_held"));
  REVIVE_FIELD(total, count(j, "chunk_count"));
  REVIVE_FIELD(port, count(j, "relay_port"));
  REVIVE_FIELD(rx, optional_number(j, "receive_rate"));
  REVIVE_FIELD(wr, optional_number(j, "write_rate"));
  REVIVE_FIELD(source, optional_string(j, "source"));
  if (port > 65535) return bad("\"relay_port\" must be a port number");
  if (held > total) return bad("\"chunks_held\" cannot exceed \"chunk_count\"");
  d.image_id = image_id;
  d.chunks_held = held;
  d.chunk_count = total;
  d.relay_port = static_cast<std::uint16_t>(port);
  d.receive_rate = std::max(0.0, rx.value_or(0));
  d.write_rate = std::max(0.0, wr.value_or(0));
  d.source = source.substr(0, 64);
  if (auto it = j.find("source_failed"); it != j.end() && !it->is_null()) {
    REVIVE_FIELD(f, from_json<SourceFailure>(*it));
    d.source_failed = f;
  }
  return d;
}

template <>
Result<SourceAssignment> from_json<SourceAssignment>(const Json& j) {
  REVIVE_TRY(require_object(j, "\"source\""));
  SourceAssignment a;
  REVIVE_FIELD(kind_text, required_string(j, "kind"));
  auto kind = source_kind_from(kind_text);
  if (!kind) return bad("unknown chunk source \"" + kind_text.substr(0, 32) + "\"");
  REVIVE_FIELD(reason, optional_string(j, "reason"));
  a.kind = *kind;
  a.reason = reason;
  if (auto it = j.find("epoch"); it != j.end() && it->is_number_integer()) a.epoch = *it;
  if (a.kind == SourceAssignment::Kind::peer) {
    REVIVE_FIELD(peer, positive_int(j, "peer"));
    REVIVE_FIELD(url, required_string(j, "url"));
    if (!url.starts_with("http://") || url.size() > 64)
      return bad("\"url\" must be http://HOST:PORT");
    a.peer = peer;
    a.url = url;
  }
  if (a.kind == SourceAssignment::Kind::queued) {
    REVIVE_FIELD(place, count(j, "place"));
    a.place = static_cast<int>(std::min<std::uint64_t>(place, 1000000));
  }
  return a;
}

template <>
Result<RelayReport> from_json<RelayReport>(const Json& j) {
  REVIVE_TRY(require_object(j, "the relay report"));
  RelayReport r;
  REVIVE_FIELD(image_id, required_string(j, "image_id"));
  REVIVE_FIELD(port, count(j, "relay_port"));
  REVIVE_FIELD(held, count(j, "chunks_held"));
  REVIVE_FIELD(served, count(j, "bytes_served"));
  if (port == 0 || port > 65535) return bad("\"relay_port\" must be a port number");
  r.image_id = image_id.substr(0, 64);
  r.relay_port = static_cast<std::uint16_t>(port);
  r.chunks_held = held;
  r.bytes_served = served;
  return r;
}

template <>
Result<RelayAck> from_json<RelayAck>(const Json& j) {
  REVIVE_TRY(require_object(j, "the answer to a relay report"));
  REVIVE_FIELD(release, optional_bool(j, "release"));
  return RelayAck{release};
}

}  // namespace revive::protocol
