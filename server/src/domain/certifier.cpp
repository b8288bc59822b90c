#include "domain/certifier.hpp"

#include "domain/wipe_accounting.hpp"

namespace revive::server {

namespace {
constexpr std::size_t kMaxDrives = 64;
}  // namespace

Result<std::vector<std::optional<Json>>> Certifier::drive_bodies(const cert::IssueContext& ctx,
                                                                 const CertificateFacts& facts,
                                                                 const Json& evidence) const {
  if (!evidence.is_array() || evidence.size() > kMaxDrives)
    return make_error(Errc::invalid_input,
                      "wipe evidence: \"drives\" must be an array of at most 64 drives");
  const EvidenceMatch match = match_evidence(facts.job_drives, evidence, accept_simulated_);
  if (!match.refused.empty()) return make_error(Errc::invalid_input, match.refused);
  std::vector<std::optional<Json>> out;
  for (const auto& index : match.by_job_drive) {
    if (!index) {
      out.emplace_back();
      continue;
    }
    auto c = cert::drive_certificate(ctx, evidence[*index]);
    if (!c) return c.error();
    out.emplace_back(std::move(*c));
  }
  return out;
}

WipeAssessment Certifier::assess(const CertificateFacts& facts, const CertifierSettings& settings,
                                 const Json& result, StepStatus status,
                                 const std::string& error) const {
  cert::IssueContext ctx;
  ctx.device = facts.device;
  ctx.donor_batch = facts.donor_batch;
  ctx.issued_at = now_();
  ctx.workshop = settings.workshop;
  ctx.operator_name = facts.operator_name.empty() ? settings.operator_name : facts.operator_name;
  ctx.reverify_selected = draw_(settings.reverify_share);
  WipeAssessment out{{}, Json(), status, error};
  const Json evidence = result.is_object() ? result.value("drives", Json::array()) : Json::array();
  auto bodies = drive_bodies(ctx, facts, evidence);
  std::string problem;
  std::vector<std::optional<Json>> by_job;
  if (bodies) {
    by_job = std::move(*bodies);
    for (const auto& b : by_job) {
      if (b) out.drives.push_back(*b);
    }
  } else {
    problem = bodies.error().message;
  }
  const StorageAccount account = account_storage(facts.inventory, facts.job_drives, by_job);
  out.laptop = cert::laptop_certificate(
      ctx, out.drives, cert::StorageListing{account.entries, account.unaccounted, account.note});
  if (facts.previous_laptop_certificate)
    out.laptop["previous_certificate"] = *facts.previous_laptop_certificate;
  if (!problem.empty()) {
    out.laptop["result"] = "failed";
    out.laptop["reason"] = "the wipe evidence was refused: " + problem;
  }
  if (out.status == StepStatus::ok && out.laptop["result"] != "passed") {
    out.status = StepStatus::failed;
    out.error = problem.empty() ? "the erasure certificate did not pass: " +
                                      out.laptop["reason"].get<std::string>()
                                : "the wipe evidence was refused: " + problem;
  }
  return out;
}

NewCertificate Certifier::sign_one(const Json& body) const {
  return {body["certificate_id"].get<std::string>(), body["kind"].get<std::string>(),
          body["result"].get<std::string>(), sign_(body)};
}

std::vector<NewCertificate> Certifier::sign(const WipeAssessment& a) const {
  std::vector<NewCertificate> out;
  for (const auto& d : a.drives) out.push_back(sign_one(d));
  out.push_back(sign_one(a.laptop));
  return out;
}

}  // namespace revive::server
