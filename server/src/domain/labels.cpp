#include "domain/labels.hpp"

#include <sodium.h>

#include <algorithm>
#include <cmath>

#include "domain/json_fields.hpp"
#include "domain/wall.hpp"

namespace revive::server {

namespace {

// "Intel Core i5-8350U" from "Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz": what a shop label
// says; "AMD Ryzen 5 PRO 2500U" from "... w/ Radeon Vega Mobile Gfx".
std::string short_cpu(std::string name) {
  for (const char* cut : {" @ ", " w/ ", " with "}) {
    if (const auto at = name.find(cut); at != std::string::npos) name.resize(at);
  }
  for (const char* noise : {"(R)", "(r)", "(TM)", "(tm)", " CPU", " Processor"}) {
    for (auto at = name.find(noise); at != std::string::npos; at = name.find(noise))
      name.erase(at, std::string_view(noise).size());
  }
  std::string out;
  for (const char c : name) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// "8 GB RAM": installed memory as sold (SMBIOS), else what the kernel sees, in whole GB.
std::string memory_line(const Json& inventory, const LabelWords& w) {
  const Json mem = inventory.value("memory", Json());
  double mib = number_field(mem, "installed_mib").value_or(0);
  if (mib <= 0) mib = number_field(mem, "total_mib").value_or(0);
  if (mib <= 0) return "";
  return std::to_string(static_cast<long>(std::lround(mib / 1024))) + " GB " + w.ram;
}

// "256 GB SSD" for each internal disk (not USB, not removable), the way shops print it.
std::vector<std::string> disk_lines(const Json& inventory) {
  std::vector<std::string> out;
  for (const Json& d : inventory.value("disks", Json::array())) {
    if (!d.is_object() || d.value("removable", false) || text_field(d, "transport") == "USB")
      continue;
    const double bytes = number_field(d, "size_bytes").value_or(0);
    if (bytes <= 0) continue;
    const std::string kind = text_field(d, "transport") == "nvme" ? "NVMe SSD"
                             : d.value("rotational", false)       ? "HDD"
                                                                  : "SSD";
    out.push_back(std::to_string(static_cast<long>(std::lround(bytes / 1e9))) + " GB " + kind);
  }
  return out;
}

// "Battery 87%": the worst battery's health against its design capacity; "No battery" only
// when the agent looked and found none.
std::string battery_line(const Json& inventory, const LabelWords& w) {
  const Json batteries = inventory.value("batteries", Json());
  std::optional<double> worst;
  for (const Json& b : batteries) {
    if (const auto h = number_field(b, "health_pct")) worst = worst ? std::min(*worst, *h) : *h;
  }
  if (worst) return w.battery + " " + std::to_string(static_cast<long>(std::lround(*worst))) + "%";
  return batteries.is_array() && batteries.empty() ? w.no_battery : "";
}

}  // namespace

cert::LabelFacts label_facts(const DeviceRow& device, const Json& inventory, const Json& grading,
                             const std::string& link, const std::string& workshop,
                             const LabelWords& words) {
  cert::LabelFacts l;
  l.title = device.vendor.empty() ? device.model : device.vendor + " " + device.model;
  const std::string tag = asset_tag_of(inventory);
  l.identity = !tag.empty()             ? words.asset + " " + tag
               : !device.serial.empty() ? words.serial + " " + device.serial
                                        : "#" + std::to_string(device.id);
  if (std::string cpu = short_cpu(text_field(inventory.value("cpu", Json()), "model"));
      !cpu.empty())
    l.specs.push_back(std::move(cpu));
  if (std::string mem = memory_line(inventory, words); !mem.empty())
    l.specs.push_back(std::move(mem));
  for (std::string& d : disk_lines(inventory)) l.specs.push_back(std::move(d));
  if (std::string bat = battery_line(inventory, words); !bat.empty()) {
    // The battery matters more to a recipient than a second disk: it stays within the four.
    if (l.specs.size() >= 4) l.specs.resize(3);
    l.specs.push_back(std::move(bat));
  }
  l.grade = text_field(grading, "grade");
  l.grade_word = words.grade;
  const Json w11 = grading.is_object() ? grading.value("windows11", Json()) : Json();
  if (w11.is_object() && w11.contains("ready") && w11["ready"].is_boolean())
    l.windows11 = w11["ready"].get<bool>() ? words.windows11_ready : words.windows11_not;
  l.link = link;
  l.link_caption = link.empty() ? "" : words.certificate;
  l.footer = workshop;
  return l;
}

std::string certificate_link_key(const std::string& signed_document) {
  const Json doc = Json::parse(signed_document, nullptr, false);
  if (!doc.is_object()) return "";
  std::string sig = text_field(doc.value("signature", Json()), "sig");
  if (sig.size() < 22) return "";
  sig.resize(22);
  for (char& c : sig) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return sig;
}

namespace {

// Where a label's QR code points for this certificate; "" when it has no signature to key it.
std::string certificate_link(const std::string& link_base, const CertificateRow& c) {
  const std::string key = certificate_link_key(c.body);
  return key.empty() ? "" : link_base + "/c/" + c.cert_id + "/" + key;
}

}  // namespace

Result<cert::LabelFacts> Labels::facts(std::int64_t device, const std::string& link,
                                       const std::string& workshop, const LabelWords& words) {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(row, s.devices().find(device));
  if (!row) return make_error(Errc::not_found, "no device " + std::to_string(device));
  REVIVE_ASSIGN(inventory, s.devices().inventory(device));
  REVIVE_ASSIGN(test, s.runs().latest_result(device, StepKind::test, StepStatus::ok));
  const Json grading =
      test && test->result.is_object() ? test->result.value("grading", Json()) : Json();
  return label_facts(*row, inventory.value_or(Json::object()), grading, link, workshop, words);
}

Result<std::string> Labels::device_label(std::int64_t device, cert::LabelStock stock,
                                         const std::string& link_base, const LabelWords& words) {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(workshop, s.settings().get("workshop_name"));
  REVIVE_ASSIGN(certs, s.certificates().for_device(device));  // newest first
  const auto newest = std::find_if(certs.begin(), certs.end(),
                                   [](const CertificateRow& c) { return c.kind == "laptop"; });
  const std::string link = newest == certs.end() ? "" : certificate_link(link_base, *newest);
  REVIVE_ASSIGN(l, facts(device, link, workshop.value_or(""), words));
  return cert::render_labels({l}, stock);
}

Result<std::string> Labels::batch_labels(const std::string& batch, cert::LabelStock stock,
                                         const std::string& link_base, const LabelWords& words) {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(b, s.batches().find(batch));
  if (!b) return make_error(Errc::not_found, "no batch named " + batch);
  REVIVE_ASSIGN(certs, s.certificates().newest_per_device_in_batch(b->id, "laptop"));
  if (certs.empty())
    return make_error(Errc::not_found, "batch " + batch + " has no certified laptop yet");
  REVIVE_ASSIGN(workshop, s.settings().get("workshop_name"));
  std::vector<cert::LabelFacts> labels;
  labels.reserve(certs.size());
  for (const CertificateRow& c : certs) {
    REVIVE_ASSIGN(l,
                  facts(c.device_id, certificate_link(link_base, c), workshop.value_or(""), words));
    labels.push_back(std::move(l));
  }
  return cert::render_labels(labels, stock);
}

Result<Document> Labels::linked_certificate(const std::string& cert_id, const std::string& key) {
  const Error unknown = make_error(Errc::not_found, "no such certificate");
  CertificateRepository& repo = ctx_.storage().certificates();
  REVIVE_ASSIGN(c, repo.find(cert_id));
  if (!c) return unknown;
  const std::string want = certificate_link_key(c->body);
  if (want.empty() || key.size() != want.size() ||
      sodium_memcmp(want.data(), key.data(), want.size()) != 0) {
    return unknown;
  }
  std::string newest = c->cert_id;
  for (int hops = 0; hops < 16; ++hops) {  // a re-verification supersedes at most once each
    REVIVE_ASSIGN(next, repo.superseded_by(newest));
    if (!next) break;
    newest = next->cert_id;
  }
  return certificates_.document(newest, true);
}

}  // namespace revive::server
