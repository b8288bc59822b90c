#include "revive/protocol.hpp"

#include "revive/manifest.hpp"

#include <gtest/gtest.h>

#include "revive/signed_job.hpp"

namespace revive::protocol {
namespace {

TEST(Protocol, StepKindsRoundTripAndUnknownIsRefused) {
  for (auto k : kStepKinds) EXPECT_EQ(step_kind_from(to_string(k)), k);
  EXPECT_FALSE(step_kind_from("format-c"));
  EXPECT_EQ(step_kind_list(), "inventory, checks, wipe, test, deploy, provision, certify, finish");
  for (auto s : {StepState::pending, StepState::running, StepState::done, StepState::failed,
                 StepState::skipped, StepState::cancelled}) {
    EXPECT_EQ(step_state_from(to_string(s)), s);
  }
  for (auto s : {RunState::running, RunState::failed, RunState::done, RunState::cancelled}) {
    EXPECT_EQ(run_state_from(to_string(s)), s);
  }
}

TEST(Protocol, PathsFillTheRoutePatterns) {
  EXPECT_EQ(path::enrol(), route::kEnrol);
  EXPECT_EQ(path::next(17, 25), "/api/v1/agents/17/next?wait=25");
  EXPECT_EQ(path::progress(17), "/api/v1/agents/17/progress");
  EXPECT_EQ(path::events(17), "/api/v1/agents/17/events");
  EXPECT_EQ(path::checkpoint(17, 93), "/api/v1/agents/17/steps/93/checkpoint");
  EXPECT_EQ(path::result(17, 93), "/api/v1/agents/17/steps/93/result");
  EXPECT_EQ(path::certificates(17), "/api/v1/agents/17/certificates");
  EXPECT_EQ(path::manifest("debian"), "/api/v1/images/debian/manifest");
  EXPECT_EQ(path::chunk("ab"), "/chunks/ab");
}

TEST(Protocol, EnrolRoundTrip) {
  EnrolRequest r;
  r.identity = {"4C4C4544-0042", "PF0ABC12", "20L5CTO1WW", "LENOVO"};
  r.macs = {"8c:16:45:00:00:01"};
  r.inventory = {{"disks", Json::array()}};
  r.boot_token = "tok";
  auto back = from_json<EnrolRequest>(to_json(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->identity.serial, "PF0ABC12");
  EXPECT_EQ(back->identity.vendor, "LENOVO");
  EXPECT_EQ(back->macs, r.macs);
  EXPECT_EQ(back->inventory, r.inventory);
  EXPECT_EQ(back->boot_token, "tok");
  // Without a boot token the field is not sent at all.
  r.boot_token.clear();
  EXPECT_FALSE(to_json(r).contains("boot_token"));
}

TEST(Protocol, EnrolRefusesWrongTypesNamingTheField) {
  auto e = from_json<EnrolRequest>({{"identity", {{"serial", 5}}}});
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("\"serial\""), std::string::npos);
  e = from_json<EnrolRequest>({{"identity", "x"}});
  ASSERT_FALSE(e);
  e = from_json<EnrolRequest>({{"macs", Json::array({1, 2})}});
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("macs"), std::string::npos);
  e = from_json<EnrolRequest>({{"identity", {{"serial", std::string(300, 'x')}}}});
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("256"), std::string::npos);
}

TEST(Protocol, NextResponsesCarryTheSignedJobNotAPlainStep) {
  const auto key = KeyPair::generate();
  Job job;
  job.device = 17;
  job.step =
      StepAssignment{93, StepKind::deploy, 2, {{"image", "debian"}}, true, Json{{"image_id", "x"}}};
  job.nonce = "00ff";
  job.issued_at = 100;
  job.expires_at = 400;
  NextResponse step;
  step.state = NextResponse::State::step;
  step.step = job.step;
  step.job = sign_job(job, key);
  const Json wire = to_json(step);
  EXPECT_FALSE(wire.contains("step")) << "a step only travels signed";
  EXPECT_EQ(wire["job"]["job"]["kind"], "deploy");  // readable: the signed document as JSON
  auto back = from_json<NextResponse>(wire);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_FALSE(back->step) << "decoding never makes a step out of unchecked JSON";
  // The agent's re-serialisation gives back the signed bytes, so the signature holds.
  auto opened = open_job(back->job, key.public_key());
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->step.kind, StepKind::deploy);
  EXPECT_EQ(opened->step.attempt, 2);
  EXPECT_TRUE(opened->step.resumed);
  ASSERT_TRUE(opened->step.checkpoint);
  EXPECT_EQ((*opened->step.checkpoint)["image_id"], "x");

  NextResponse waiting;
  waiting.state = NextResponse::State::waiting;
  waiting.waiting = WaitingStep{5, StepKind::wipe, StepState::failed};
  waiting.reason = "disk on fire";
  const Json wj = to_json(waiting);
  EXPECT_EQ(wj["step"]["state"], "failed");
  back = from_json<NextResponse>(wj);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->reason, "disk on fire");
  ASSERT_TRUE(back->waiting);
  EXPECT_EQ(back->waiting->kind, StepKind::wipe);

  for (auto s : {NextResponse::State::done, NextResponse::State::cancelled}) {
    NextResponse n;
    n.state = s;
    EXPECT_EQ(to_json(n), Json({{"state", to_string(s)}}));
    EXPECT_EQ(from_json<NextResponse>(to_json(n))->state, s);
  }
}

TEST(Protocol, AStepAnswerWithoutASignedJobIsRefused) {
  // What a server before signed jobs sent (or a rogue one sends): a plain step.
  EXPECT_FALSE(from_json<NextResponse>(
      {{"state", "step"}, {"step", {{"id", 1}, {"kind", "wipe"}, {"attempt", 1}}}}));
  EXPECT_FALSE(from_json<NextResponse>({{"state", "step"}}));
  EXPECT_FALSE(from_json<NextResponse>({{"state", "step"}, {"job", "text"}}));
  EXPECT_FALSE(from_json<NextResponse>({{"state", "dancing"}}));
}

TEST(Protocol, NextRequestsCarryAHexNonce) {
  auto r = from_json<NextRequest>(to_json(NextRequest{"0123abcd"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->nonce, "0123abcd");
  EXPECT_TRUE(from_json<NextRequest>(Json::object()));  // an older agent: no nonce
  EXPECT_FALSE(from_json<NextRequest>({{"nonce", "XYZ"}}));
  EXPECT_FALSE(from_json<NextRequest>({{"nonce", std::string(65, 'a')}}));
  EXPECT_FALSE(from_json<NextRequest>({{"nonce", 5}}));
}

TEST(Protocol, CanonicalTextIsRecognised) {
  const Json j = {{"a", 1}, {"b", {{"c", "x"}}}};
  EXPECT_TRUE(is_canonical(R"({"a":1,"b":{"c":"x"}})", j));
  EXPECT_TRUE(is_canonical("{\"a\":1,\"b\":{\"c\":\"x\"}}\n", j));
  EXPECT_FALSE(is_canonical(R"({"b":{"c":"x"},"a":1})", j));
  EXPECT_FALSE(is_canonical(R"({"a": 1,"b":{"c":"x"}})", j));
  EXPECT_FALSE(is_canonical(R"({"a":2,"a":1,"b":{"c":"x"}})", j));
}

TEST(Protocol, ProgressKeepsKeysItDoesNotKnow) {
  ProgressReport r{7, {"writing", 10, 20, 5.5, "", std::nullopt, {{"source", "peer 3"}}}};
  const Json j = to_json(r);
  EXPECT_EQ(j["progress"]["source"], "peer 3");
  auto back = from_json<ProgressReport>(j);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->step, 7);
  EXPECT_EQ(back->progress.stage, "writing");
  EXPECT_EQ(back->progress.bytes_done, 10);
  EXPECT_EQ(back->progress.rate, 5.5);
  EXPECT_EQ(back->progress.extra["source"], "peer 3");
  EXPECT_FALSE(from_json<ProgressReport>({{"progress", Json::object()}}));  // no step
  EXPECT_FALSE(from_json<ProgressReport>({{"step", 1}, {"progress", {{"bytes_done", "x"}}}}));
}

TEST(Protocol, DeployProgressAndSourceAssignmentsRoundTrip) {
  Progress p;
  p.stage = "writing debian";
  p.deploy = DeployProgress{"img-1", 10,  40,       41234,
                            1.5e6,   3e6, "peer 7", SourceFailure{7, "connection refused", false}};
  auto back = from_json<Progress>(to_json(p));
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_TRUE(back->deploy);
  EXPECT_EQ(back->deploy->chunks_held, 10u);
  EXPECT_EQ(back->deploy->relay_port, 41234);
  EXPECT_EQ(back->deploy->source, "peer 7");
  ASSERT_TRUE(back->deploy->source_failed);
  EXPECT_EQ(back->deploy->source_failed->peer, 7);
  EXPECT_FALSE(back->extra.contains("deploy")) << "typed, not left in extra";

  for (auto kind : {SourceAssignment::Kind::server, SourceAssignment::Kind::peer,
                    SourceAssignment::Kind::queued}) {
    SourceAssignment a{kind, 7, "http://10.0.0.7:41234", 3, "why", 12};
    auto ack = from_json<ProgressAck>(to_json(ProgressAck{a}));
    ASSERT_TRUE(ack) << ack.error().message;
    ASSERT_TRUE(ack->source);
    EXPECT_EQ(ack->source->kind, kind);
    EXPECT_EQ(ack->source->epoch, 12);
    EXPECT_EQ(ack->source->url, kind == SourceAssignment::Kind::peer ? a.url : "");
    EXPECT_EQ(ack->source->place, kind == SourceAssignment::Kind::queued ? 3 : 0);
  }
  EXPECT_FALSE(from_json<ProgressAck>(to_json(ProgressAck{}))->source);
}

TEST(Protocol, RelayReportsRoundTrip) {
  EXPECT_EQ(path::relay(17), "/api/v1/agents/17/relay");
  auto r = from_json<RelayReport>(to_json(RelayReport{"img", 41234, 96, 1 << 20}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->relay_port, 41234);
  EXPECT_EQ(r->chunks_held, 96u);
  EXPECT_FALSE(from_json<RelayReport>({{"image_id", "img"}, {"relay_port", 0}}));
  EXPECT_FALSE(from_json<RelayReport>({{"relay_port", 80}}));
  EXPECT_TRUE(from_json<RelayAck>(to_json(RelayAck{true}))->release);
  EXPECT_FALSE(from_json<RelayAck>(Json::object())->release);
}

TEST(Protocol, ImpossibleDeployFiguresAndSourcesAreRefused) {
  EXPECT_FALSE(from_json<DeployProgress>({{"chunks_held", 5}, {"chunk_count", 4}}));
  EXPECT_FALSE(from_json<DeployProgress>({{"relay_port", 70000}}));
  EXPECT_FALSE(from_json<DeployProgress>({{"chunks_held", -1}}));
  EXPECT_FALSE(from_json<DeployProgress>({{"source_failed", {{"peer", -2}}}}));
  EXPECT_FALSE(from_json<SourceAssignment>({{"kind", "multicast"}}));
  EXPECT_FALSE(
      from_json<SourceAssignment>({{"kind", "peer"}, {"peer", 3}, {"url", "file:///etc"}}));
  EXPECT_FALSE(from_json<SourceAssignment>({{"kind", "peer"}, {"url", "http://a:1"}}));
}

TEST(Protocol, ResultsCheckpointsAndEvents) {
  StepResultReport r{3, StepStatus::failed, {{"drives", Json::array()}}, "no disk"};
  auto back = from_json<StepResultReport>(to_json(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, StepStatus::failed);
  EXPECT_EQ(back->error, "no disk");
  EXPECT_FALSE(from_json<StepResultReport>({{"attempt", 1}, {"status", "maybe"}}));
  EXPECT_FALSE(from_json<StepResultReport>({{"status", "ok"}}));

  EXPECT_TRUE(from_json<CheckpointReport>(to_json(CheckpointReport{2, {{"done", Json::array()}}})));
  EXPECT_FALSE(from_json<CheckpointReport>({{"attempt", 2}, {"checkpoint", 1}}));

  EXPECT_TRUE(from_json<EventsReport>({{"events", Json::array({{{"level", "warn"}}})}}));
  EXPECT_FALSE(from_json<EventsReport>({{"events", Json::array({1})}}));
  EXPECT_FALSE(from_json<EventsReport>({{"events", Json(std::vector<Json>(101, Json::object()))}}));

  EXPECT_EQ(to_json(ResultAck{false, true}), Json({{"recorded", false}, {"duplicate", true}}));
  EXPECT_EQ(to_json(ResultAck{true, false}), Json({{"recorded", true}}));
}

TEST(Protocol, EveryOutsideJsonParseIsDepthBounded) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_TRUE(parse_json_bounded(deep).is_discarded());
  EXPECT_TRUE(parse_json_bounded("[[1]]", 1).is_discarded());
  EXPECT_EQ(parse_json_bounded("[[1]]", 2), Json::array({Json::array({1})}));
  // Manifests and signed documents come from files and uploads: refused, not a crash.
  const std::string deep_doc = "{\"manifest\":" + deep + ",\"signature\":{}}";
  EXPECT_FALSE(parse_signed_manifest(deep_doc));
  EXPECT_FALSE(manifest_from_json("{\"chunks\":" + deep + "}"));
  // An enrolment's inventory is type-checked before it is copied.
  EXPECT_FALSE(
      from_json<EnrolRequest>({{"identity", {{"serial", "S"}}}, {"inventory", Json::array({1})}}));
  EXPECT_TRUE(
      from_json<EnrolRequest>({{"identity", {{"serial", "S"}}}, {"inventory", {{"ram_gib", 8}}}}));
}

TEST(Protocol, DeeplyNestedBodiesAreRefusedBeforeTheyAreBuilt) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto j = parse_object("{\"a\":" + deep + "}");
  ASSERT_FALSE(j);
  EXPECT_NE(j.error().message.find("nested deeper"), std::string::npos);
  // Brackets inside strings do not count; escaped quotes do not end a string.
  auto ok = parse_object(R"({"a": "[[[[\"[[[[", "b": [[1]]})", 3);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_FALSE(parse_object("[1]"));
  EXPECT_FALSE(parse_object("{"));
  EXPECT_FALSE(parse_object(""));
  auto d = decode<EnrolResponse>(R"({"device_id": 4, "agent_token": "t"})");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->device_id, 4);
  EXPECT_EQ(d->language, "");  // an older server: the screen keeps its default
}

TEST(Protocol, EnrolAnswerNamesTheWorkshopAndAKnownLanguage) {
  auto d = decode<EnrolResponse>(
      R"({"device_id": 4, "agent_token": "t", "workshop": "Repair Café", "language": "nl"})");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->workshop, "Repair Café");
  EXPECT_EQ(d->language, "nl");
  auto newer = decode<EnrolResponse>(R"({"device_id": 4, "agent_token": "t", "language": "de"})");
  ASSERT_TRUE(newer);
  EXPECT_EQ(newer->language, "");
  EXPECT_FALSE(decode<EnrolResponse>(R"({"device_id": 4, "agent_token": "t", "workshop": 3})"));
  EXPECT_FALSE(decode<EnrolResponse>(R"({"device_id": 4, "agent_token": "t", "workshop": ")" +
                                     std::string(201, 'x') + "\"}"));
  EXPECT_EQ(step_kind_from("checks"), StepKind::checks);
}

}  // namespace
}  // namespace revive::protocol
