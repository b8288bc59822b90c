#include "partner_commands.hpp"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace revive::ctl {

namespace {

using nlohmann::json;

std::string date_of(std::int64_t at) {
  const std::time_t t = at;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

// One call whose JSON answer `show` prints; the exit code.
int call(const RemoteArgs& ra, const std::string& method, const std::string& path, const json& body,
         const std::function<void(const json&)>& show) {
  std::string answer, server;
  if (int rc = remote_request(ra, method, path, body.is_null() ? "" : body.dump(), answer, server))
    return rc;
  show(json::parse(answer, nullptr, false));
  return 0;
}

void print_organisations(const json& list) {
  fmt::print("{:<5}  {:<30}  {:<8}  {}\n", "ID", "NAME", "KIND", "CONTACT");
  for (const auto& o : list.is_array() ? list : json::array())
    fmt::print("{:<5}  {:<30}  {:<8}  {}\n", o.value("id", 0), o.value("name", ""),
               o.value("kind", ""), o.value("contact", ""));
}

void print_handover(const json& h) {
  const json org = h.value("organisation", json::object());
  fmt::print("hand-over {} to {} ({}) by {} on {} UTC\n", h.value("id", 0), org.value("name", ""),
             org.value("kind", ""), h.value("operator", ""), date_of(h.value("at", 0)));
  for (const auto& l : h.value("laptops", json::array())) {
    const json grade = l.value("grade", json());
    fmt::print("  {:<5}  {:<28}  {:<16}  {}\n", l.value("id", 0),
               l.value("vendor", "") + " " + l.value("model", ""), l.value("serial", ""),
               grade.is_string() ? grade.get<std::string>() : "-");
  }
}

struct PartnerArgs {
  std::string name, contact, kind = "other", reference, lang;
  std::optional<std::string> new_name, new_contact, new_kind;
  std::int64_t organisation = 0;
  std::vector<std::int64_t> laptops;
};

void add_partner(CLI::App& app, RemoteArgs& ra, int& rc,
                 const std::function<void(CLI::App*)>& server_opt,
                 const std::shared_ptr<PartnerArgs>& p) {
  auto* partner = app.add_subcommand(
      "partner", "Partner organisations refurbished laptops go to (libraries, schools, ...)");
  partner->require_subcommand(1);
  const auto kinds = CLI::IsMember({"library", "welfare", "school", "other"});
  auto* add = partner->add_subcommand("add", "Add an organisation");
  server_opt(add);
  add->add_option("NAME", p->name, "The organisation's name")->required();
  add->add_option("--contact", p->contact, "Who to ask there (free text)");
  add->add_option("--kind", p->kind, "library, welfare, school or other")->check(kinds);
  add->callback([&ra, &rc, p] {
    rc = call(ra, "POST", "/api/v1/organisations",
              json{{"name", p->name}, {"contact", p->contact}, {"kind", p->kind}},
              [](const json& o) {
                fmt::print("added organisation {} ({})\n", o.value("id", 0), o.value("name", ""));
              });
  });
  auto* list = partner->add_subcommand("list", "Every organisation");
  server_opt(list);
  list->callback(
      [&ra, &rc] { rc = call(ra, "GET", "/api/v1/organisations", json(), print_organisations); });
  auto* edit = partner->add_subcommand("edit", "Change an organisation's name, contact or kind");
  server_opt(edit);
  edit->add_option("ID", p->organisation, "The organisation's id (partner list)")->required();
  edit->add_option("--name", p->new_name, "Its new name");
  edit->add_option("--contact", p->new_contact, "Its new contact");
  edit->add_option("--kind", p->new_kind, "library, welfare, school or other")->check(kinds);
  edit->callback([&ra, &rc, p] {
    json body = json::object();
    if (p->new_name) body["name"] = *p->new_name;
    if (p->new_contact) body["contact"] = *p->new_contact;
    if (p->new_kind) body["kind"] = *p->new_kind;
    rc = call(ra, "POST", "/api/v1/organisations/" + std::to_string(p->organisation), body,
              [](const json& o) { print_organisations(json::array({o})); });
  });
}

void add_handover(CLI::App& app, RemoteArgs& ra, int& rc,
                  const std::function<void(CLI::App*)>& server_opt,
                  const std::shared_ptr<PartnerArgs>& p) {
  auto* handover = app.add_subcommand(
      "handover", "Hand finished laptops over to a partner organisation, and the list it signs");
  handover->require_subcommand(1);
  auto* create = handover->add_subcommand("create", "Hand laptops (device ids) over");
  server_opt(create);
  create->add_option("--partner", p->organisation, "The organisation's id (partner list)")
      ->required();
  create->add_option("DEVICE", p->laptops, "Device ids of finished, graded laptops")->required();
  create->callback([&ra, &rc, p] {
    rc = call(ra, "POST", "/api/v1/handovers",
              json{{"organisation", p->organisation}, {"laptops", p->laptops}}, print_handover);
  });
  auto* list = handover->add_subcommand("list", "Every hand-over, newest first");
  server_opt(list);
  list->callback([&ra, &rc] {
    rc = call(ra, "GET", "/api/v1/handovers", json(), [](const json& all) {
      fmt::print("{:<5}  {:<16}  {:<30}  {:<12}  {}\n", "ID", "WHEN (UTC)", "ORGANISATION",
                 "OPERATOR", "LAPTOPS");
      for (const auto& h : all.is_array() ? all : json::array())
        fmt::print("{:<5}  {:<16}  {:<30}  {:<12}  {}\n", h.value("id", 0),
                   date_of(h.value("at", 0)),
                   h.value("organisation", json::object()).value("name", ""),
                   h.value("operator", ""), h.value("laptops", 0));
    });
  });
  auto* get = handover->add_subcommand("get", "One hand-over: its laptops, or its list (PDF/CSV)");
  server_opt(get);
  get->add_option("ID", ra.id, "The hand-over's id")->required();
  get->add_option("--format", ra.format, "json (default: the laptops as a table), pdf or csv")
      ->check(CLI::IsMember({"json", "pdf", "csv"}));
  get->add_option("--lang", p->lang, "en, nl or fr (PDF; default: the workshop's)")
      ->check(CLI::IsMember({"en", "nl", "fr"}));
  get->add_option("-o,--output", ra.file, "Output file for pdf/csv (default: stdout)");
  get->callback([&ra, &rc, p] {
    if (ra.format == "pdf" || ra.format == "csv") {
      rc = remote_get_file(ra, "/api/v1/handovers/" + ra.id + "/list?format=" + ra.format +
                                   (p->lang.empty() ? "" : "&lang=" + p->lang));
      return;
    }
    rc = call(ra, "GET", "/api/v1/handovers/" + ra.id, json(), print_handover);
  });
}

void add_loan(CLI::App& app, RemoteArgs& ra, int& rc,
              const std::function<void(CLI::App*)>& server_opt,
              const std::shared_ptr<PartnerArgs>& p) {
  auto* loan = app.add_subcommand(
      "loan", "A handed-over laptop lent by its organisation to a person, and its return");
  loan->require_subcommand(1);
  auto show = [](const json& w) {
    const json loans = w.value("loans", json::array());
    const json last = loans.empty() ? json::object() : loans.back();
    fmt::print("{}\n", last.value("returned_at", json()).is_null() ? "lent" : "returned");
  };
  auto* lend = loan->add_subcommand("lend", "Mark a laptop lent (no personal data needed)");
  server_opt(lend);
  lend->add_option("DEVICE", ra.id, "Device id")->required();
  lend->add_option("--reference", p->reference,
                   "What the organisation chooses to note (erased after the retention)");
  lend->callback([&ra, &rc, p, show] {
    rc = call(ra, "POST", "/api/v1/devices/" + ra.id + "/loan", json{{"reference", p->reference}},
              show);
  });
  auto* back = loan->add_subcommand("return", "Mark a lent laptop returned");
  server_opt(back);
  back->add_option("DEVICE", ra.id, "Device id")->required();
  back->callback([&ra, &rc, show] {
    rc = call(ra, "POST", "/api/v1/devices/" + ra.id + "/loan/return", json::object(), show);
  });
}

}  // namespace

void add_partner_commands(CLI::App& app, RemoteArgs& ra, int& rc,
                          const std::function<void(CLI::App*)>& server_opt) {
  auto p = std::make_shared<PartnerArgs>();
  add_partner(app, ra, rc, server_opt, p);
  add_handover(app, ra, rc, server_opt, p);
  add_loan(app, ra, rc, server_opt, p);
}

}  // namespace revive::ctl
