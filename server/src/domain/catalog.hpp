#pragma once
// What operators set up: workflows, donor batches, device assignment and the workshop's
// settings, with the rules that keep them consistent (a setting that names a workflow or a
// batch must name one that exists).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/context.hpp"

namespace revive::server {

/// Whether the store holds an image of this name; io when it cannot be read.
using ImageExists = std::function<Result<bool>(const std::string& name)>;

/// A change to a batch's image and recipient profile; an absent member stays as it is.
struct BatchUpdate {
  std::optional<std::optional<std::string>> image;  ///< a name, or nullopt inside: no image
  std::optional<Json> profile;                      ///< an empty object: no profile
  /// A named recipient profile (used instead of `profile`), or nullopt inside: none.
  std::optional<std::optional<std::string>> profile_name;
};

struct BatchSummary {
  BatchRow batch;
  std::optional<std::string> workflow;  ///< the workflow's name
  std::int64_t devices = 0;
  std::optional<std::string> profile_name;  ///< the named recipient profile it uses
};

struct WorkflowSummary {
  WorkflowRow workflow;
  bool is_default = false;
};

/// Settings an operator may change, each optional (absent: unchanged).
struct SettingsUpdate {
  std::optional<std::string> default_workflow, workshop_name, grading_policy, certificate_operator,
      reverify_share, screen_language;
  /// Where the world reaches this server ("https://revive.example.org"): the links a label's
  /// QR code opens. Empty: the address the operator asked for the labels at (the LAN's).
  std::optional<std::string> public_url;
  /// Days a returned loan's reference is kept (domain/loans.hpp).
  std::optional<std::string> loan_reference_keep_days;
};

class Catalog {
 public:
  /// `image_exists` (may be empty: not checked) checks a batch's image when it is set.
  explicit Catalog(DomainContext& ctx, ImageExists image_exists = {})
      : ctx_(ctx), image_exists_(std::move(image_exists)) {}

  /// A fresh database gets the "default" workflow (every step kind) and the setting naming it.
  Result<void> ensure_defaults();
  /// Creates or replaces a workflow. invalid_input for a name outside 1-64 characters, no steps
  /// or more than 32, an unknown kind, params that are not an object or a test step's
  /// grading_policy that parse_policy refuses.
  Result<void> put_workflow(const std::string& name, const Json& steps);
  /// Every workflow by name, the default one marked; io on a storage failure.
  Result<std::vector<WorkflowSummary>> workflows();
  /// Applies every setting in one unit of work, after checking all of them: not_found for a
  /// workflow or batch that does not exist, invalid_input naming the setting (and the policy's
  /// key) for a bad share, a grading policy parse_policy refuses, a workshop name with control
  /// characters, or a value over 64 KiB (nothing is changed then).
  Result<void> update_settings(const SettingsUpdate& update);
  /// What the settings page shows: workshop_name, default_workflow, screen_language,
  /// grading_policy (the stored text, else the built-in default's; grading_policy_is_default
  /// says which) and the workflows' names. io on a storage failure.
  Result<Json> settings();
  /// Sets one setting as it is (no checks: for tests and defaults); io on a storage failure.
  Result<void> set_setting(const std::string& key, const std::string& value);
  /// The new batch's id. invalid_input for a name outside 1-64 characters, not_found for an
  /// unknown workflow, conflict when the name is taken.
  Result<std::int64_t> create_batch(const std::string& name, const std::string& donor,
                                    const std::optional<std::string>& workflow,
                                    const std::optional<std::string>& image);
  /// Sets a batch's image and/or recipient profile. not_found for an unknown batch, image or
  /// named profile,
  /// invalid_input for a profile check_recipient_profile refuses (nothing is changed then).
  /// Runs that started keep the image they started with; a provision step handed out later
  /// applies the new profile.
  Result<void> update_batch(const std::string& name, const BatchUpdate& update);
  /// Every batch, oldest first; io on a storage failure.
  Result<std::vector<BatchSummary>> batches();
  /// Puts a device in a batch and/or gives it its own workflow. not_found for an unknown
  /// device, batch or workflow.
  Result<void> assign_device(std::int64_t device_id, const std::optional<std::string>& batch,
                             const std::optional<std::string>& workflow);

 private:
  Result<std::optional<std::int64_t>> workflow_id(const std::optional<std::string>& name);
  Result<std::optional<std::int64_t>> batch_id(const std::optional<std::string>& name);

  DomainContext& ctx_;
  ImageExists image_exists_;
};

}  // namespace revive::server
