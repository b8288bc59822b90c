#include "domain/catalog.hpp"

#include <cstdlib>
#include <string_view>

#include "domain/loans.hpp"

#include "domain/recipient_profile.hpp"
#include "revive/grading.hpp"

namespace revive::server {

namespace {

constexpr std::size_t kMaxSettingBytes = 64UL * 1024;

Error invalid(const std::string& why) { return make_error(Errc::invalid_input, why); }

Result<WorkflowStep> workflow_step(const Json& s) {
  std::optional<StepKind> kind;
  if (s.is_object() && s.contains("kind") && s["kind"].is_string())
    kind = protocol::step_kind_from(s["kind"].get<std::string>());
  if (!kind) {
    return invalid("each step needs a \"kind\", one of " + protocol::step_kind_list());
  }
  Json params = s.contains("params") ? s["params"] : Json::object();
  if (!params.is_object()) return invalid("step \"params\" must be an object");
  // A test step's own policy beats the workshop's: checked like it, or every laptop the
  // workflow runs on would fail its test step on it.
  if (*kind == StepKind::test && params.contains("grading_policy")) {
    if (!params["grading_policy"].is_string())
      return invalid("a test step's grading_policy must be the policy's text");
    if (auto p = parse_policy(params["grading_policy"].get<std::string>()); !p)
      return invalid("a test step's grading_policy: " + p.error().message);
  }
  return WorkflowStep{*kind, params};
}

Result<void> check_share(const std::string& v) {
  char* end = nullptr;
  const double share = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || share < 0 || share > 1)
    return invalid("reverify_share must be a number from 0 to 1");
  return {};
}

}  // namespace

Result<void> Catalog::ensure_defaults() {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(all, s.workflows().list());
  if (all.empty()) {
    Json steps = Json::array();
    for (auto k : protocol::kDefaultWorkflowKinds)
      steps.push_back({{"kind", std::string(protocol::to_string(k))}});
    REVIVE_TRY(put_workflow("default", steps));
  }
  REVIVE_ASSIGN(dw, s.settings().get("default_workflow"));
  if (!dw) REVIVE_TRY(s.settings().set("default_workflow", "default"));
  return {};
}

Result<void> Catalog::put_workflow(const std::string& name, const Json& steps) {
  if (name.empty() || name.size() > 64) return invalid("workflow name must be 1-64 characters");
  if (!steps.is_array() || steps.empty() || steps.size() > 32)
    return invalid("a workflow needs 1 to 32 steps");
  std::vector<WorkflowStep> clean;
  for (const auto& s : steps) {
    REVIVE_ASSIGN(step, workflow_step(s));
    clean.push_back(std::move(step));
  }
  return ctx_.storage().workflows().put(name, clean, ctx_.now());
}

Result<std::vector<WorkflowSummary>> Catalog::workflows() {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(all, s.workflows().list());
  REVIVE_ASSIGN(dw, s.settings().get("default_workflow"));
  std::vector<WorkflowSummary> out;
  for (auto& w : all) {
    const bool is_default = dw && *dw == w.name;
    out.push_back({std::move(w), is_default});
  }
  return out;
}

Result<std::optional<std::int64_t>> Catalog::workflow_id(const std::optional<std::string>& name) {
  if (!name) return std::optional<std::int64_t>();
  REVIVE_ASSIGN(w, ctx_.storage().workflows().find(*name));
  if (!w) return make_error(Errc::not_found, "workflow \"" + *name + "\" does not exist");
  return std::optional<std::int64_t>(w->id);
}

Result<std::optional<std::int64_t>> Catalog::batch_id(const std::optional<std::string>& name) {
  if (!name) return std::optional<std::int64_t>();
  REVIVE_ASSIGN(b, ctx_.storage().batches().find(*name));
  if (!b) return make_error(Errc::not_found, "batch \"" + *name + "\" does not exist");
  return std::optional<std::int64_t>(b->id);
}

namespace {

// The laptops' own screens speak the wall screen's languages.
Result<void> check_screen_language(const std::string& v) {
  for (auto known : protocol::kScreenLanguages) {
    if (v == known) return {};
  }
  return invalid("screen_language must be one of en, nl, fr");
}

// An absolute http(s) URL of a host (and a path), nothing a link could be turned with: no
// query, fragment, credentials, spaces or quotes. Stored without a trailing slash. Empty clears.
Result<std::string> check_public_url(std::string v) {
  while (!v.empty() && v.back() == '/') v.pop_back();
  if (v.empty()) return v;
  const bool https = v.starts_with("https://");
  if (!https && !v.starts_with("http://"))
    return invalid("public_url must start with https:// (or http://)");
  const std::string_view rest = std::string_view(v).substr(https ? 8 : 7);
  if (rest.empty() || rest.front() == '/') return invalid("public_url names no host");
  for (const char c : rest) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '?' || c == '#' || c == '@' || c == '"' || c == '\\' ||
        c == '<' || c == '>')
      return invalid("public_url may hold a host, a port and a path only");
  }
  if (v.size() > 200) return invalid("public_url is longer than 200 characters");
  return v;
}

// Shown on certificates, labels, the wall and each laptop's own screen: one line of text
// (empty: no name; the enrolment answer cuts a long one at the protocol's limit).
Result<void> check_workshop_name(const std::string& v) {
  for (const char c : v) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return invalid("workshop_name must be one line without control characters");
  }
  return {};
}

}  // namespace

Result<Json> Catalog::settings() {
  Storage& s = ctx_.storage();
  Json out = Json::object();
  for (const char* key : {"workshop_name", "default_workflow", "screen_language"}) {
    REVIVE_ASSIGN(v, s.settings().get(key));
    out[key] = v ? Json(*v) : Json();
  }
  REVIVE_ASSIGN(policy, s.settings().get("grading_policy"));
  const bool is_default = !policy || policy->empty();
  out["grading_policy"] = is_default ? default_policy_toml() : *policy;
  out["grading_policy_is_default"] = is_default;
  REVIVE_ASSIGN(all, s.workflows().list());
  Json names = Json::array();
  for (const auto& w : all) names.push_back(w.name);
  out["workflows"] = std::move(names);
  return out;
}

Result<void> Catalog::update_settings(const SettingsUpdate& u) {
  // Names are checked so a typo cannot leave new laptops without a workflow.
  REVIVE_TRY(workflow_id(u.default_workflow));
  if (u.reverify_share) REVIVE_TRY(check_share(*u.reverify_share));
  if (u.screen_language) REVIVE_TRY(check_screen_language(*u.screen_language));
  std::optional<std::string> public_url;
  if (u.public_url) {
    REVIVE_ASSIGN(url, check_public_url(*u.public_url));
    public_url = std::move(url);
  }
  if (u.loan_reference_keep_days)
    REVIVE_TRY(parse_loan_reference_keep_days(*u.loan_reference_keep_days));
  if (u.workshop_name) REVIVE_TRY(check_workshop_name(*u.workshop_name));
  // The agents parse the policy with the same code: a policy stored here grades every laptop.
  if (u.grading_policy) {
    if (auto p = parse_policy(*u.grading_policy); !p)
      return invalid("grading_policy: " + p.error().message);
  }
  const std::pair<const char*, const std::optional<std::string>*> values[] = {
      {"default_workflow", &u.default_workflow},
      {"workshop_name", &u.workshop_name},
      {"grading_policy", &u.grading_policy},
      {"certificate_operator", &u.certificate_operator},
      {"reverify_share", &u.reverify_share},
      {"screen_language", &u.screen_language},
      {"public_url", &public_url},
      {"loan_reference_keep_days", &u.loan_reference_keep_days}};
  for (const auto& [key, value] : values) {
    if (*value && (*value)->size() > kMaxSettingBytes)
      return invalid(std::string(key) + " is larger than 64 KiB");
  }
  REVIVE_ASSIGN(uow, ctx_.storage().begin());
  for (const auto& [key, value] : values) {
    if (*value) REVIVE_TRY(ctx_.storage().settings().set(key, **value));
  }
  return uow->commit();
}

Result<void> Catalog::set_setting(const std::string& key, const std::string& value) {
  return ctx_.storage().settings().set(key, value);
}

Result<std::int64_t> Catalog::create_batch(const std::string& name, const std::string& donor,
                                           const std::optional<std::string>& workflow,
                                           const std::optional<std::string>& image) {
  if (name.empty() || name.size() > 64) return invalid("batch name must be 1-64 characters");
  REVIVE_ASSIGN(wf, workflow_id(workflow));
  return ctx_.storage().batches().create(
      BatchRow{0, name, donor, wf, image, std::nullopt, std::nullopt}, ctx_.now());
}

Result<void> Catalog::update_batch(const std::string& name, const BatchUpdate& update) {
  REVIVE_ASSIGN(found, ctx_.storage().batches().find(name));
  if (!found) return make_error(Errc::not_found, "batch \"" + name + "\" does not exist");
  BatchRow row = *found;
  if (update.image) {
    const auto& image = *update.image;
    if (image && image_exists_) {
      REVIVE_ASSIGN(exists, image_exists_(*image));
      if (!exists) return make_error(Errc::not_found, "image \"" + *image + "\" does not exist");
    }
    row.image = image;
  }
  if (update.profile) {
    REVIVE_ASSIGN(clean, check_recipient_profile(*update.profile));
    row.profile = clean.empty() ? std::nullopt : std::optional<Json>(clean);
  }
  if (update.profile_name) {
    row.profile_id.reset();
    if (const auto& named = *update.profile_name) {
      REVIVE_ASSIGN(p, ctx_.storage().recipient_profiles().find(*named));
      if (!p)
        return make_error(Errc::not_found, "recipient profile \"" + *named + "\" does not exist");
      row.profile_id = p->id;
    }
  }
  return ctx_.storage().batches().update(row);
}

Result<std::vector<BatchSummary>> Catalog::batches() {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(all, s.batches().list());
  std::vector<BatchSummary> out;
  for (auto& b : all) {
    BatchSummary summary{b, std::nullopt, 0, std::nullopt};
    if (b.workflow_id) {
      REVIVE_ASSIGN(w, s.workflows().find(*b.workflow_id));
      if (w) summary.workflow = w->name;
    }
    REVIVE_ASSIGN(n, s.batches().device_count(b.id));
    summary.devices = n;
    if (b.profile_id) {
      REVIVE_ASSIGN(p, s.recipient_profiles().find(*b.profile_id));
      if (p) summary.profile_name = p->name;
    }
    out.push_back(std::move(summary));
  }
  return out;
}

Result<void> Catalog::assign_device(std::int64_t device_id, const std::optional<std::string>& batch,
                                    const std::optional<std::string>& workflow) {
  REVIVE_ASSIGN(b, batch_id(batch));
  REVIVE_ASSIGN(w, workflow_id(workflow));
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(uow, s.begin());
  if (b) REVIVE_TRY(s.devices().set_batch(device_id, *b));
  if (w) REVIVE_TRY(s.devices().set_workflow(device_id, *w));
  REVIVE_TRY(uow->commit());
  ctx_.device_changed(device_id);
  return {};
}

}  // namespace revive::server
