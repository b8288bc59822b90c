#include "certificate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "revive/csv.hpp"
#include "revive/encoding.hpp"
#include "revive/signed_document.hpp"

namespace revive::cert {

namespace {

constexpr std::size_t kMaxCertificateBytes = 1 << 20;

Error bad(const std::string& field, const std::string& why) {
  return make_error(Errc::invalid_input, "wipe evidence: \"" + field + "\" " + why);
}

Result<std::string> text(const Json& j, const char* key, bool required = true) {
  if (!j.contains(key)) {
    if (required) return bad(key, "is missing");
    return std::string();
  }
  if (!j[key].is_string()) return bad(key, "must be a string");
  const std::string s = j[key].get<std::string>();
  if (s.size() > 4096) return bad(key, "is too long");
  return s;
}

Result<std::uint64_t> count(const Json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number_integer() ||
      (!j[key].is_number_unsigned() && j[key].get<std::int64_t>() < 0)) {
    return bad(key, "must be a non-negative integer");
  }
  return j[key].get<std::uint64_t>();
}

// Certificates carry no floating point numbers: their canonical text must not depend on how a
// language prints a double. Floats become strings with fixed precision.
Json without_floats(const Json& j, int depth = 0) {
  if (depth > 16) return "(nested too deeply)";
  if (j.is_number_float()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", j.get<double>());
    return buf;
  }
  if (j.is_object()) {
    Json o = Json::object();
    for (const auto& [k, v] : j.items()) o[k] = without_floats(v, depth + 1);
    return o;
  }
  if (j.is_array()) {
    Json a = Json::array();
    for (const auto& v : j) a.push_back(without_floats(v, depth + 1));
    return a;
  }
  return j;
}

Json common(const IssueContext& ctx, const char* kind) {
  return {{"format", kFormat},
          {"kind", kind},
          {"certificate_id", new_certificate_id()},
          {"issued_at", ctx.issued_at},
          {"workshop", ctx.workshop},
          {"operator", ctx.operator_name},
          {"donor_batch", ctx.donor_batch},
          {"device", ctx.device},
          {"reverification", {{"selected", ctx.reverify_selected}, {"done", false}}},
          {"validator", nullptr}};
}

}  // namespace

std::string new_certificate_id() { return random_uuid(); }

Result<Json> drive_certificate(const IssueContext& ctx, const Json& ev) {
  if (!ev.is_object()) return bad("drives[]", "must be objects");
  if (!ev.contains("drive") || !ev["drive"].is_object()) return bad("drive", "must be an object");
  const Json& d = ev["drive"];
  Json drive;
  for (const char* k : {"name", "model", "serial", "media", "transport"}) {
    auto v = text(d, k, k == std::string("name") || k == std::string("transport"));
    if (!v) return v.error();
    drive[k] = *v;
  }
  auto size = count(d, "size_bytes");
  if (!size) return size.error();
  drive["size_bytes"] = *size;
  drive["simulated"] = d.value("simulated", false);
  Json san;
  for (const char* k :
       {"method", "nist_level", "why", "tool", "started_at", "finished_at", "pattern"}) {
    auto v = text(ev, k);
    if (!v) return v.error();
    san[k] = *v;
  }
  if (san["nist_level"] != "Clear" && san["nist_level"] != "Purge")
    return bad("nist_level", "must be Clear or Purge");
  san["nist_reference"] = "NIST SP 800-88 Rev. 1 (Rev. 2 defers to IEEE 2883-2022)";
  san["hpa_dco"] = without_floats(ev.value("hpa_dco", Json("not reported")));
  if (!ev.contains("verification") || !ev["verification"].is_object())
    return bad("verification", "must be an object");
  const Json& v = ev["verification"];
  Json ver;
  auto vm = text(v, "method");
  if (!vm) return vm.error();
  if (*vm != "sampled" && *vm != "full" && *vm != "none")
    return bad("verification.method", "must be sampled, full or none");
  ver["method"] = *vm;
  auto seed = text(v, "seed", false);
  if (!seed) return seed.error();
  ver["seed"] = *seed;
  for (const char* k :
       {"samples", "bytes_checked", "coverage_permille", "mismatches", "read_errors"}) {
    auto c = count(v, k);
    if (!c) return c.error();
    ver[k] = *c;
  }
  auto result = text(ev, "result");
  if (!result) return result.error();
  if (*result != "passed" && *result != "failed" && *result != "unverified")
    return bad("result", "must be passed, failed or unverified");
  // Never "passed" on evidence that does not hold up: verified, nothing unreadable or different.
  std::string res = *result;
  std::string reason = ev.value("reason", std::string());
  if (res == "passed" && (*vm == "none" || ver["mismatches"] != 0 || ver["read_errors"] != 0)) {
    res = "unverified";
    reason = "the evidence does not show a clean verification";
  }
  if (res == "passed" && *vm == "sampled" &&
      (ver["samples"].get<std::uint64_t>() < 1000 ||
       ver["coverage_permille"].get<std::uint64_t>() < 100)) {
    res = "unverified";
    reason = "sampled verification below 1000 samples or 10% of the drive";
  }
  ver["result"] = res == "passed" ? "passed" : "not passed";
  Json body = common(ctx, "drive");
  body["drive"] = drive;
  body["sanitization"] = san;
  body["verification"] = ver;
  body["smart"] = {{"before", without_floats(ev.value("smart_before", Json()))},
                   {"after", without_floats(ev.value("smart_after", Json()))}};
  body["result"] = res;
  body["reason"] = reason;
  return body;
}

Json laptop_certificate(const IssueContext& ctx, const std::vector<Json>& drives,
                        const StorageListing& storage) {
  Json body = common(ctx, "laptop");
  Json list = Json::array();
  bool all = !drives.empty();
  for (const auto& d : drives) {
    list.push_back({{"certificate_id", d["certificate_id"]},
                    {"model", d["drive"]["model"]},
                    {"serial", d["drive"]["serial"]},
                    {"method", d["sanitization"]["method"]},
                    {"nist_level", d["sanitization"]["nist_level"]},
                    {"result", d["result"]}});
    all = all && d["result"] == "passed";
  }
  body["drives"] = list;
  body["storage"] = without_floats(storage.entries);
  if (!storage.note.empty()) body["storage_note"] = storage.note;
  const bool accounted = storage.unaccounted.empty();
  body["result"] = all && accounted ? "passed" : "failed";
  body["reason"] = drives.empty() ? "no drive was sanitised"
                   : !all         ? "at least one drive did not pass"
                   : !accounted
                       ? "not every storage device is accounted for: " + storage.unaccounted.front()
                       : "";
  return body;
}

Result<Json> revalidated(const Json& body, const std::string& validator, const std::string& verdict,
                         const std::string& note, const std::string& issued_at,
                         const std::vector<std::string>& handled_by) {
  if (!body.is_object() || body.value("format", std::string()) != kFormat)
    return make_error(Errc::invalid_input, "not a certificate");
  if (body.value("kind", std::string()) == "batch")
    return make_error(Errc::invalid_input, "a batch summary is not re-verified itself");
  if (verdict != "confirmed" && verdict != "disputed")
    return make_error(Errc::invalid_input, "verdict must be confirmed or disputed");
  if (validator.empty()) return make_error(Errc::invalid_input, "the validator must be named");
  const bool handled =
      std::find(handled_by.begin(), handled_by.end(), validator) != handled_by.end();
  if (handled || validator == body.value("operator", std::string())) {
    return make_error(Errc::invalid_input,
                      "the re-verification must be done by a second person, "
                      "not by " +
                          validator + ", who handled this laptop");
  }
  if (!body["validator"].is_null())
    return make_error(Errc::conflict,
                      "this certificate was re-verified already (see the newer one)");
  Json next = body;
  next["certificate_id"] = new_certificate_id();
  next["issued_at"] = issued_at;
  next["supersedes"] = body["certificate_id"];
  next["validator"] = {
      {"name", validator}, {"verdict", verdict}, {"note", note}, {"at", issued_at}};
  next["reverification"]["done"] = true;
  if (verdict == "disputed") {
    next["result"] = "failed";
    next["reason"] =
        "re-verification by " + validator + " disputed it" + (note.empty() ? "" : ": " + note);
  }
  return next;
}

Json batch_summary(const std::string& workshop, const Json& donor_batch,
                   const std::string& issued_at, const std::vector<Json>& laptops) {
  Json list = Json::array();
  std::uint64_t passed = 0;
  for (const auto& l : laptops) {
    Json drives = Json::array();
    for (const auto& d : l.value("drives", Json::array()))
      drives.push_back(
          {{"serial", d["serial"]}, {"method", d["method"]}, {"nist_level", d["nist_level"]}});
    list.push_back({{"certificate_id", l["certificate_id"]},
                    {"serial", l["device"]["serial"]},
                    {"model", l["device"]["model"]},
                    {"asset_tag", l["device"]["asset_tag"]},
                    {"drives", drives},
                    {"result", l["result"]},
                    {"validated", !l["validator"].is_null()}});
    passed += l["result"] == "passed" ? 1 : 0;
  }
  return {{"format", kFormat},
          {"kind", "batch"},
          {"certificate_id", new_certificate_id()},
          {"issued_at", issued_at},
          {"workshop", workshop},
          {"operator", ""},
          {"donor_batch", donor_batch},
          {"device", nullptr},
          {"laptops", list},
          {"laptop_count", laptops.size()},
          {"passed_count", passed},
          {"result", !laptops.empty() && passed == laptops.size() ? "passed" : "failed"},
          {"reason", laptops.empty()            ? "no laptop of this batch has a certificate"
                     : passed == laptops.size() ? ""
                                                : "not every laptop passed"},
          {"reverification", {{"selected", false}, {"done", false}}},
          {"validator", nullptr}};
}

std::string batch_csv(const Json& summary) {
  auto field = [](const Json& v) {
    return csv_field(v.is_string() ? v.get<std::string>() : v.dump(), CsvQuoting::when_needed);
  };
  std::string out =
      "certificate_id,serial,model,asset_tag,drives,methods,nist_levels,result,validated\n";
  for (const auto& l : summary.value("laptops", Json::array())) {
    std::string methods, levels;
    for (const auto& d : l["drives"]) {
      if (!methods.empty()) methods += ' ';
      if (!levels.empty()) levels += ' ';
      methods += d["method"].get<std::string>();
      levels += d["nist_level"].get<std::string>();
    }
    out += field(l["certificate_id"]) + "," + field(l["serial"]) + "," + field(l["model"]) + "," +
           field(l["asset_tag"]) + "," + std::to_string(l["drives"].size()) + "," + field(methods) +
           "," + field(levels) + "," + field(l["result"]) + "," +
           (l["validated"].get<bool>() ? "yes" : "no") + "\n";
  }
  return out;
}

std::string sign(const Json& body, const KeyPair& key) {
  return sign_canonical("certificate", body.dump(), key);
}

Result<Verified> verify_json(std::string_view text_in, const PublicKey& trusted) {
  auto d = parse_signed_document(text_in, "certificate", kMaxCertificateBytes);
  if (!d) return d.error();
  REVIVE_TRY(check_document(*d, trusted, "certificate"));
  Verified v;
  v.body = Json::parse(d->canonical, nullptr, false);
  if (!v.body.is_object() || v.body.value("format", std::string()) != kFormat) {
    return make_error(Errc::invalid_input, "signed, but not a Revive erasure certificate");
  }
  v.key_id = key_id(trusted);
  return v;
}

}  // namespace revive::cert
