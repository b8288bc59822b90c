// The domain services on the real SQLite storage (what state_test checked of the old
// StateStore): results exactly once across a reopen, deadlines and restarts, checkpoints,
// workflow rules, operators and tokens, an append-only event log, and a database written by
// an earlier server still opening and working.
#include <gtest/gtest.h>

#include <fstream>

#include "domain/catalog.hpp"
#include "domain/certifier.hpp"
#include "domain/enrolment.hpp"
#include "domain/operators.hpp"
#include "domain/recipient_profiles.hpp"
#include "domain/run_control.hpp"
#include "domain/services.hpp"
#include "domain/step_lifecycle.hpp"
#include "domain/views.hpp"
#include "revive/agent/provision.hpp"
#include "storage/sqlite/database.hpp"
#include "storage/sqlite/migrations.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "temp_dir.hpp"

namespace revive::server {
namespace {

using protocol::NextResponse;
using protocol::StepStatus;

// One "server process": storage and services over the database file.
struct Server {
  static EnrolmentOptions demo() {
    EnrolmentOptions o;
    o.demo = true;  // these tests enrol without boot tokens (trust_test.cpp covers them)
    return o;
  }
  explicit Server(const std::filesystem::path& db, Seconds& now)
      : storage(*sqlite::open_storage(db)),
        ctx(*storage, [&now] { return now; }),
        certifier([](const Json&) { return std::string("signed"); }, [](double) { return false; },
                  [] { return std::string("2026-11-22T10:00:00Z"); }),
        lifecycle(ctx, live, certifier, StallTimeouts{{}, 60}),
        runs(ctx, live),
        intake(ctx, /*demo=*/true),
        enrolment(ctx, intake, demo()),
        operators(ctx),
        catalog(ctx),
        views(ctx, live),
        recipient_profiles(ctx) {
    EXPECT_TRUE(catalog.ensure_defaults());
    EXPECT_TRUE(lifecycle.load_running_steps());
  }
  std::unique_ptr<Storage> storage;
  DomainContext ctx;
  LiveSteps live;
  Certifier certifier;
  StepLifecycle lifecycle;
  RunControl runs;
  Intake intake;
  Enrolment enrolment;
  Operators operators;
  Catalog catalog;
  Views views;
  RecipientProfiles recipient_profiles;
};

class SqliteServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(init_crypto());
    reopen();
  }
  void reopen() {
    server_.reset();
    server_ = std::make_unique<Server>(dir_ / "revive.db", now_);
  }
  Server& s() { return *server_; }
  std::int64_t enrol(const std::string& serial) {
    protocol::EnrolRequest r;
    r.identity = {"uuid-" + serial, serial, "Latitude 7490", "Dell Inc."};
    r.macs = {"52:54:00:12:34:56"};
    auto e = s().enrolment.enrol(r);
    EXPECT_TRUE(e) << e.error().message;
    return e ? e->device_id : 0;
  }
  protocol::StepAssignment next_step(std::int64_t dev) {
    auto n = s().lifecycle.next(dev);
    EXPECT_TRUE(n && n->step) << (n ? "no step" : n.error().message);
    return n && n->step ? *n->step : protocol::StepAssignment{};
  }

  test::TempDir dir_;
  Seconds now_ = 1'800'000'000;
  std::unique_ptr<Server> server_;
};

TEST_F(SqliteServicesTest, ResultIsRecordedExactlyOnceAndSurvivesReopen) {
  auto dev = enrol("SN1");
  auto st = next_step(dev);
  auto r1 =
      s().lifecycle.record_result(dev, st.id, {st.attempt, StepStatus::ok, Json{{"a", 1}}, ""});
  ASSERT_TRUE(r1);
  EXPECT_TRUE(r1->recorded);
  reopen();
  auto r2 =
      s().lifecycle.record_result(dev, st.id, {st.attempt, StepStatus::ok, Json{{"a", 1}}, ""});
  ASSERT_TRUE(r2);
  EXPECT_TRUE(r2->duplicate);
  auto r3 = s().lifecycle.record_result(dev, st.id, {st.attempt, StepStatus::failed, Json(), "x"});
  ASSERT_FALSE(r3);
  EXPECT_EQ(r3.error().code, Errc::conflict);
  auto d = s().views.device_detail(dev);
  ASSERT_TRUE(d);
  ASSERT_EQ((*d)["results"].size(), 1u);
  EXPECT_EQ((*d)["results"][0]["result"], (Json{{"a", 1}}));
}

TEST_F(SqliteServicesTest, RestartGivesRunningStepsAFreshDeadline) {
  auto dev = enrol("SN5");
  auto st = next_step(dev);
  now_ += 3600;  // the server was down for an hour
  reopen();
  EXPECT_TRUE(s().lifecycle.expire_deadlines()->empty());  // not the agent's fault
  ASSERT_TRUE(s().lifecycle.progress(dev, st.id, Json{{"bytes_done", 5}}));
  now_ += 61;
  EXPECT_EQ(s().lifecycle.expire_deadlines()->size(), 1u);
  auto w = s().lifecycle.next(dev);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->state, NextResponse::State::waiting);
  EXPECT_NE(w->reason.find("deadline"), std::string::npos);
}

TEST_F(SqliteServicesTest, CheckpointsComeBackOnResumeAfterAReopen) {
  auto dev = enrol("SN6");
  auto st = next_step(dev);
  ASSERT_TRUE(
      s().lifecycle.checkpoint(dev, st.id, 1, Json{{"done", Json::array({Json::array({0, 4})})}}));
  reopen();
  auto again = next_step(dev);
  EXPECT_TRUE(again.resumed);
  ASSERT_TRUE(again.checkpoint);
  EXPECT_EQ((*again.checkpoint)["done"][0][1], 4);
}

TEST_F(SqliteServicesTest, WorkflowsFromRules) {
  ASSERT_TRUE(s().catalog.put_workflow("wipe-only",
                                       Json::array({{{"kind", "inventory"}}, {{"kind", "wipe"}}})));
  ASSERT_TRUE(s().catalog.create_batch("ministry-2026", "Ministry of BZK", std::string("wipe-only"),
                                       std::string("debian")));
  ASSERT_TRUE(s().intake.open({"ministry-2026", now_ + 3600, {}, {}}, "alice"));
  auto dev = enrol("SN3");
  auto d = s().views.device_summary(dev);
  EXPECT_EQ((*d)["workflow"], "wipe-only");
  EXPECT_EQ((*d)["batch"], "ministry-2026");
  EXPECT_EQ((*d)["steps"].size(), 2u);
  EXPECT_FALSE(s().catalog.put_workflow("bad", Json::array({{{"kind", "format-c"}}})));
  SettingsUpdate missing;
  missing.default_workflow = "no-such";
  EXPECT_EQ(s().catalog.update_settings(missing).error().code, Errc::not_found);
  EXPECT_EQ(s().intake.open({"no-such", now_ + 3600, {}, {}}, "alice").error().code,
            Errc::not_found);
  EXPECT_EQ(s().catalog.create_batch("ministry-2026", "", std::nullopt, std::nullopt).error().code,
            Errc::conflict);
  EXPECT_EQ(s().catalog.assign_device(dev, std::string("nope"), std::nullopt).error().code,
            Errc::not_found);
  EXPECT_EQ(s().catalog.assign_device(999, std::string("ministry-2026"), std::nullopt).error().code,
            Errc::not_found);
  auto batches = s().catalog.batches();
  ASSERT_EQ(batches->size(), 1u);
  EXPECT_EQ((*batches)[0].devices, 1);
  EXPECT_EQ((*batches)[0].workflow, "wipe-only");
}

// The storage keeps workflows' steps as parsed, by their stored text: an edit makes the next
// runs with the new steps, and an edit rolled back leaves the old ones, though both were read
// while the edit stood.
TEST_F(SqliteServicesTest, AnEditedWorkflowMakesTheNextRunsWithItsNewSteps) {
  ASSERT_TRUE(s().catalog.put_workflow("refurbish", Json::array({{{"kind", "inventory"}}})));
  ASSERT_TRUE(s().catalog.create_batch("city-2026", "", std::string("refurbish"), std::nullopt));
  ASSERT_TRUE(s().intake.open({"city-2026", now_ + 3600, {}, {}}, "alice"));
  EXPECT_EQ((*s().views.device_summary(enrol("SN-A")))["steps"].size(), 1u);
  ASSERT_TRUE(s().catalog.put_workflow(
      "refurbish", Json::array({{{"kind", "inventory"}}, {{"kind", "wipe"}}, {{"kind", "test"}}})));
  EXPECT_EQ((*s().views.device_summary(enrol("SN-B")))["steps"].size(), 3u);
  {
    auto uow = s().storage->begin();
    ASSERT_TRUE(uow);
    ASSERT_TRUE(
        s().storage->workflows().put("refurbish", {{StepKind::wipe, Json::object()}}, now_));
    auto during = s().storage->workflows().find("refurbish");
    ASSERT_TRUE(during && *during);
    EXPECT_EQ((*during)->steps.size(), 1u);
  }  // not committed: rolled back
  auto after = s().storage->workflows().find("refurbish");
  ASSERT_TRUE(after && *after);
  ASSERT_EQ((*after)->steps.size(), 3u);
  EXPECT_EQ((*after)->steps[1].kind, StepKind::wipe);
}

// A run's steps are inserted several rows to a statement, a long list in parts (workflows
// have at most 32 steps; the storage takes any number): every step is stored, in order, with
// its parameters.
TEST_F(SqliteServicesTest, ALongListOfStepsIsStoredWholeAndInOrder) {
  const auto dev = enrol("SN-LONG");
  auto first = s().storage->runs().latest(dev);
  ASSERT_TRUE(first && *first);
  std::vector<WorkflowStep> steps;
  steps.reserve(120);
  for (int i = 0; i < 120; ++i) {
    steps.push_back({i % 2 ? StepKind::test : StepKind::inventory, Json({{"n", i}})});
  }
  RunRow run = **first;
  run.created_at = now_ + 1;
  auto id = s().storage->runs().create(run, steps);
  ASSERT_TRUE(id) << id.error().message;
  auto stored = s().storage->runs().steps(*id);
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->size(), 120u);
  for (int i = 0; i < 120; ++i) {
    const StepRow& row = (*stored)[static_cast<std::size_t>(i)];
    EXPECT_EQ(row.seq, i);
    EXPECT_EQ(row.kind, i % 2 ? StepKind::test : StepKind::inventory) << "step " << i;
    EXPECT_EQ(row.params, Json({{"n", i}})) << "step " << i;
    EXPECT_EQ(row.state, StepState::pending) << "step " << i;
  }
}

// The batches page's image and recipient profile (migration 8) survive a restart; the
// provision step gets the profile; an unknown batch is not_found.
TEST_F(SqliteServicesTest, ABatchsImageAndProfileAreStoredAndReachTheProvisionStep) {
  ASSERT_TRUE(s().catalog.put_workflow(
      "install", Json::array({{{"kind", "inventory"}}, {{"kind", "provision"}}})));
  ASSERT_TRUE(s().catalog.create_batch("gent", "Stad Gent", std::string("install"), std::nullopt));
  BatchUpdate u;
  u.image = std::optional<std::string>("desktop-nl");
  u.profile = Json{{"locale", "nl_BE.UTF-8"}, {"timezone", "Europe/Brussels"}};
  ASSERT_TRUE(s().catalog.update_batch("gent", u));
  EXPECT_EQ(s().catalog.update_batch("nope", u).error().code, Errc::not_found);
  reopen();
  auto b = s().storage->batches().find("gent");
  ASSERT_TRUE(b && *b);
  EXPECT_EQ((*b)->image, "desktop-nl");
  EXPECT_EQ((*b)->profile, (Json{{"locale", "nl_BE.UTF-8"}, {"timezone", "Europe/Brussels"}}));
  ASSERT_TRUE(s().intake.open({"gent", now_ + 3600, {}, {}}, "alice"));
  const auto dev = enrol("SN9");
  auto inv = next_step(dev);
  ASSERT_TRUE(s().lifecycle.record_result(dev, inv.id, {inv.attempt, StepStatus::ok, {}, ""}));
  auto prov = next_step(dev);
  EXPECT_EQ(prov.kind, protocol::StepKind::provision);
  EXPECT_EQ(prov.params["profile"]["timezone"], "Europe/Brussels");
}

// Named recipient profiles (migration 9) in SQLite: kept across a restart, given to a batch,
// edited in place, refused removal while the batch uses one (the domain's check and, behind
// it, the foreign key), removed once it does not.
TEST_F(SqliteServicesTest, ANamedProfileIsStoredUsedByABatchAndKeptWhileUsed) {
  ASSERT_TRUE(s().recipient_profiles.put("school", {{"locale", "nl_BE.UTF-8"}}));
  ASSERT_TRUE(s().recipient_profiles.put("school", {{"keyboard", "be"}}));  // an edit
  ASSERT_TRUE(s().recipient_profiles.put("library", Json::object()));
  ASSERT_TRUE(s().catalog.create_batch("gent", "Stad Gent", std::nullopt, std::nullopt));
  BatchUpdate u;
  u.profile_name = std::optional<std::string>("school");
  ASSERT_TRUE(s().catalog.update_batch("gent", u));
  reopen();
  auto listed = s().recipient_profiles.list();
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[1]["name"], "school");
  EXPECT_EQ((*listed)[1]["fields"], (Json{{"keyboard", "be"}}));
  EXPECT_EQ((*listed)[1]["batches"], Json::array({"gent"}));
  EXPECT_EQ((*s().catalog.batches())[0].profile_name, "school");
  auto used = s().recipient_profiles.remove("school");
  ASSERT_FALSE(used);
  EXPECT_EQ(used.error().code, Errc::conflict);
  {
    auto db = sqlite::Database::open(dir_ / "revive.db");
    ASSERT_TRUE(db);
    EXPECT_FALSE(db->exec("DELETE FROM recipient_profiles WHERE name = 'school'"));
  }
  u.profile_name = std::optional<std::string>();
  ASSERT_TRUE(s().catalog.update_batch("gent", u));
  ASSERT_TRUE(s().recipient_profiles.remove("school"));
  EXPECT_EQ(s().recipient_profiles.list()->size(), 1u);
}

// The first user (issue 17) set on a batch and on a named profile survives a restart, is the
// batch's effective profile (the named one wins) and reaches the provision step's parameters in
// the form the agent's parse_profile takes.
TEST_F(SqliteServicesTest, AFirstUserIsStoredAndHandedToTheAgentsProvisionStep) {
  ASSERT_TRUE(s().catalog.put_workflow(
      "install", Json::array({{{"kind", "inventory"}}, {{"kind", "provision"}}})));
  ASSERT_TRUE(s().catalog.create_batch("gent", "Stad Gent", std::string("install"), std::nullopt));
  BatchUpdate own;
  own.profile = Json{{"locale", "nl_BE.UTF-8"}, {"first_user", {{"name", "gebruiker"}}}};
  ASSERT_TRUE(s().catalog.update_batch("gent", own));
  const Json school = {{"keyboard", "be"},
                       {"first_user", {{"name", "leerling"}, {"full_name", "Leerling 5B"}}}};
  ASSERT_TRUE(s().recipient_profiles.put("school", school));
  BatchUpdate bad;
  bad.profile = Json{{"first_user", {{"name", "root"}}}};
  auto refused = s().catalog.update_batch("gent", bad);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("first_user.name"), std::string::npos);
  EXPECT_FALSE(s().recipient_profiles.put("bad", {{"first_user", {{"name", "nobody"}}}}));
  reopen();
  auto b = s().storage->batches().find("gent");
  ASSERT_TRUE(b && *b);
  EXPECT_EQ((*b)->profile, *own.profile);  // the refused update changed nothing
  EXPECT_EQ((*s().recipient_profiles.list())[0]["fields"], school);

  // The batch's own profile reaches the first laptop's provision step...
  ASSERT_TRUE(s().intake.open({"gent", now_ + 3600, {}, {}}, "alice"));
  auto provision_params = [&](const std::string& serial) {
    const auto dev = enrol(serial);
    auto inv = next_step(dev);
    EXPECT_TRUE(s().lifecycle.record_result(dev, inv.id, {inv.attempt, StepStatus::ok, {}, ""}));
    auto prov = next_step(dev);
    EXPECT_EQ(prov.kind, protocol::StepKind::provision);
    return prov.params;
  };
  const Json first = provision_params("SN-own");
  EXPECT_EQ(first["profile"], *own.profile);
  auto parsed = agent::parse_profile(first);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->first_user.name, "gebruiker");
  EXPECT_EQ(parsed->first_user.full_name, "");

  // ...and once the batch uses the named profile, that one's first user reaches the next.
  BatchUpdate named;
  named.profile_name = std::optional<std::string>("school");
  ASSERT_TRUE(s().catalog.update_batch("gent", named));
  const Json second = provision_params("SN-named");
  EXPECT_EQ(second["profile"], school);
  parsed = agent::parse_profile(second);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->first_user.name, "leerling");
  EXPECT_EQ(parsed->first_user.full_name, "Leerling 5B");
  EXPECT_EQ(parsed->keyboard, "be");
}

TEST_F(SqliteServicesTest, ABadSettingChangesNoSetting) {
  // Used to apply the settings before the bad one; now all are checked first.
  SettingsUpdate u;
  u.workshop_name = "Repair Café";
  u.reverify_share = "2";
  EXPECT_EQ(s().catalog.update_settings(u).error().code, Errc::invalid_input);
  EXPECT_FALSE(*s().storage->settings().get("workshop_name"));
  u.reverify_share = "0.5";
  ASSERT_TRUE(s().catalog.update_settings(u));
  EXPECT_EQ(**s().storage->settings().get("workshop_name"), "Repair Café");
}

// Label links leave the workshop: the public address must be one a QR code can carry as is.
TEST_F(SqliteServicesTest, APublicUrlIsAnHttpAddressOfAHostOrRefused) {
  const auto set = [&](const std::string& url) {
    SettingsUpdate u;
    u.public_url = url;
    return s().catalog.update_settings(u);
  };
  for (const char* bad : {"revive.example.org", "ftp://revive.example.org", "https://",
                          "https:///c", "https://x.org/?a=1", "https://x.org/#top",
                          "https://user@x.org", "https://x .org", "https://x.org/\"><script>"}) {
    auto r = set(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::invalid_input) << bad;
  }
  EXPECT_FALSE(*s().storage->settings().get("public_url"));
  ASSERT_TRUE(set("https://revive.example.org:8443/workshop/"));
  EXPECT_EQ(**s().storage->settings().get("public_url"),
            "https://revive.example.org:8443/workshop");
  ASSERT_TRUE(set(""));
  EXPECT_EQ(**s().storage->settings().get("public_url"), "") << "cleared: the LAN address again";
}

TEST_F(SqliteServicesTest, TheEnrolmentAnswerCarriesTheWorkshopAndItsScreenLanguage) {
  protocol::EnrolRequest r;
  r.identity = {"uuid-SN77", "SN77", "Latitude 7490", "Dell Inc."};
  auto before = s().enrolment.enrol(r);
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_EQ(before->workshop, "");
  EXPECT_EQ(before->language, "en");  // nothing chosen: English
  EXPECT_EQ(before->label, "SN77");   // as on the wall: no asset tag, the serial's end
  SettingsUpdate bad;
  bad.screen_language = "de";
  EXPECT_EQ(s().catalog.update_settings(bad).error().code, Errc::invalid_input);
  SettingsUpdate u;
  // Longer than the protocol's limit, with a two-byte character across the cut.
  u.workshop_name = std::string(199, 'x') + "\xc3\xa9 Gent";
  u.screen_language = "fr";
  ASSERT_TRUE(s().catalog.update_settings(u));
  auto after = s().enrolment.enrol(r);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->workshop, std::string(199, 'x'));
  EXPECT_EQ(after->language, "fr");
  // What the agent reads back from the wire.
  auto decoded = protocol::decode<protocol::EnrolResponse>(protocol::to_json(*after).dump());
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->language, "fr");
}

TEST_F(SqliteServicesTest, OperatorsAndTokens) {
  EXPECT_FALSE(s().operators.add("bob", "short"));
  ASSERT_TRUE(s().operators.add("bob", "long enough password"));
  EXPECT_EQ(s().operators.login("bob", "wrong password!").error().code, Errc::unauthorized);
  EXPECT_EQ(s().operators.login("nobody", "long enough password").error().code, Errc::unauthorized);
  auto t = s().operators.login("bob", "long enough password");
  ASSERT_TRUE(t);
  EXPECT_EQ(*s().operators.authenticate(*t), "bob");
  EXPECT_EQ(*s().operators.authenticate(*t), "bob");  // from the cache this time
  now_ += 13L * 3600;                                 // sessions expire, cached or not
  EXPECT_EQ(s().operators.authenticate(*t).error().code, Errc::unauthorized);
  auto api = s().operators.create_api_token("bob", "ci");
  ASSERT_TRUE(api);
  EXPECT_EQ(*s().operators.authenticate(*api), "bob");  // API tokens do not
  EXPECT_EQ(s().operators.create_api_token("nobody", "x").error().code, Errc::not_found);
}

TEST_F(SqliteServicesTest, ReEnrolmentRevokesTheCachedAgentToken) {
  protocol::EnrolRequest r;
  r.identity = {"u", "SN9", "m", "v"};
  auto first = s().enrolment.enrol(r);
  ASSERT_TRUE(first);
  EXPECT_EQ(*s().enrolment.authenticate(first->agent_token), first->device_id);
  now_ += 601;  // the first agent went quiet: a second enrolment is not a takeover
  auto second = s().enrolment.enrol(r);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->new_device);
  EXPECT_EQ(s().enrolment.authenticate(first->agent_token).error().code, Errc::unauthorized);
  EXPECT_EQ(*s().enrolment.authenticate(second->agent_token), first->device_id);
  reopen();  // and the database agrees
  EXPECT_EQ(s().enrolment.authenticate(first->agent_token).error().code, Errc::unauthorized);
  EXPECT_EQ(*s().enrolment.authenticate(second->agent_token), first->device_id);
}

TEST_F(SqliteServicesTest, EventLogRowsNeverChangeAndRetentionDropsTheOldest) {
  enrol("SN4");
  auto ev = s().views.events_since(0, 10);
  ASSERT_TRUE(ev);
  EXPECT_FALSE(ev->empty());
  auto db = sqlite::Database::open(dir_ / "revive.db");
  ASSERT_TRUE(db);
  EXPECT_FALSE(db->exec("UPDATE events SET kind = 'x'"));
  // Issue 15, finding 5: the log no longer grows without bound. Keeping one row drops the rest.
  const auto before = ev->size();
  auto gone = s().storage->events().prune(0, 1, 1000);
  ASSERT_TRUE(gone) << gone.error().message;
  EXPECT_EQ(*gone, static_cast<std::int64_t>(before) - 1);
  EXPECT_EQ(s().views.events_since(0, 10)->size(), 1u);
}

TEST_F(SqliteServicesTest, ADatabaseFromAnEarlierServerKeepsWorking) {
  // tests/data/server/state-v4.sql: a database written by the server before the storage
  // layer (schema version 4), dumped with `sqlite3 .dump`: one laptop mid-wipe, one done.
  server_.reset();
  const auto path = dir_ / "old.db";
  std::ifstream f(std::string(REVIVE_TEST_DATA) + "/server/state-v4.sql");
  ASSERT_TRUE(f);
  const std::string dump((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  {
    auto db = sqlite::Database::open(path);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec(dump));
  }
  server_ = std::make_unique<Server>(path, now_);
  auto devices = s().views.devices();
  ASSERT_TRUE(devices) << devices.error().message;
  ASSERT_EQ(devices->size(), 2u);
  EXPECT_EQ((*devices)[0]["state"], "running");
  EXPECT_EQ((*devices)[0]["current"]["kind"], "wipe");
  EXPECT_EQ((*devices)[1]["state"], "done");
  auto certs = s().storage->certificates().for_device((*devices)[1]["id"]);
  ASSERT_TRUE(certs);
  EXPECT_EQ(certs->size(), 2u);
  // The mid-wipe laptop reconnects and is handed its wipe again, the same attempt.
  const std::int64_t dev = (*devices)[0]["id"];
  auto n = s().lifecycle.next(dev);
  ASSERT_TRUE(n) << n.error().message;
  ASSERT_EQ(n->state, NextResponse::State::step);
  EXPECT_TRUE(n->step->resumed);
  EXPECT_EQ(n->step->kind, protocol::StepKind::wipe);
  EXPECT_EQ(n->step->params["drives"][0]["serial"], "S1");
  // Since: issue 15's trust migration (5), the event log's retention (6), which drops the
  // no-delete trigger, issue 16's partner organisations, hand-overs and loans (7), a
  // batch's recipient profile (8), the named recipient profiles (9), the identity
  // indexes (10), the per-laptop indexes (11) and the MAC table (12).
  EXPECT_EQ(sqlite::latest_schema_version(), 12);
  // Migration 12 filled the MAC table from the laptops already known.
  auto by_mac = s().storage->devices().find_by_mac("52:54:00:00:00:01", 2);
  ASSERT_TRUE(by_mac) << by_mac.error().message;
  ASSERT_EQ(by_mac->size(), 1u);
  EXPECT_EQ(by_mac->front().serial, "MID1");
  auto orgs = s().storage->organisations().list();
  ASSERT_TRUE(orgs) << orgs.error().message;
  EXPECT_TRUE(orgs->empty());
  auto profiles = s().storage->recipient_profiles().list();
  ASSERT_TRUE(profiles) << profiles.error().message;
  EXPECT_TRUE(profiles->empty());
}

TEST_F(SqliteServicesTest, ANewerDatabaseIsRefused) {
  server_.reset();
  {
    auto db = sqlite::Database::open(dir_ / "revive.db");
    ASSERT_TRUE(db->exec("INSERT INTO schema_version(version) VALUES (99)"));
  }
  auto s = sqlite::open_storage(dir_ / "revive.db");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::unsupported);
}

}  // namespace
}  // namespace revive::server
