#include "domain/handover_list.hpp"

#include <ctime>

#include "domain/json_fields.hpp"
#include "revive/csv.hpp"

namespace revive::server {

namespace {

std::tm utc(Seconds at) {
  const std::time_t t = at;
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

std::string rfc3339(Seconds at) {
  const std::tm tm = utc(at);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The date a person reads on the list; UTC, said so (the server's zone is not the reader's).
std::string readable(Seconds at) {
  const std::tm tm = utc(at);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string kind_in_words(const std::string& kind, const HandoverWords& w) {
  if (kind == "library") return w.kind_library;
  if (kind == "welfare") return w.kind_welfare;
  if (kind == "school") return w.kind_school;
  return w.kind_other;
}

// "HP Stream 11", not "HP HP Stream 11": many models name their vendor already.
std::string model_of(const Json& laptop) {
  std::string model = text_field(laptop, "model");
  std::string vendor = text_field(laptop, "vendor");
  if (model.empty()) return vendor;
  if (vendor.empty() || ascii_lower(model).starts_with(ascii_lower(vendor))) return model;
  return vendor + " " + model;
}

std::string grade_of(const Json& laptop) {
  const std::string g = text_field(laptop, "grade");
  return g.empty() ? "-" : g;
}

}  // namespace

std::string handover_csv(const Json& h) {
  const Json org = h.value("organisation", Json::object());
  std::string out =
      "handover,organisation,handed_over_at,operator,laptop,vendor,model,serial,grade,"
      "certificate\r\n";
  const std::string head = std::to_string(h.value("id", std::int64_t{0})) + "," +
                           csv_field(text_field(org, "name")) + "," +
                           csv_field(rfc3339(h.value("at", Seconds{0}))) + "," +
                           csv_field(text_field(h, "operator"));
  for (const auto& l : h.value("laptops", Json::array())) {
    out += head + "," + std::to_string(l.value("id", std::int64_t{0})) + "," +
           csv_field(text_field(l, "vendor")) + "," + csv_field(text_field(l, "model")) + "," +
           csv_field(text_field(l, "serial")) + "," + csv_field(text_field(l, "grade")) + "," +
           csv_field(text_field(l, "certificate")) + "\r\n";
  }
  return out;
}

cert::HandoverListFacts handover_list_facts(const Json& h, const std::string& workshop,
                                            const HandoverWords& w) {
  const Json org = h.value("organisation", Json::object());
  const Json laptops = h.value("laptops", Json::array());
  cert::HandoverListFacts f;
  f.title = w.title + " " + std::to_string(h.value("id", std::int64_t{0}));
  f.about = {{w.organisation,
              text_field(org, "name") + " (" + kind_in_words(text_field(org, "kind"), w) + ")"},
             {w.contact, text_field(org, "contact")},
             {w.date, readable(h.value("at", Seconds{0}))},
             {w.operator_, text_field(h, "operator")},
             {w.laptops, std::to_string(laptops.size())}};
  f.columns = {"#", w.model, w.serial, w.grade, w.certificate};
  for (const auto& l : laptops) {
    f.rows.push_back({std::to_string(l.value("id", std::int64_t{0})), model_of(l),
                      text_field(l, "serial"), grade_of(l), text_field(l, "certificate")});
  }
  f.signatures = {w.handed_over_by, w.received_by};
  f.footer = workshop;
  return f;
}

Result<Document> handover_document(DomainContext& ctx, Partners& partners, std::int64_t id,
                                   const std::string& format, const HandoverWords& words) {
  if (format != "csv" && format != "pdf")
    return make_error(Errc::invalid_input, "format must be pdf or csv");
  REVIVE_ASSIGN(h, partners.handover(id));
  if (format == "csv") return Document{"text/csv; charset=utf-8", handover_csv(h)};
  REVIVE_ASSIGN(workshop, ctx.storage().settings().get("workshop_name"));
  REVIVE_ASSIGN(
      pdf, cert::render_handover_list(handover_list_facts(h, workshop.value_or("Revive"), words)));
  return Document{"application/pdf", std::move(pdf)};
}

}  // namespace revive::server
