// Boot planning over fake repositories: live agent or local disk, the same decision for DHCP,
// iPXE and GRUB, single-boot tokens, and one boot_script event per decision and minute.
#include "domain/boot_planner.hpp"
#include "domain_fixture.hpp"

namespace revive::server::test {
namespace {

using protocol::StepKind;

class BootPlannerTest : public DomainTest {
 protected:
  BootPlannerTest() : planner(ctx, enrolment, intake, options()) {}
  BootPlannerOptions options() {
    BootPlannerOptions o;
    o.kernel_args = "console=ttyS0";
    o.live_image_missing = [this]() -> std::optional<std::string> {
      if (live_image) return std::nullopt;
      return std::string("no live image here");
    };
    return o;
  }
  void finish(std::int64_t dev) {
    for (;;) {
      auto n = next(dev);
      if (n.state != protocol::NextResponse::State::step) break;
      ASSERT_TRUE(result(dev, *n.step, protocol::StepStatus::ok,
                         n.step->kind == StepKind::wipe ? wipe_evidence() : Json::object()));
    }
  }

  bool live_image = true;
  BootPlanner planner;
};

TEST_F(BootPlannerTest, AnUnknownLaptopBootsTheLiveAgentWithASingleBootToken) {
  auto p = planner.plan("52:54:00:aa:bb:cc", "http://10.0.0.2:8080");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->local);
  ASSERT_TRUE(p->live);
  EXPECT_EQ(p->live->mac, "52:54:00:aa:bb:cc");
  EXPECT_EQ(p->live->kernel_args, "console=ttyS0");
  EXPECT_FALSE(p->live->token.empty());
  ASSERT_EQ(storage.data.boot_tokens.size(), 1u);
  EXPECT_EQ(storage.data.boot_tokens[0].mac, "52:54:00:aa:bb:cc");
  EXPECT_TRUE(planner.offer_network_boot("52:54:00:aa:bb:cc"));
  // The agent presents the token at enrolment: the boot is logged with its MAC.
  protocol::EnrolRequest r;
  r.identity = {"u", "SNB1", "m", "v"};
  r.macs = {"52:54:00:aa:bb:cc"};  // the token is bound to the MAC it was issued for
  r.boot_token = p->live->token;
  ASSERT_TRUE(enrolment.enrol(r));
  EXPECT_EQ(storage.events_of("network_boot").size(), 1u);
  r.boot_token = "forged";
  EXPECT_EQ(enrolment.enrol(r).error().code, Errc::unauthorized);
}

TEST_F(BootPlannerTest, AFinishedLaptopBootsItsDiskOnEveryPath) {
  const auto dev = enrol("SN21");  // MAC 52:54:00:00:00:21
  const std::string mac = "52:54:00:00:00:21";
  auto before = planner.plan(mac, "http://s");
  ASSERT_TRUE(before);
  EXPECT_FALSE(before->local);
  EXPECT_NE(before->reason.find("has work left (running)"), std::string::npos);
  finish(dev);
  auto after = planner.plan("52:54:00:00:00:21", "http://s");
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->local);
  EXPECT_FALSE(planner.offer_network_boot("52:54:00:00:00:21"));
  auto ipxe = planner.ipxe_script(mac, "http://s");
  ASSERT_TRUE(ipxe);
  EXPECT_NE(ipxe->find("sanboot"), std::string::npos);
  // A USB stick's init reads the marker (no workshop name, no language chosen: English).
  EXPECT_NE(ipxe->find("\n#revive: finished language=en workshop=\n"), std::string::npos) << *ipxe;
  ASSERT_TRUE(storage.settings().set("screen_language", "nl"));
  ASSERT_TRUE(storage.settings().set("workshop_name", "Repair Café Gent"));
  ipxe = planner.ipxe_script(mac, "http://s");
  ASSERT_TRUE(ipxe);
  EXPECT_NE(ipxe->find("\n#revive: finished language=nl workshop=Repair Café Gent\n"),
            std::string::npos)
      << *ipxe;
  auto grub = planner.grub_file("grub/revive-" + mac + ".cfg", "http://s");
  ASSERT_TRUE(grub);
  EXPECT_EQ(grub->find("linux "), std::string::npos);  // no kernel: the local disk
  EXPECT_TRUE(planner.grub_file("grub/grub.cfg", "http://s"));
  EXPECT_FALSE(planner.grub_file("undionly.kpxe", "http://s"));
}

TEST_F(BootPlannerTest, AMacSeenOnTwoLaptopsDecidesNothing) {
  const auto old_dev = enrol("SN31");
  now += 10;
  protocol::EnrolRequest r;
  r.identity = {"uuid-other", "OTHER", "m", "v"};
  r.macs = {"52:54:00:00:00:31"};  // a dock moved to another laptop
  auto newer = enrolment.enrol(r);
  ASSERT_TRUE(newer);
  finish(old_dev);
  auto p = planner.plan("52:54:00:00:00:31", "http://s");
  ASSERT_TRUE(p);
  // Not the finished laptop's disk (issue 15): the live agent's enrolment says who this is.
  EXPECT_FALSE(p->local);
  EXPECT_TRUE(p->live);
  EXPECT_NE(p->reason.find("several laptops reported it"), std::string::npos) << p->reason;
}

TEST_F(BootPlannerTest, WithoutALiveImageItSaysSoAndIssuesNoToken) {
  live_image = false;
  auto p = planner.plan("52:54:00:aa:bb:01", "http://s");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->local);
  EXPECT_FALSE(p->live);
  EXPECT_EQ(p->reason, "no live image here");
  EXPECT_TRUE(storage.data.boot_tokens.empty());
  auto ipxe = planner.ipxe_script("52:54:00:aa:bb:01", "http://s");
  ASSERT_TRUE(ipxe);
  EXPECT_NE(ipxe->find("no live image here"), std::string::npos);
}

TEST_F(BootPlannerTest, OneBootScriptEventPerDecisionAndMinute) {
  enrol("SN41");
  const std::string mac = "52:54:00:00:00:41";
  ASSERT_TRUE(planner.plan(mac, "http://s"));
  ASSERT_TRUE(planner.plan(mac, "http://s"));  // the firmware retried
  EXPECT_EQ(storage.events_of("boot_script").size(), 1u);
  now += 61;
  ASSERT_TRUE(planner.plan(mac, "http://s"));
  EXPECT_EQ(storage.events_of("boot_script").size(), 2u);
  EXPECT_EQ(storage.events_of("boot_script").back().data["script"], "live-agent");
}

}  // namespace
}  // namespace revive::server::test
