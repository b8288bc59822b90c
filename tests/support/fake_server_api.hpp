#pragma once
// A scripted ServerApi for runner tests: the answers to next() come from a queue the test
// fills, and everything the agent sends is recorded. Like the real server, it refuses every
// call but enrol() until the agent has enrolled, and an unauthorized answer ends the session.

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "revive/agent/server_api.hpp"

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
  std::optional<Error> enrol_error;  ///< when set, enrol() fails with it
  std::vector<protocol::CertificateSummary> certificate_list;
  std::map<std::string, std::string> manifests;  ///< image name -> manifest text
  /// Called at the start of every next() with its number (1, 2...): tests stop the agent here.
  std::function<void(int)> on_next;

  // ---- what the agent sent
  std::vector<protocol::EnrolRequest> enrolments;
  std::vector<std::chrono::seconds> next_waits;
  std::vector<protocol::ProgressReport> progress_reports;
  std::vector<std::pair<std::int64_t, protocol::CheckpointReport>> checkpoints;
  std::vector<std::pair<std::int64_t, protocol::StepResultReport>> results;
  std::vector<protocol::EventsReport> event_reports;

  // ---- answers to script with
  static agent::NextAnswer step(std::int64_t id, protocol::StepKind kind,
                                protocol::Json params = protocol::Json::object(),
                                std::int64_t attempt = 1, bool resumed = false);
  static agent::NextAnswer waiting(std::string reason);
  static agent::NextAnswer done();
  static agent::NextAnswer cancelled();
  /// A step of a kind this agent does not know (as a newer server would hand out).
  static agent::NextAnswer unknown_step(std::int64_t id, std::string kind,
                                        std::int64_t attempt = 1);

  /// The results posted for `step`, in order.
  std::vector<protocol::StepResultReport> results_of(std::int64_t step) const;
  /// The stages of the progress reports for `step`, in order.
  std::vector<std::string> stages_of(std::int64_t step) const;

  Result<protocol::EnrolResponse> enrol(const protocol::EnrolRequest& r) override;
  Result<agent::NextAnswer> next(std::chrono::seconds wait) override;
  Result<void> progress(const protocol::ProgressReport& r) override;
  Result<void> checkpoint(std::int64_t step, const protocol::CheckpointReport& r) override;
  Result<protocol::ResultAck> result(std::int64_t step,
                                     const protocol::StepResultReport& r) override;
  Result<void> events(const protocol::EventsReport& r) override;
  Result<std::vector<protocol::CertificateSummary>> certificates() override;
  Result<std::string> manifest_text(const std::string& image) override;

 private:
  Result<void> require_session() const;

  bool enrolled_ = false;
  int next_calls_ = 0;
};

}  // namespace revive::test
