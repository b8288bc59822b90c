// The server's side of peer relay over fake repositories and a hand-driven monotonic clock:
// which source each deploying laptop is told, peer URLs from the request's address, failed
// sources, relay release, the delivery tally stored with a deploy result and /metrics.
#include <algorithm>
#include <set>
#include <utility>

#include "api/deploy_metrics.hpp"
#include "domain/deployments.hpp"
#include "domain/relay_address.hpp"
#include "domain_fixture.hpp"

namespace revive::server::test {
namespace {

using protocol::DeployProgress;
using protocol::SourceAssignment;
using protocol::StepKind;
using Kind = protocol::SourceAssignment::Kind;

constexpr std::uint64_t kChunks = 200;
// 100 Mbit/s for every port (the scale model): the server's port feeds one laptop at a time,
// so equal laptops form a chain.
constexpr double kPortRate = 12.5e6;

class DeploymentsTest : public DomainTest {
 protected:
  struct Laptop {
    std::int64_t device = 0;
    protocol::StepAssignment step;
    std::string ip;
    std::uint16_t relay_port = 0;
    std::uint64_t held = 0;
  };

  void start(bool relay) {
    DeploymentOptions o;
    o.relay = relay;
    o.server_port_rate = kPortRate;
    deployments.emplace(
        ctx, live,
        [this](const std::string& name) -> Result<ImageFacts> {
          ++lookups;
          if (name != "lab") return make_error(Errc::not_found, "no image " + name);
          return ImageFacts{"img-1",
                            sched::ImageShape{kChunks, kChunks * 1'000'000, kChunks * 4'000'000}};
        },
        [this] { return mono; }, o);
  }

  /// Enrols a laptop and runs its workflow up to a deploy step that installs image "lab".
  Laptop deploying(const std::string& serial, const std::string& ip, std::uint16_t port,
                   const Json& inventory = test_inventory()) {
    Laptop l{enrol(serial, inventory), {}, ip, port, 0};
    l.step = advance_to(l.device, StepKind::deploy);
    for (auto& s : storage.data.steps)
      if (s.id == l.step.id) s.params["image"] = "lab";
    return l;
  }

  DeployProgress report_of(const Laptop& l, const std::string& source = "server") const {
    DeployProgress p;
    p.image_id = "img-1";
    p.chunks_held = l.held;
    p.chunk_count = kChunks;
    p.relay_port = l.relay_port;
    p.receive_rate = kPortRate;
    p.write_rate = 4 * kPortRate;
    p.source = source;
    return p;
  }

  /// One progress report of `l` (gaining `gain` chunks), answered with its source.
  SourceAssignment report(Laptop& l, std::uint64_t gain = 0, const std::string& source = "server",
                          std::optional<protocol::SourceFailure> failed = std::nullopt) {
    l.held = std::min(kChunks, l.held + gain);
    auto p = report_of(l, source);
    p.source_failed = std::move(failed);
    auto a = deployments->progress(l.device, l.step.id, p, l.ip);
    EXPECT_TRUE(a) << "no assignment for a running deploy step";
    return a ? *a : SourceAssignment{};
  }

  /// Every laptop reports once, a second apart; their answers in order.
  std::vector<SourceAssignment> round(const std::vector<Laptop*>& laptops, std::uint64_t gain = 0) {
    std::vector<SourceAssignment> out;
    out.reserve(laptops.size());
    for (Laptop* l : laptops) out.push_back(report(*l, gain));
    mono += 1;
    deployments->tick();
    return out;
  }

  /// Two laptops after two rounds of reports: the one ahead (more chunks) first, then the one
  /// behind it, which the plan chains to it.
  std::pair<Laptop, Laptop> chained_pair() {
    auto a = deploying("SN01", "10.0.0.1", 40001);
    auto b = deploying("SN02", "10.0.0.2", 40002);
    round({&a, &b}, 10);
    round({&a, &b}, 10);
    if (a.held >= b.held) return {a, b};
    return {b, a};
  }

  double mono = 100;
  int lookups = 0;
  std::optional<Deployments> deployments;
};

TEST_F(DeploymentsTest, RelayOffEveryLaptopGetsTheServer) {
  start(false);
  auto a = deploying("SN01", "10.0.0.1", 40001);
  auto b = deploying("SN02", "10.0.0.2", 40002);
  auto c = deploying("SN03", "10.0.0.3", 40003);
  for (int i = 0; i < 3; ++i) {
    for (const auto& s : round({&a, &b, &c}, 10)) {
      EXPECT_EQ(s.kind, Kind::server);
      EXPECT_EQ(s.reason, "relay is off");
      EXPECT_GT(s.epoch, 0);
    }
  }
  // The epoch changes only when the source does: three reports, one assignment each.
  EXPECT_EQ(deployments->assignment_of(a.device)->epoch, report(a).epoch);
  const auto stats = deployments->stats();
  EXPECT_EQ(stats.laptops.at("server"), 3);
  EXPECT_EQ(stats.laptops.at("peer"), 0);
  EXPECT_EQ(stats.scheduler.events, 0u);  // the scheduler is never asked
  EXPECT_EQ(lookups, 1);                  // the image's shape is looked up once
  // A relay report is released at once: nobody fetches from it.
  EXPECT_TRUE(deployments->relay(a.device, {"img-1", 40001, kChunks, 0}, a.ip).release);
}

TEST_F(DeploymentsTest, AReportOfAnotherStepGetsNoAssignment) {
  start(true);
  auto a = deploying("SN01", "10.0.0.1", 40001);
  auto p = report_of(a);
  EXPECT_FALSE(deployments->progress(a.device, a.step.id + 1000, p, a.ip));
  auto other = enrol("SN09");
  EXPECT_FALSE(deployments->progress(other, a.step.id, p, a.ip));  // not its step
}

TEST_F(DeploymentsTest, RelayOnChainsLaptopsWithPeerUrlsFromTheRequestAddress) {
  start(true);
  auto a = deploying("SN01", "10.0.0.1", 40001);
  auto b = deploying("SN02", "::ffff:10.0.0.2", 40002);  // a dual-stack listener's view
  auto c = deploying("SN03", "10.0.0.3", 40003);
  std::vector<SourceAssignment> got;
  for (int i = 0; i < 3; ++i) got = round({&a, &b, &c}, 5);
  const std::map<std::int64_t, std::string> url = {{a.device, "http://10.0.0.1:40001"},
                                                   {b.device, "http://10.0.0.2:40002"},
                                                   {c.device, "http://10.0.0.3:40003"}};
  const std::int64_t ids[] = {a.device, b.device, c.device};
  int from_server = 0;
  std::set<std::int64_t> parents;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto& s = got[i];
    if (s.kind == Kind::server) {
      ++from_server;
      continue;
    }
    ASSERT_EQ(s.kind, Kind::peer) << s.reason;
    ASSERT_TRUE(url.count(s.peer)) << s.peer;
    EXPECT_NE(s.peer, ids[i]);
    EXPECT_EQ(s.url, url.at(s.peer));  // the peer's request address and its reported port
    parents.insert(s.peer);
  }
  // The server's port feeds one laptop; the other two hang off laptops in a chain.
  EXPECT_EQ(from_server, 1);
  EXPECT_EQ(parents.size(), 2u);
  EXPECT_EQ(deployments->stats().laptops.at("peer"), 2);

  // The relay moved (the agent restarted its relay on another port): its child is told the
  // new address with a new epoch.
  const auto child =
      std::find_if(got.begin(), got.end(), [](const auto& s) { return s.kind == Kind::peer; });
  const std::size_t ci = static_cast<std::size_t>(child - got.begin());
  Laptop* laptops[] = {&a, &b, &c};
  Laptop* parent = *std::find_if(std::begin(laptops), std::end(laptops),
                                 [&](Laptop* l) { return l->device == child->peer; });
  parent->relay_port = 45000;
  report(*parent, 1);
  const auto again = report(*laptops[ci]);
  if (again.kind == Kind::peer && again.peer == parent->device) {
    EXPECT_EQ(again.url, relay_url(parent->ip, 45000));
    EXPECT_GT(again.epoch, child->epoch);
  } else {
    EXPECT_NE(again.peer, parent->device);  // or it moved elsewhere: never to the old port
  }
}

TEST(WiredLinkRate, IsTheFastestWiredNicWithANegotiatedSpeed) {
  auto nic = [](const Json& speed, bool wireless) {
    return Json{{"name", "eth"}, {"speed_mbps", speed}, {"wireless", wireless}};
  };
  const struct {
    Json nics;
    std::optional<double> rate;
  } cases[] = {
      {Json::array({nic(100, false)}), 12.5e6},
      {Json::array({nic(100, false), nic(1000, false)}), 125e6},  // a dock and the onboard port
      {Json::array({nic(100, false), nic(866, true)}), 12.5e6},   // Wi-Fi is not the deploy link
      {Json::array({nic(Json(), false)}), std::nullopt},          // no carrier: no speed
      {Json::array({nic(-1, false), nic("fast", false)}), std::nullopt},
      {Json::array({42, nic(10, false)}), 1.25e6},  // junk entries are skipped
      {Json::object(), std::nullopt},               // nics not a list
      {Json(), std::nullopt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(wired_link_rate({{"nics", c.nics}}), c.rate) << c.nics.dump();
  }
  EXPECT_EQ(wired_link_rate(Json::array()), std::nullopt);  // not an inventory at all
}

TEST_F(DeploymentsTest, NobodyIsPlacedBehindALaptopWhoseNicIsSlow) {
  start(true);
  // The first to report takes the server, and unmeasured, it would be taken for a 100 Mbit/s
  // laptop: the next would hang below it and crawl at its pace until its reports measured it.
  // Its inventory's 10 Mbit/s NIC says so from its first report: it takes a tenth of the
  // server's port, the others get the rest and chain below each other.
  Json slow_nic = test_inventory();
  slow_nic["nics"] = Json::array({{{"name", "enp0s25"}, {"speed_mbps", 10}, {"wireless", false}},
                                  {{"name", "wlp3s0"}, {"speed_mbps", 300}, {"wireless", true}}});
  auto slow = deploying("SN01", "10.0.0.1", 40001, slow_nic);
  auto b = deploying("SN02", "10.0.0.2", 40002);
  auto c = deploying("SN03", "10.0.0.3", 40003);
  for (int i = 0; i < 3; ++i) {
    const auto got = round({&slow, &b, &c}, 1);
    for (const auto& s : got) {
      EXPECT_FALSE(s.kind == Kind::peer && s.peer == slow.device)
          << "round " << i << ": " << s.reason;
    }
    EXPECT_NE(got[1].kind == Kind::server, got[2].kind == Kind::server) << "round " << i;
  }
}

TEST(RelayUrl, IsTheRequestAddressWithoutTheServersZone) {
  EXPECT_EQ(relay_url("10.0.0.7", 41234), "http://10.0.0.7:41234");
  EXPECT_EQ(relay_url("::ffff:10.0.0.7", 41234), "http://10.0.0.7:41234");
  EXPECT_EQ(relay_url("2001:db8::7", 41234), "http://[2001:db8::7]:41234");
  EXPECT_EQ(relay_url("fe80::7%eth0", 41234), "http://[fe80::7]:41234");
  EXPECT_EQ(relay_url("", 41234), "");
  EXPECT_EQ(relay_url("10.0.0.7", 0), "");
}

TEST_F(DeploymentsTest, AFailedSourceIsReplacedAndCountedAsAReplan) {
  start(true);
  auto a = deploying("SN01", "10.0.0.1", 40001);
  auto b = deploying("SN02", "10.0.0.2", 40002);
  auto c = deploying("SN03", "10.0.0.3", 40003);
  std::vector<SourceAssignment> got;
  for (int i = 0; i < 3; ++i) got = round({&a, &b, &c}, 5);
  Laptop* laptops[] = {&a, &b, &c};
  std::size_t child = 0;
  while (child < got.size() && got[child].kind != Kind::peer) ++child;
  ASSERT_LT(child, got.size()) << "no laptop fetches from a peer";
  const auto before = got[child];
  const int replans_before =
      deployments->delivery(laptops[child]->device, laptops[child]->step.id)->at("replans");

  const auto after = report(*laptops[child], 0, "peer",
                            protocol::SourceFailure{before.peer, "connection refused", false});
  EXPECT_FALSE(after.kind == Kind::peer && after.peer == before.peer) << after.reason;
  EXPECT_GT(after.epoch, before.epoch);
  EXPECT_EQ(deployments->stats().source_failures, 1u);
  EXPECT_EQ(deployments->delivery(laptops[child]->device, laptops[child]->step.id)->at("replans"),
            replans_before + 1);
  // The agent repeats the failure until it hears back: a repeat about a peer it no longer
  // uses is not counted again.
  report(*laptops[child], 0, "server",
         protocol::SourceFailure{before.peer, "connection refused", false});
  EXPECT_EQ(deployments->stats().source_failures, 1u);
}

TEST_F(DeploymentsTest, ARelayIsReleasedWhenNobodyNeedsItAnyMore) {
  start(true);
  // The laptop ahead finishes first and records its result.
  auto [first, second] = chained_pair();
  ASSERT_EQ(report(second).kind, Kind::peer);
  report(first, kChunks);
  ASSERT_TRUE(result(first.device, first.step));
  deployments->step_recorded(first.device, first.step.id, true);
  mono += 1;
  deployments->tick();  // its step is over, it relays: not a departure
  EXPECT_EQ(report(second).peer, first.device);
  const protocol::RelayReport relaying{"img-1", first.relay_port, kChunks, 12345};
  EXPECT_FALSE(deployments->relay(first.device, relaying, first.ip).release);  // still needed

  // A relay report from a laptop the server never planned: release.
  EXPECT_TRUE(deployments->relay(enrol("SN07"), relaying, "10.0.0.7").release);

  // The child finishes: every deploy of the image is done, so the relay may stop.
  report(second, kChunks);
  ASSERT_TRUE(result(second.device, second.step));
  deployments->step_recorded(second.device, second.step.id, true);
  EXPECT_TRUE(deployments->relay(first.device, relaying, first.ip).release);
  EXPECT_FALSE(deployments->assignment_of(first.device));  // out of the plan
  EXPECT_TRUE(deployments->relay(first.device, relaying, first.ip).release);
  EXPECT_TRUE(deployments->relay(second.device, relaying, second.ip).release);
  EXPECT_GE(deployments->stats().releases, 2u);
}

// A finished laptop relays for its finish step's relay_linger_s, then powers off: a child that
// would not be done by then goes to the server at once rather than being cut off.
class RelayLinger : public DeploymentsTest {
 protected:
  /// Two laptops chained; the one ahead finishes with `linger` (null: unset) in its finish
  /// step, 180 chunks (about 14 s at the port's rate) before the other. The other's source
  /// then.
  SourceAssignment child_source_after_parent_finished(const Json& linger) {
    start(true);
    auto [first, second] = chained_pair();
    EXPECT_EQ(report(second).peer, first.device);
    for (auto& s : storage.data.steps) {
      if (s.device_id == first.device && s.kind == StepKind::finish && !linger.is_null())
        s.params["relay_linger_s"] = linger;
    }
    report(first, kChunks);
    parent = first.device;
    return report(second);
  }
  std::int64_t parent = 0;
};

TEST_F(RelayLinger, AFinishStepThatLingers0sSendsTheChildToTheServerAtOnce) {
  EXPECT_EQ(child_source_after_parent_finished(0).kind, Kind::server);
}

TEST_F(RelayLinger, TheDefault60sOutlastsTheChild) {
  EXPECT_EQ(child_source_after_parent_finished(Json()).peer, parent);
}

TEST_F(RelayLinger, ALingerThatIsNoNumberCountsAsTheDefault) {
  EXPECT_EQ(child_source_after_parent_finished("soon").peer, parent);
}

TEST_F(DeploymentsTest, ARelayReportingAnotherImageIsReleased) {
  start(true);
  auto a = deploying("SN01", "10.0.0.1", 40001);
  auto b = deploying("SN02", "10.0.0.2", 40002);
  round({&a, &b}, 10);
  report(a, kChunks);
  ASSERT_TRUE(result(a.device, a.step));
  deployments->step_recorded(a.device, a.step.id, true);
  EXPECT_TRUE(deployments->relay(a.device, {"img-0", a.relay_port, kChunks, 0}, a.ip).release);
  // b is told another source with its next answer (a left the plan).
  const auto s = report(b);
  EXPECT_FALSE(s.kind == Kind::peer && s.peer == a.device);
}

TEST_F(DeploymentsTest, ACancelledDeployLeavesThePlanOnTheNextTick) {
  start(true);
  auto a = deploying("SN01", "10.0.0.1", 40001);
  auto b = deploying("SN02", "10.0.0.2", 40002);
  round({&a, &b}, 10);
  round({&a, &b}, 10);
  ASSERT_TRUE(deployments->assignment_of(a.device));
  ASSERT_TRUE(runs.cancel_device(a.device, "alice"));
  deployments->tick();
  EXPECT_FALSE(deployments->assignment_of(a.device));
  const auto s = report(b);
  EXPECT_FALSE(s.kind == Kind::peer && s.peer == a.device) << s.reason;
  EXPECT_EQ(deployments->stats().scheduler_errors, 0u);
}

TEST_F(DeploymentsTest, BytesBySourceReachTheResultTheViewsAndTheMetrics) {
  start(true);
  Views shown(ctx, live, &*deployments);
  auto a = deploying("SN01", "10.0.0.1", 40001);
  report(a, 0);
  report(a, 10, "server");  // 10 chunks of 1 MB from the server
  report(a, 4, "peer 9");   // 4 from a peer
  deployments->server_sent(7'000'000);
  auto summary = shown.device_summary(a.device);
  ASSERT_TRUE(summary);
  EXPECT_EQ((*summary)["current"]["source"]["kind"], "server");

  auto delivery = deployments->delivery(a.device, a.step.id);
  ASSERT_TRUE(delivery);
  EXPECT_EQ((*delivery)["bytes_from_server"], 10'000'000u);
  EXPECT_EQ((*delivery)["bytes_from_peers"], 4'000'000u);
  EXPECT_EQ((*delivery)["replans"], 0);
  EXPECT_FALSE(deployments->delivery(a.device, a.step.id + 1));

  const auto stats = deployments->stats();
  EXPECT_EQ(stats.bytes_from_server, 10'000'000u);
  EXPECT_EQ(stats.bytes_from_peers, 4'000'000u);
  EXPECT_EQ(stats.server_port_bytes, 7'000'000u);
  const std::string text = render_deploy_metrics(stats);
  EXPECT_NE(text.find("revive_deploy_bytes_total{source=\"server\"} 10000000\n"),
            std::string::npos);
  EXPECT_NE(text.find("revive_deploy_bytes_total{source=\"peer\"} 4000000\n"), std::string::npos);
  EXPECT_NE(text.find("revive_server_port_bytes_total 7000000\n"), std::string::npos);
  EXPECT_NE(text.find("revive_server_port_rate_bytes 12500000\n"), std::string::npos);
  EXPECT_NE(text.find("revive_deploy_laptops{source=\"server\"} 1\n"), std::string::npos);

  // Stored with the deploy result (as the result route does) and shown in the summary.
  Json stored = Json::object();
  stored["delivery"] = *delivery;
  ASSERT_TRUE(result(a.device, a.step, protocol::StepStatus::ok, stored));
  deployments->step_recorded(a.device, a.step.id, true);
  summary = shown.device_summary(a.device);
  ASSERT_TRUE(summary);
  EXPECT_EQ((*summary)["delivery"]["bytes_from_peers"], 4'000'000u);
}

}  // namespace
}  // namespace revive::server::test
