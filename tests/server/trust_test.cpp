// Trust on the workshop network (issue 15): one regression test per finding the server closes,
// each of which failed on the code before the fix. Fake repositories, a hand-driven clock and,
// unlike the other domain tests, a server that is NOT in demo mode.
//  1 forged evidence:       ASecondHostCannotEnrolAsALiveLaptopNorGetAPassedCertificate
//                           (+ BootTokensAreSingleUseShortLivedAndBoundToTheirMac,
//                              SimulatedEvidenceIsCertifiedOnlyInDemoMode,
//                              EvidenceMustAccountForEveryDriveTheJobNamed)
//  2 accidental wipes:      AnUnknownMachineOutsideIntakeGetsAHarmlessAnswer
//                           (+ IntakeAdmitsOnlyWhatTheOperatorListed,
//                              TheFirstDestructiveStepOnANewMachineCarriesACountdown)
//  6 identity collisions:   PlaceholderFirmwareIdentitiesDoNotMergeTwoLaptops
//                           (+ AMacOnAUsbAdapterOrOnTwoLaptopsDoesNotDecideTheBoot)
//  7 certificates:          TheLaptopCertificateFailsForStorageNotAccountedFor,
//                           ASupersededCertificateCannotBeValidatedAgain,
//                           TheSecondPersonIsNotAnOperatorWhoHandledTheLaptop
#include "certificate.hpp"
#include "domain/boot_planner.hpp"
#include "domain/certificates.hpp"
#include "domain/identity.hpp"
#include "domain/step_params.hpp"
#include "domain/tokens.hpp"
#include "domain_fixture.hpp"

namespace revive::server::test {
namespace {

using protocol::NextResponse;
using protocol::StepKind;
using protocol::StepStatus;

constexpr const char* kMacA = "52:54:00:00:0a:01";

class TrustTest : public DomainTest {
 protected:
  TrustTest()
      : strict_intake(ctx, /*demo=*/false),
        strict(ctx, strict_intake, EnrolmentOptions{}),
        planner(ctx, strict, strict_intake, planner_options()) {
    EXPECT_TRUE(catalog.create_batch("bzk-2026", "Ministry", std::nullopt, std::nullopt));
  }
  static BootPlannerOptions planner_options() {
    BootPlannerOptions o;
    o.live_image_missing = [] { return std::optional<std::string>(); };
    return o;
  }
  void open_intake(std::vector<std::string> macs = {}, std::vector<std::string> vendors = {}) {
    auto r =
        strict_intake.open({"bzk-2026", now + 3600, std::move(macs), std::move(vendors)}, "alice");
    ASSERT_TRUE(r) << r.error().message;
  }
  /// The boot token a network boot of `mac` carries (the planner's live-agent script).
  std::string boot_token(const std::string& mac) {
    auto p = planner.plan(mac, "http://10.0.0.2:8080");
    EXPECT_TRUE(p && p->live) << (p ? p->reason : p.error().message);
    return p && p->live ? p->live->token : std::string();
  }
  static protocol::EnrolRequest laptop(const std::string& token, const std::string& mac = kMacA) {
    protocol::EnrolRequest r;
    r.identity = {"4C4C4544-0042-3510-8052-B4C04F4E4E32", "5R2NNN2", "Latitude 7490", "Dell Inc."};
    r.macs = {mac};
    r.inventory = test_inventory();
    r.boot_token = token;
    return r;
  }

  Intake strict_intake;
  Enrolment strict;
  BootPlanner planner;
};

// ---- finding 1: forged evidence, signed certificates

TEST_F(TrustTest, ASecondHostCannotEnrolAsALiveLaptopNorGetAPassedCertificate) {
  open_intake();
  auto real = strict.enrol(laptop(boot_token(kMacA)));
  ASSERT_TRUE(real) << real.error().message;
  const auto dev = real->device_id;
  ASSERT_TRUE(strict.authenticate(real->agent_token));

  // Everything the attacker can read: the sticker, DHCP, the public boot script.
  auto forged = laptop("");
  EXPECT_EQ(strict.enrol(forged).error().code, Errc::unauthorized);  // no credential
  forged.boot_token = boot_token(kMacA);  // GET /boot/<mac>.ipxe is public
  auto takeover = strict.enrol(forged);
  ASSERT_FALSE(takeover);
  EXPECT_EQ(takeover.error().code, Errc::conflict);
  // The real agent keeps working, and the operator sees what happened.
  EXPECT_EQ(*strict.authenticate(real->agent_token), dev);
  EXPECT_EQ(storage.events_of("enrolment-refused").size(), 1u);
  EXPECT_EQ(storage.data.devices[0].flag, std::optional<std::string>(kIdentityInUse));

  // Even with the laptop's own agent token, invented evidence earns no "passed".
  auto wipe = advance_to(dev, StepKind::wipe);
  Json invented = wipe_evidence();
  invented["drives"][0]["drive"]["serial"] = "INVENTED";
  invented["drives"][0]["drive"]["simulated"] = true;
  ASSERT_TRUE(result(dev, wipe, StepStatus::ok, invented));
  EXPECT_EQ(storage.data.results.back().status, StepStatus::failed);
  for (const auto& c : storage.data.certificates) EXPECT_NE(c.result, "passed") << c.kind;
  ASSERT_FALSE(storage.data.certificates.empty());
  EXPECT_EQ(storage.data.certificates.back().kind, "laptop");
}

TEST_F(TrustTest, BootTokensAreSingleUseShortLivedAndBoundToTheirMac) {
  open_intake();
  auto other_mac = laptop(boot_token("52:54:00:00:0a:99"));
  EXPECT_EQ(strict.enrol(other_mac).error().code, Errc::unauthorized);  // issued for another MAC
  auto late = laptop(boot_token(kMacA));
  now += 16L * 60;
  EXPECT_EQ(strict.enrol(late).error().code, Errc::unauthorized);  // ran out
  auto once = laptop(boot_token(kMacA));
  auto first = strict.enrol(once);
  ASSERT_TRUE(first) << first.error().message;
  // Within its 15 minutes, the same token does not let another machine in (the check the
  // expiry below would otherwise hide): a host that read it from the boot script is refused.
  auto copied = laptop(once.boot_token);
  copied.identity = {"8B3C71E2-5A4F-11E8-9C2D-FA7AE01BBEBC", "PF1R2D7X", "ThinkPad T480", "LENOVO"};
  copied.inventory = test_inventory("S-COPIED");
  auto reused = strict.enrol(copied);
  ASSERT_FALSE(reused);
  EXPECT_EQ(reused.error().code, Errc::unauthorized);
  EXPECT_NE(reused.error().message.find("used already"), std::string::npos)
      << reused.error().message;
  now += 3600;  // the agent went quiet: not alive any more
  EXPECT_EQ(strict.enrol(once).error().code, Errc::unauthorized);  // used already
  EXPECT_TRUE(strict.enrol(laptop(boot_token(kMacA))));            // a fresh network boot gets in
}

TEST_F(TrustTest, SimulatedEvidenceIsCertifiedOnlyInDemoMode) {
  CertificateFacts facts;
  facts.job_drives = Json::array({{{"name", "nvme0n1"}, {"serial", "S1"}, {"model", "TEST SSD"}}});
  facts.inventory = test_inventory();
  Json simulated = wipe_evidence();
  simulated["drives"][0]["drive"]["simulated"] = true;
  auto draw = [](double) { return false; };
  auto when = [] { return std::string("2026-11-22T10:00:00Z"); };
  auto sign = [](const Json&) { return std::string("signed"); };
  Certifier production(sign, draw, when, /*accept_simulated=*/false);
  Certifier demo(sign, draw, when, /*accept_simulated=*/true);
  auto refused = production.assess(facts, {}, simulated, StepStatus::ok, "");
  EXPECT_EQ(refused.status, StepStatus::failed);
  EXPECT_EQ(refused.laptop["result"], "failed");
  EXPECT_NE(refused.error.find("demo mode"), std::string::npos) << refused.error;
  auto accepted = demo.assess(facts, {}, simulated, StepStatus::ok, "");
  EXPECT_EQ(accepted.status, StepStatus::ok) << accepted.error;
  EXPECT_EQ(accepted.laptop["result"], "passed");
}

TEST_F(TrustTest, EvidenceMustAccountForEveryDriveTheJobNamed) {
  CertificateFacts facts;
  facts.job_drives = Json::array({{{"name", "nvme0n1"}, {"serial", "S1"}, {"model", "TEST SSD"}},
                                  {{"name", "sda"}, {"serial", "S2"}, {"model", "HDD"}}});
  Certifier c([](const Json&) { return std::string("signed"); }, [](double) { return false; },
              [] { return std::string("2026-11-22T10:00:00Z"); });
  auto one_of_two = c.assess(facts, {}, wipe_evidence(), StepStatus::ok, "");
  EXPECT_EQ(one_of_two.status, StepStatus::failed);
  EXPECT_EQ(one_of_two.laptop["result"], "failed");
  EXPECT_NE(one_of_two.laptop["reason"].get<std::string>().find("sda"), std::string::npos)
      << one_of_two.laptop.dump();
}

// ---- finding 2: accidental wipes

TEST_F(TrustTest, AnUnknownMachineOutsideIntakeGetsAHarmlessAnswer) {
  const std::string staff_pc = "52:54:00:00:0b:01";
  EXPECT_FALSE(planner.offer_network_boot(staff_pc));
  auto p = planner.plan(staff_pc, "http://s");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->refused);
  EXPECT_FALSE(p->live);
  auto script = planner.ipxe_script(staff_pc, "http://s");
  ASSERT_TRUE(script);
  EXPECT_NE(script->find("not in intake"), std::string::npos) << *script;
  EXPECT_EQ(script->find("kernel"), std::string::npos);
  EXPECT_TRUE(storage.data.boot_tokens.empty());
  EXPECT_TRUE(storage.data.devices.empty());
  auto st = strict_intake.status();
  ASSERT_TRUE(st);
  EXPECT_EQ((*st)["turned_away"][0]["mac"], staff_pc);
  // An intake that ran out is no intake.
  open_intake();
  EXPECT_TRUE(planner.offer_network_boot(staff_pc));
  now += 3601;
  EXPECT_FALSE(planner.offer_network_boot(staff_pc));
}

TEST_F(TrustTest, IntakeAdmitsOnlyWhatTheOperatorListed) {
  open_intake({kMacA}, {"Dell"});
  EXPECT_FALSE(planner.offer_network_boot("52:54:00:00:0b:02"));
  auto in = strict.enrol(laptop(boot_token(kMacA)));
  ASSERT_TRUE(in) << in.error().message;
  ASSERT_EQ(storage.data.devices.size(), 1u);
  EXPECT_EQ(storage.data.devices[0].intake_operator, std::optional<std::string>("alice"));
  EXPECT_TRUE(storage.data.devices[0].batch_id.has_value());
  // A vendor the intake does not list: the boot goes ahead (the vendor is not known yet), the
  // enrolment is refused.
  open_intake({}, {"Lenovo"});
  auto r = laptop(boot_token("52:54:00:00:0b:03"), "52:54:00:00:0b:03");
  r.identity.serial = "OTHER1";
  r.identity.system_uuid = "";
  r.inventory = test_inventory("S-OTHER");
  EXPECT_EQ(strict.enrol(r).error().code, Errc::forbidden);
  ASSERT_TRUE(strict_intake.close("alice"));
  EXPECT_FALSE(planner.offer_network_boot("52:54:00:00:0b:04"));
  EXPECT_TRUE(planner.offer_network_boot(kMacA));  // a known laptop keeps its run
}

TEST_F(TrustTest, TheFirstDestructiveStepOnANewMachineCarriesACountdown) {
  const auto dev = enrol("CD01");
  auto wipe = advance_to(dev, StepKind::wipe);
  ASSERT_TRUE(wipe.params.contains("confirm")) << wipe.params.dump();
  EXPECT_EQ(wipe.params["confirm"]["countdown_s"], kConfirmCountdownS);
  EXPECT_TRUE(wipe.params["confirm"]["workshop"].is_string());
  ASSERT_TRUE(result(dev, wipe, StepStatus::ok, wipe_evidence()));
  EXPECT_TRUE(needs_confirmation(StepKind::deploy, false));
  EXPECT_FALSE(needs_confirmation(StepKind::deploy, true));  // something was done before
  EXPECT_FALSE(needs_confirmation(StepKind::inventory, false));
}

// ---- finding 6: identity collisions

TEST_F(TrustTest, PlaceholderFirmwareIdentitiesDoNotMergeTwoLaptops) {
  for (const char* u :
       {"03000200-0400-0500-0006-000700080009", "00000000-0000-0000-0000-000000000000",
        "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"})
    EXPECT_TRUE(placeholder_uuid(u)) << u;
  EXPECT_FALSE(placeholder_uuid("4C4C4544-0042-3510-8052-B4C04F4E4E32"));
  EXPECT_TRUE(placeholder_serial("To be filled by O.E.M."));

  auto cheap = [](const std::string& disk) {
    protocol::EnrolRequest r;
    r.identity = {"03000200-0400-0500-0006-000700080009", "To be filled by O.E.M.", "Stream 11",
                  "HP"};
    r.macs = {"52:54:00:00:0c:" + disk.substr(disk.size() - 2)};
    r.inventory = test_inventory(disk);
    return r;
  };
  auto first = enrolment.enrol(cheap("DISK-01"));
  ASSERT_TRUE(first) << first.error().message;
  auto second = enrolment.enrol(cheap("DISK-02"));
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_NE(first->device_id, second->device_id);
  EXPECT_TRUE(second->new_device);
  // Nothing but placeholders: nothing tells it from others.
  auto nothing = cheap("DISK-03");
  nothing.inventory = Json();
  EXPECT_EQ(enrolment.enrol(nothing).error().code, Errc::invalid_input);
}

TEST_F(TrustTest, AMacOnAUsbAdapterOrOnTwoLaptopsDoesNotDecideTheBoot) {
  const std::string dongle = "00:e0:4c:68:00:01";
  Json inv = test_inventory();
  inv["nics"] = Json::array({{{"mac", dongle}, {"driver", "r8152"}}});
  protocol::EnrolRequest r;
  r.identity = {"4C4C4544-0042-3510-8052-B4C04F4E4E32", "5R2NNN2", "Latitude 7490", "Dell Inc."};
  r.macs = {dongle};
  r.inventory = inv;
  auto done = enrolment.enrol(r);
  ASSERT_TRUE(done);
  for (;;) {  // the first laptop finishes its workflow
    auto n = next(done->device_id);
    if (n.state != NextResponse::State::step) break;
    ASSERT_TRUE(result(done->device_id, *n.step, StepStatus::ok,
                       n.step->kind == StepKind::wipe ? wipe_evidence() : Json::object()));
  }
  // The next laptop brings the same dongle: it is not sent to its own disk unwiped.
  auto p = planner.plan(dongle, "http://s");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->local) << p->reason;
  EXPECT_TRUE(p->live);
  EXPECT_TRUE(planner.offer_network_boot(dongle));
}

// ---- finding 7: certificates

TEST_F(TrustTest, TheLaptopCertificateFailsForStorageNotAccountedFor) {
  Json inv = test_inventory();
  inv["disks"].push_back({{"name", "sdb"},
                          {"model", "USB DISK"},
                          {"serial", "U1"},
                          {"size_bytes", 8 << 20},
                          {"transport", "USB"},
                          {"removable", true}});
  inv["storage_controllers"].push_back(
      {{"pci", "0000:00:17.0"}, {"class", "0x010601"}, {"driver", ""}});
  const auto dev = enrol("SC01", inv);
  auto wipe = advance_to(dev, StepKind::wipe);
  ASSERT_TRUE(result(dev, wipe, StepStatus::ok, wipe_evidence()));
  EXPECT_EQ(storage.data.results.back().status, StepStatus::failed);
  const auto& laptop_cert = storage.data.certificates.back();
  EXPECT_EQ(laptop_cert.kind, "laptop");
  EXPECT_EQ(laptop_cert.result, "failed");
  // What the certificate lists: the erased drive, the USB stick and the blind controller.
  CertificateFacts facts;
  facts.inventory = inv;
  facts.job_drives = wipe.params["drives"];
  Certifier c([](const Json&) { return std::string("signed"); }, [](double) { return false; },
              [] { return std::string("2026-11-22T10:00:00Z"); });
  auto a = c.assess(facts, {}, wipe_evidence(), StepStatus::ok, "");
  const Json storage_list = a.laptop["storage"];
  ASSERT_EQ(storage_list.size(), 4u) << a.laptop.dump();
  EXPECT_EQ(storage_list[0]["status"], "erased");
  EXPECT_EQ(storage_list[1]["name"], "sdb");
  EXPECT_EQ(storage_list[1]["status"], "not erased");
  EXPECT_EQ(storage_list[3]["status"], "not accounted for");
  EXPECT_NE(a.laptop["reason"].get<std::string>().find("sdb"), std::string::npos);
}

class SignedCertificatesTest : public TrustTest {
 protected:
  SignedCertificatesTest()
      : key(KeyPair::generate()),
        signing([this](const Json& body) { return cert::sign(body, key); },
                [](double) { return false; }, [] { return std::string("2026-11-22T10:00:00Z"); }),
        certs(ctx, signing, {key.public_key()}) {}

  /// A passed laptop certificate of a laptop taken in through alice's intake.
  std::string passed_certificate() {
    open_intake();
    auto in = strict.enrol(laptop(boot_token(kMacA)));
    EXPECT_TRUE(in) << in.error().message;
    auto facts = certificate_facts(storage, in->device_id);
    EXPECT_TRUE(facts);
    facts->job_drives = Json::array({{{"name", "nvme0n1"}, {"serial", "S1"}}});
    auto a = signing.assess(*facts, {"Workshop", "bob", 0}, wipe_evidence(), StepStatus::ok, "");
    EXPECT_EQ(a.laptop["result"], "passed") << a.laptop.dump();
    EXPECT_EQ(a.laptop["operator"], "alice");  // the authenticated one, not the setting
    const NewCertificate c = signing.sign_one(a.laptop);
    EXPECT_TRUE(storage.certificates().add(
        {c.cert_id, in->device_id, std::nullopt, c.kind, c.result, c.body, now, std::nullopt}));
    return c.cert_id;
  }

  KeyPair key;
  Certifier signing;
  Certificates certs;
};

TEST_F(SignedCertificatesTest, ASupersededCertificateCannotBeValidatedAgain) {
  const std::string id = passed_certificate();
  auto disputed = certs.revalidate(id, "carol", "disputed", "found a partition table");
  ASSERT_TRUE(disputed) << disputed.error().message;
  EXPECT_EQ(disputed->result, "failed");
  auto overridden = certs.revalidate(id, "dave", "confirmed", "");
  ASSERT_FALSE(overridden);
  EXPECT_EQ(overridden.error().code, Errc::conflict);
  EXPECT_NE(overridden.error().message.find(disputed->cert_id), std::string::npos);
}

TEST_F(SignedCertificatesTest, TheSecondPersonIsNotAnOperatorWhoHandledTheLaptop) {
  ASSERT_TRUE(catalog.set_setting("certificate_operator", "bob"));
  const std::string id = passed_certificate();
  auto self_check = certs.revalidate(id, "alice", "confirmed", "");
  ASSERT_FALSE(self_check);
  EXPECT_EQ(self_check.error().code, Errc::invalid_input);
  EXPECT_NE(self_check.error().message.find("second person"), std::string::npos);
  EXPECT_TRUE(certs.revalidate(id, "bob", "confirmed", ""));  // bob never touched it
}

}  // namespace
}  // namespace revive::server::test
