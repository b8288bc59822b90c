#pragma once
// The domain layer assembled: one object per aggregate over one storage, as the daemon runs
// them. Tests build the services they need on their own (with fake repositories).

#include <memory>

#include "domain/boot_planner.hpp"
#include "domain/catalog.hpp"
#include "domain/catalog_pages.hpp"
#include "domain/certificates.hpp"
#include "domain/certifier.hpp"
#include "domain/context.hpp"
#include "domain/deployments.hpp"
#include "domain/enrolment.hpp"
#include "domain/grading_preview.hpp"
#include "domain/image_uploads.hpp"
#include "domain/images.hpp"
#include "domain/intake.hpp"
#include "domain/laptop_pages.hpp"
#include "domain/live_steps.hpp"
#include "domain/loans.hpp"
#include "domain/operators.hpp"
#include "domain/partners.hpp"
#include "domain/recipient_profiles.hpp"
#include "domain/run_control.hpp"
#include "domain/step_lifecycle.hpp"
#include "domain/views.hpp"
#include "domain/wall.hpp"
#include "revive/image_store.hpp"

namespace revive::server {

struct ServiceOptions {
  StallTimeouts stall;
  Seconds session_ttl_s = 12L * 3600;
  BootPlannerOptions boot;
  DeploymentOptions deploy;
  MonotonicClock monotonic;  ///< the scheduler's clock; empty: std::chrono::steady_clock
  // ---- trust on the workshop network (issue 15)
  /// Demo mode: simulated evidence and enrolment without a boot token are accepted, and every
  /// machine is admitted. Only for demonstrations and tests on a network of your own.
  bool demo = false;
  Seconds boot_token_ttl_s = 15L * 60;
};

class Services {
 public:
  /// `store`'s key signs manifests and jobs; `certificate_key` signs certificates (both must
  /// outlive the services). Certificates stored before the keys were split were signed by the
  /// store key and are still accepted as the server's own. `run_blocking` runs blocking work
  /// (imports of finished uploads, grading previews); `run_push` the pushes' imports, with a
  /// thread for each of Images::kMaxPushes.
  Services(Storage& storage, Clock clock, ImageStore& store, const KeyPair& certificate_key,
           RunBlocking run_blocking, RunBlocking run_push, ServiceOptions opts);

  /// A fresh database gets its defaults; running steps are tracked again with fresh
  /// deadlines; unfinished image uploads are taken up again. io on a storage failure.
  Result<void> start();

  DomainContext ctx;
  LiveSteps live;
  Certifier certifier;
  StepLifecycle lifecycle;
  RunControl runs;
  Intake intake;
  Enrolment enrolment;
  Operators operators;
  Catalog catalog;
  Certificates certificates;
  BootPlanner boot;
  Images images;
  ImageUploads uploads;
  Deployments deployments;
  Views views;
  Wall wall;
  LaptopPages laptops;
  // partner organisations, hand-overs and loans (issue 16)
  Partners partners;
  Loans loans;
  CatalogPages catalog_pages;
  // the settings page (issue 16)
  RecipientProfiles recipient_profiles;
  GradingPreview grading_preview;
};

/// The libsodium-backed pieces (randomness, hashing) need it initialised once; internal when
/// it cannot be.
Result<void> init_crypto();

}  // namespace revive::server
