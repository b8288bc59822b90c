#include "domain/certifier.hpp"

#include "certificate.hpp"

namespace revive::server {

namespace {
constexpr std::size_t kMaxDrives = 64;
}  // namespace

WipeAssessment Certifier::assess(const CertificateFacts& facts, const CertifierSettings& settings,
                                 const Json& result, StepStatus status,
                                 const std::string& error) const {
  cert::IssueContext ctx;
  ctx.device = facts.device;
  ctx.donor_batch = facts.donor_batch;
  ctx.issued_at = now_();
  ctx.workshop = settings.workshop;
  ctx.operator_name = settings.operator_name;
  ctx.reverify_selected = draw_(settings.reverify_share);
  WipeAssessment out{{}, Json(), status, error};
  const Json evidence = result.is_object() ? result.value("drives", Json::array()) : Json::array();
  std::string problem;
  if (!evidence.is_array() || evidence.size() > kMaxDrives)
    problem = "wipe evidence: \"drives\" must be an array of at most 64 drives";
  for (const auto& e : evidence.is_array() ? evidence : Json::array()) {
    if (!problem.empty()) break;
    auto c = cert::drive_certificate(ctx, e);
    if (!c) {
      problem = c.error().message;
      break;
    }
    out.drives.push_back(std::move(*c));
  }
  if (!problem.empty()) out.drives.clear();
  out.laptop = cert::laptop_certificate(ctx, out.drives);
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
