#pragma once
// The domain services over in-memory fake repositories and a hand-driven clock: what the
// domain unit tests build on (no sockets, no SQLite).

#include <gtest/gtest.h>

#include <string>

#include "domain/catalog.hpp"
#include "domain/certifier.hpp"
#include "domain/context.hpp"
#include "domain/enrolment.hpp"
#include "domain/live_steps.hpp"
#include "domain/run_control.hpp"
#include "domain/services.hpp"
#include "domain/step_lifecycle.hpp"
#include "domain/views.hpp"
#include "fake_storage.hpp"

namespace revive::server::test {

/// A wipe result as an agent sends it: one drive, overwritten and fully verified.
inline Json wipe_evidence(const std::string& result = "passed") {
  return {{"drives", Json::array({{{"drive",
                                    {{"name", "nvme0n1"},
                                     {"model", "TEST SSD"},
                                     {"serial", "S1"},
                                     {"size_bytes", 1 << 30},
                                     {"media", "ssd"},
                                     {"transport", "nvme"}}},
                                   {"method", "overwrite"},
                                   {"nist_level", "Clear"},
                                   {"why", "test"},
                                   {"tool", "test"},
                                   {"started_at", "2026-11-22T10:00:00Z"},
                                   {"finished_at", "2026-11-22T10:01:00Z"},
                                   {"pattern", "zeros"},
                                   {"verification",
                                    {{"method", "full"},
                                     {"seed", "1"},
                                     {"samples", 256},
                                     {"bytes_checked", 1 << 30},
                                     {"coverage_permille", 1000},
                                     {"mismatches", 0},
                                     {"read_errors", 0}}},
                                   {"result", result}}})}};
}

/// An inventory with one internal NVMe drive (nvme0n1, serial S1: what wipe_evidence() is
/// about) behind a controller with its driver bound.
inline Json test_inventory(const std::string& disk_serial = "S1") {
  return {{"disks", Json::array({{{"name", "nvme0n1"},
                                  {"model", "TEST SSD"},
                                  {"serial", disk_serial},
                                  {"size_bytes", 1 << 30},
                                  {"transport", "nvme"},
                                  {"removable", false}}})},
          {"storage_controllers", Json::array({{{"pci", "0000:02:00.0"},
                                                {"class", "0x010802"},
                                                {"driver", "nvme"},
                                                {"disks", Json::array({"nvme0n1"})}}})}};
}

class DomainTest : public ::testing::Test {
 protected:
  DomainTest()
      : ctx(storage, [this] { return now; }),
        certifier(
            [this](const Json& body) {
              ++signatures;
              signed_bodies.push_back(body);
              return "signed:" + body["certificate_id"].get<std::string>();
            },
            [](double) { return false; }, [] { return std::string("2026-11-22T10:00:00Z"); }),
        lifecycle(ctx, live, certifier, StallTimeouts{{}, 60}),
        runs(ctx, live),
        intake(ctx, /*demo=*/true),
        enrolment(ctx, intake, demo_enrolment()),
        catalog(ctx),
        views(ctx, live) {
    ctx.changes().device_changed = [this](std::int64_t) { ++changes; };
    EXPECT_TRUE(init_crypto());
    EXPECT_TRUE(catalog.ensure_defaults());
  }

  /// The domain tests run as a demo server (no boot tokens, everyone admitted); the trust
  /// tests (trust_test.cpp) build their own, non-demo services.
  static EnrolmentOptions demo_enrolment() {
    EnrolmentOptions o;
    o.demo = true;
    return o;
  }

  std::int64_t enrol(const std::string& serial, const Json& inventory = test_inventory()) {
    protocol::EnrolRequest r;
    r.identity = {"uuid-" + serial, serial, "Latitude 7490", "Dell Inc."};
    r.macs = {"52:54:00:00:00:" + serial.substr(serial.size() - 2)};
    r.inventory = inventory;
    auto e = enrolment.enrol(r);
    EXPECT_TRUE(e) << e.error().message;
    return e ? e->device_id : 0;
  }
  protocol::NextResponse next(std::int64_t device) {
    auto n = lifecycle.next(device);
    EXPECT_TRUE(n) << n.error().message;
    return n ? *n : protocol::NextResponse{};
  }
  Result<protocol::ResultAck> result(std::int64_t device, const protocol::StepAssignment& s,
                                     protocol::StepStatus status = protocol::StepStatus::ok,
                                     Json result = Json::object(), std::string error = "") {
    return lifecycle.record_result(
        device, s.id,
        protocol::StepResultReport{s.attempt, status, std::move(result), std::move(error)});
  }
  /// Runs steps with an "ok" result (wipe: passing evidence) until one of `kind` is handed out.
  protocol::StepAssignment advance_to(std::int64_t device, protocol::StepKind kind) {
    for (int i = 0; i < 10; ++i) {
      auto n = next(device);
      if (n.state != protocol::NextResponse::State::step) break;
      if (n.step->kind == kind) return *n.step;
      EXPECT_TRUE(
          result(device, *n.step, protocol::StepStatus::ok,
                 n.step->kind == protocol::StepKind::wipe ? wipe_evidence() : Json::object()));
    }
    ADD_FAILURE() << "no " << protocol::to_string(kind) << " step handed out";
    return {};
  }

  Seconds now = 1'800'000'000;
  int changes = 0;
  int signatures = 0;
  std::vector<Json> signed_bodies;  ///< every certificate body signed, in order
  FakeStorage storage;
  DomainContext ctx;
  LiveSteps live;
  Certifier certifier;
  StepLifecycle lifecycle;
  RunControl runs;
  Intake intake;
  Enrolment enrolment;
  Catalog catalog;
  Views views;
};

}  // namespace revive::server::test
