#pragma once
// How the laptops on file would grade under an edited grading policy (issue 16, the settings
// page), before it is stored: each laptop's latest test figures and its inventory graded again
// by revive/grading.hpp, the code the agents grade with, so the preview cannot drift from the
// rules that will apply. The figures are read on the io thread (it owns the storage); the
// grading, which grows with the laptops on file, runs on the blocking pool (start/take).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/context.hpp"
#include "revive/grading.hpp"

namespace revive::server {

/// What a preview grades again, read from storage: each tested laptop's figures and the
/// grading the agent gave, and how many graded laptops have no inventory on file.
struct PreviewInput {
  struct Laptop {
    std::int64_t id = 0;
    Json inventory;
    Json tests;
    Json grading;  ///< {grade, reasons, ...} as the agent reported it
  };
  std::vector<Laptop> laptops;
  std::int64_t not_regraded = 0;
};

/// The preview's answer for `input` under `policy` (see GradingPreview::preview), without the
/// changed laptops' model and serial (the storage has them). Pure: runs on the blocking pool.
Json regrade(const PreviewInput& input, const GradingPolicy& policy);

class GradingPreview {
 public:
  GradingPreview(DomainContext& ctx, RunBlocking run_blocking)
      : ctx_(ctx), jobs_(std::make_shared<Jobs>()), run_blocking_(std::move(run_blocking)) {}

  /// {laptops (how many were graded again), before and after (counts per grade: A, B, C,
  /// reject), changed: [{id, model, serial, before, after, reasons (under the edited policy),
  /// reasons_before, and both as reason_codes}], not_regraded (laptops with a grade but no
  /// inventory on file, or figures grading cannot read)}. A laptop counts under its stored
  /// grade before and its new one after; laptops never tested are left out. invalid_input
  /// naming the policy's key for a policy parse_policy refuses; io on a storage failure. All on
  /// the calling thread.
  Result<Json> preview(const std::string& policy_text);

  /// The same preview with the grading on the blocking pool: checks the policy and reads the
  /// figures here, then grades them there; `done(job)` runs on the io thread once take(job)
  /// has the answer. The job's id, or the errors preview() gives before any grading.
  Result<std::uint64_t> start(const std::string& policy_text,
                              std::function<void(std::uint64_t job)> done);
  /// The outcome of a finished job (handed out once: the answer, or io when naming the changed
  /// laptops failed), nullopt while it runs; not_found for an unknown job or one given up.
  /// `give_up`: a job still running is forgotten (its answer, when it comes, is dropped).
  Result<std::optional<Result<Json>>> take(std::uint64_t job, bool give_up = false);

 private:
  struct Jobs {
    std::uint64_t next = 1;
    std::map<std::uint64_t, std::optional<Result<Json>>> finished;  ///< nullopt: still running
  };
  Result<PreviewInput> read_input();
  /// Adds each changed laptop's model and serial from the storage.
  Result<void> name_changed(Json& answer);

  DomainContext& ctx_;
  std::shared_ptr<Jobs> jobs_;
  RunBlocking run_blocking_;
};

}  // namespace revive::server
