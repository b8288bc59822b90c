#pragma once
// A scripted ServerApi for runner tests: the answers to next() come from a queue the test
// fills, and everything the agent sends is recorded. Like the real server, it refuses every
// call but enrol() until the agent has enrolled, an unauthorized answer ends the session, and
// a step goes out only as a job signed with `job_key` for the request's nonce (tests that
// play a rogue server replace the signing through `serve_job`).

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "revive/agent/server_api.hpp"
#include "revive/signed_job.hpp"
#include "revive/signing.hpp"

namespace revive::test {

class FakeServerApi : public agent::ServerApi {
 public:
  // ---- the script
  /// Answers to next(), in order. Once it is empty next() fails (internal): a test that forgot
  /// to end its workflow does not pass by accident.
  std::deque<Result<agent::NextAnswer>> next_answers;
  /// Answers to result(), in order; when empty, each result is recorded.
  std::deque<Result<protocol::ResultAck>> result_answers;
  std::int64_t device_id = 17;
  std::string workshop, language, label;  ///< the enrolment answer's, for the laptop's screen
  std::optional<Error> enrol_error;       ///< when set, enrol() fails with it
  std::vector<protocol::CertificateSummary> certificate_list;
  std::map<std::string, std::string> manifests;  ///< image name -> manifest text
  /// Called at the start of every next() with its number (1, 2...): tests stop the agent here.
  std::function<void(int)> on_next;
  /// Answers each progress report (a deploy's source assignment); unset: an empty ack. Called
  /// with the fake's lock held: it must not call back into the fake.
  std::function<protocol::ProgressAck(const protocol::ProgressReport&)> on_progress;
  /// Answers each relay report; unset: not_found, as from a server without relays.
  std::function<Result<protocol::RelayAck>(const protocol::RelayReport&)> on_relay;
  /// Signs the jobs (the agent under test pins its public key).
  KeyPair job_key = KeyPair::generate();
  /// Issue time of every job (the fake server's clock) and how long jobs live.
  std::int64_t job_issued_at = 1'800'000'000;
  std::int64_t job_lifetime_s = 600;
  /// How long each answer to next took, as the agent's ServerApi would measure it.
  std::chrono::seconds answer_age{0};
  /// When set, the text served for a scripted step instead of the job signed with job_key
  /// (given the job the fake would have signed): a forged, unsigned or replayed job.
  std::function<std::string(const protocol::Job&)> serve_job;

  // ---- what the agent sent
  std::vector<protocol::EnrolRequest> enrolments;
  std::vector<std::chrono::seconds> next_waits;
  std::vector<std::string> next_nonces;
  std::vector<protocol::ProgressReport> progress_reports;  ///< read only once the agent is done
  std::vector<protocol::RelayReport> relay_reports;        ///< read with relay_report_count()
  std::vector<std::pair<std::int64_t, protocol::CheckpointReport>> checkpoints;
  std::vector<std::pair<std::int64_t, protocol::StepResultReport>> results;
  std::vector<protocol::EventsReport> event_reports;

  // ---- answers to script with (a step is signed into a job when next() hands it out)
  static agent::NextAnswer step(std::int64_t id, protocol::StepKind kind,
                                protocol::Json params = protocol::Json::object(),
                                std::int64_t attempt = 1, bool resumed = false);
  static agent::NextAnswer waiting(std::string reason);
  static agent::NextAnswer done();
  static agent::NextAnswer cancelled();
  /// A step of a kind this agent does not know (as a newer server would hand out).
  static agent::NextAnswer unknown_step(std::int64_t id, const std::string& kind,
                                        std::int64_t attempt = 1);

  std::size_t relay_report_count() const;
  /// The results posted for `step`, in order.
  std::vector<protocol::StepResultReport> results_of(std::int64_t step) const;
  /// The stages of the progress reports for `step`, in order.
  std::vector<std::string> stages_of(std::int64_t step) const;

  Result<protocol::EnrolResponse> enrol(const protocol::EnrolRequest& r) override;
  Result<agent::NextAnswer> next(std::chrono::seconds wait, const std::string& nonce) override;
  Result<protocol::ProgressAck> progress(const protocol::ProgressReport& r) override;
  Result<protocol::RelayAck> relay(const protocol::RelayReport& r) override;
  Result<void> checkpoint(std::int64_t step, const protocol::CheckpointReport& r) override;
  Result<protocol::ResultAck> result(std::int64_t step,
                                     const protocol::StepResultReport& r) override;
  Result<void> events(const protocol::EventsReport& r) override;
  Result<std::vector<protocol::CertificateSummary>> certificates() override;
  Result<std::string> manifest_text(const std::string& image) override;

 private:
  Result<void> require_session() const;
  /// The scripted step as the job this request gets.
  void sign_step(agent::NextAnswer& a, const std::string& nonce) const;

  mutable std::mutex
      mu_;  // progress and relay reports come from the deploy's and the relay's threads
  bool enrolled_ = false;
  int next_calls_ = 0;
};

}  // namespace revive::test
