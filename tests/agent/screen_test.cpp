// The laptop's own screen: the pure model (what is drawn for each state, in each language and
// console size), the ANSI bytes, and the StatusScreen the runner drives (rate and time left
// from progress, a missing cable told from a missing server).

#include <gtest/gtest.h>

#include <fstream>

#include "fake_screen.hpp"
#include "revive/agent/screen/status_model.hpp"
#include "revive/agent/screen/status_screen.hpp"
#include "temp_dir.hpp"

namespace revive::agent::screen {
namespace {

using protocol::StepKind;
using test::FakeDisplay;

// Strings is a table of C strings and nothing else, so a test can walk it whole.
constexpr std::size_t kStringCount = sizeof(Strings) / sizeof(const char*);
static_assert(sizeof(Strings) % sizeof(const char*) == 0);

TEST(ScreenStrings, EveryLanguageSetsEveryString) {
  for (Lang lang : {Lang::en, Lang::nl, Lang::fr}) {
    const Strings& s = strings_for(lang);
    const auto* all = reinterpret_cast<const char* const*>(&s);
    for (std::size_t i = 0; i < kStringCount; ++i) {
      ASSERT_NE(all[i], nullptr) << "language " << static_cast<int>(lang) << " string " << i;
      EXPECT_GT(std::string_view(all[i]).size(), 0u) << static_cast<int>(lang) << " " << i;
    }
    for (auto kind : protocol::kStepKinds) {
      EXPECT_STRNE(step_title(s, kind), "");
      EXPECT_STRNE(step_failure(s, kind), "");
    }
  }
  EXPECT_EQ(lang_from("nl"), Lang::nl);
  EXPECT_EQ(lang_from("fr"), Lang::fr);
  EXPECT_EQ(lang_from("de"), Lang::en);
}

ScreenStatus deploying() {
  ScreenStatus s;
  s.phase = Phase::working;
  s.workshop = "Repair Café Gent";
  s.label = "RC-0042";
  s.server = "http://10.0.0.1:8080";
  s.step = StepKind::deploy;
  s.stage = "writing chunks";
  s.fraction = 0.42;
  s.rate_bytes_s = 85e6;
  s.eta_s = 130;
  return s;
}

// Every span lies inside the frame: nothing wraps onto the next row on a real console.
void expect_inside(const Frame& f) {
  for (const auto& s : f.spans) {
    EXPECT_GE(s.row, 0);
    EXPECT_LT(s.row, f.rows);
    EXPECT_GE(s.col, 0);
    EXPECT_LE(s.col + cells(s.text), f.cols) << s.text;
  }
}

TEST(StatusModel, WorkingShowsWhoWhereWhatAndHowFarAtEverySize) {
  for (auto [cols, rows] : {std::pair{80, 25}, std::pair{120, 33}, std::pair{60, 16}}) {
    const Frame f = draw_status(deploying(), strings_for(Lang::en), cols, rows);
    SCOPED_TRACE(std::to_string(cols) + "x" + std::to_string(rows));
    expect_inside(f);
    EXPECT_EQ(f.background, Colour::black);
    EXPECT_TRUE(f.shows("Repair Café Gent"));
    EXPECT_TRUE(f.shows("[ RC-0042 ]"));
    EXPECT_TRUE(f.shows("Installing the new system"));
    EXPECT_TRUE(f.shows("writing chunks"));
    EXPECT_TRUE(f.shows(" 42%"));
    EXPECT_TRUE(f.shows("85 MB/s   3 min left"));
    EXPECT_TRUE(f.shows("server http://10.0.0.1:8080"));
    // The bar: 42% of its cells green, across most of the screen.
    int green = 0, blue = 0;
    for (const auto& s : f.spans) {
      if (s.bg == Colour::green) green += cells(s.text);
      if (s.bg == Colour::blue) blue += cells(s.text);
    }
    EXPECT_GT(green + blue, (cols - 12) * 1 - 1);
    EXPECT_NEAR(static_cast<double>(green) / (green + blue), 0.42, 0.02);
  }
  // The label sits in the top right corner, the workshop in the top left.
  const Frame f = draw_status(deploying(), strings_for(Lang::en), 80, 25);
  EXPECT_EQ(f.text()[0], " Repair Café Gent" + std::string(51, ' ') + "[ RC-0042 ]");
}

TEST(StatusModel, DoneIsGreenWithTheGradeAndWhatHappensNext) {
  ScreenStatus s = deploying();
  s.phase = Phase::done;
  s.grade = "B";
  s.finish_action = "reboot";
  s.label = "\u2026R2D7X";  // the wall's label: the console fonts have no ellipsis
  const Frame nl = draw_status(s, strings_for(Lang::nl), 80, 25);
  EXPECT_EQ(nl.background, Colour::green);
  EXPECT_TRUE(nl.shows("[ ...R2D7X ]"));
  // Bright white on green: readable from across the table.
  EXPECT_EQ(nl.find("KLAAR")->fg, Colour::white);
  EXPECT_TRUE(nl.find("KLAAR")->bold);
  EXPECT_TRUE(nl.shows("KLAAR"));
  EXPECT_TRUE(nl.shows("Klasse B"));
  EXPECT_TRUE(nl.shows("Herstarten in het nieuwe systeem."));
  s.finish_action = "poweroff";
  EXPECT_TRUE(draw_status(s, strings_for(Lang::en), 80, 25).shows("will now power off"));
  EXPECT_FALSE(nl.shows("USB")) << "booted from the network: no stick to take out";
}

// A stick left in boots the laptop into Revive again, not into its new system: the end asks
// for it, at every console size, above what happens next.
TEST(StatusModel, DoneOnAStickLaptopAsksForTheStick) {
  ScreenStatus s = deploying();
  s.phase = Phase::done;
  s.grade = "A";
  s.finish_action = "reboot";
  s.boot_stick = true;
  for (auto [cols, rows] : {std::pair{80, 25}, {40, 12}, {120, 33}}) {
    const Frame f = draw_status(s, strings_for(Lang::fr), cols, rows);
    expect_inside(f);
    ASSERT_TRUE(f.shows("RETIREZ LA CLÉ USB")) << cols << "x" << rows;
    EXPECT_TRUE(f.find("RETIREZ LA CLÉ USB")->bold);
    EXPECT_TRUE(f.shows("Classe A"));
    ASSERT_TRUE(f.shows("Redémarrage dans le nouveau système."));
    EXPECT_LT(f.find("RETIREZ")->row, f.find("Redémarrage")->row);
  }
}

TEST(StatusModel, AFailureIsRedInPlainWordsWithTheStepToTake) {
  ScreenStatus s = deploying();
  s.phase = Phase::needs_volunteer;
  s.step = StepKind::wipe;
  s.detail = "ATA SECURITY ERASE UNIT /dev/sda: the drive is frozen";
  const Frame fr = draw_status(s, strings_for(Lang::fr), 80, 25);
  expect_inside(fr);
  EXPECT_EQ(fr.background, Colour::red);
  EXPECT_TRUE(fr.shows("UN BÉNÉVOLE EST NÉCESSAIRE"));
  EXPECT_TRUE(fr.shows("Le disque n'a pas pu être effacé de façon sûre."));
  EXPECT_TRUE(fr.shows("Demandez à un bénévole"));
  // The agent's own words, wrapped, after the plain ones.
  std::string all;
  for (const auto& line : fr.text()) all += line + "\n";
  EXPECT_NE(all.find("frozen"), std::string::npos) << all;
}

TEST(StatusModel, NetworkTroubleIsShownAsSuch) {
  ScreenStatus s;
  s.phase = Phase::no_cable;
  s.server = "http://10.0.0.1:8080";
  const Frame cable = draw_status(s, strings_for(Lang::en), 80, 25);
  EXPECT_EQ(cable.background, Colour::yellow);
  EXPECT_TRUE(cable.shows("No network cable?"));
  s.phase = Phase::looking_for_server;
  EXPECT_TRUE(draw_status(s, strings_for(Lang::nl), 80, 25).shows("Op zoek naar de server..."));
}

// With no cable, the cards the kernel sees, so a volunteer can say what the image lacks; as
// many as fit above the footer, on the smallest console too.
TEST(StatusModel, NoCableListsTheNetworkCardsFound) {
  ScreenStatus s;
  s.phase = Phase::no_cable;
  s.server = "http://10.0.0.1:8080";
  EXPECT_TRUE(draw_status(s, strings_for(Lang::en), 80, 25)
                  .shows("No network card found: use a USB network adapter."));
  s.network_devices = {"PCI 10ec:8168 no driver", "USB 0bda:8153 r8152 enx00e04c680001"};
  const Frame f = draw_status(s, strings_for(Lang::fr), 80, 25);
  EXPECT_TRUE(f.shows("Cartes réseau trouvées")) << f.text()[14];
  EXPECT_TRUE(f.shows("PCI 10ec:8168 no driver"));
  EXPECT_TRUE(f.shows("USB 0bda:8153 r8152 enx00e04c680001"));
  for (int i = 0; i < 30; ++i) s.network_devices.emplace_back("USB 0bda:8153 no driver");
  const Frame small = draw_status(s, strings_for(Lang::en), 80, 25);
  EXPECT_TRUE(small.shows("...")) << "more than fit";
  EXPECT_TRUE(small.shows("server http://10.0.0.1:8080")) << "the footer stays";
}

TEST(StatusModel, FiguresReadAsAPersonSaysThem) {
  EXPECT_EQ(format_rate(85e6), "85 MB/s");
  EXPECT_EQ(format_rate(1.25e9), "1.2 GB/s");
  EXPECT_EQ(format_rate(5e5), "500 kB/s");
  EXPECT_EQ(format_duration(44.2), "45 s");
  EXPECT_EQ(format_duration(61), "2 min");
  EXPECT_EQ(format_duration(3900), "1 h 05 min");
}

TEST(Ansi, PlacesAndColoursEverySpan) {
  Frame f;
  f.background = Colour::red;
  f.put(2, 5, "hé", Colour::white, Colour::red, true);
  const std::string a = to_ansi(f);
  EXPECT_TRUE(a.starts_with("\x1b[?25l\x1b[0m\x1b[41m\x1b[2J\x1b[H"));
  EXPECT_NE(a.find("\x1b[3;6H\x1b[0;1;37;41mhé"), std::string::npos);
}

TEST(FrameText, CutsAtTheEdgeWithoutSplittingACharacter) {
  Frame f;
  f.cols = 10;
  f.rows = 2;
  f.put(0, 7, "éééé", Colour::white, Colour::black);
  EXPECT_EQ(f.text()[0], "       ééé");
  f.put(5, 0, "off the screen", Colour::white, Colour::black);
  EXPECT_EQ(f.spans.size(), 1u);
}

class StatusScreenTest : public ::testing::Test {
 protected:
  test::TempDir dir_;
  MachineRoot root_{dir_.path()};
  FakeDisplay display_;
  std::chrono::steady_clock::time_point now_{};
  StatusScreen screen_{display_, root_, "http://10.0.0.1:8080", [this] { return now_; }};

  void link(const std::string& ifc, const std::string& carrier) {
    std::filesystem::create_directories(dir_ / "sys/class/net" / ifc);
    std::ofstream(dir_ / "sys/class/net" / ifc / "carrier") << carrier << "\n";
  }
};

TEST_F(StatusScreenTest, RateAndTimeLeftComeFromSuccessiveProgress) {
  screen_.enrolled("Repair Café", "…4D7X", "nl");
  screen_.step_started(StepKind::deploy);
  const double total = 1e9;
  for (int i = 0; i <= 10; ++i) {
    screen_.progress("writing", i * 50e6, total);  // 50 MB a second
    now_ += std::chrono::seconds(1);
  }
  const ScreenStatus s = screen_.status();
  EXPECT_NEAR(s.rate_bytes_s, 50e6, 1e3);
  EXPECT_NEAR(s.eta_s, 10, 0.01);  // 500 MB left
  EXPECT_TRUE(display_.last().shows("50 MB/s   10 s te gaan")) << display_.last().text()[15];
  EXPECT_TRUE(display_.last().shows("Nieuw systeem installeren"));
  // A step counting stages (the test step's 0..3) shows no rate.
  screen_.step_started(StepKind::test);
  screen_.progress("CPU test", 0, 3);
  now_ += std::chrono::seconds(1);
  screen_.progress("memory test", 1, 3);
  EXPECT_EQ(screen_.status().rate_bytes_s, 0);
}

// A deploy's stage names its source, and the server assigns one after the first report
// ("from the server" -> "from the server: first in the plan"). The rate used to start again at
// every new name, so a deploy showed its first figure only on its third report (two seconds)
// and lost it at every re-plan; a short deploy never showed one.
TEST_F(StatusScreenTest, RateAndTimeLeftShowAfterOneSecondOfBytesWhateverTheStageSays) {
  std::vector<std::string> lines;
  screen_.log_to([&](const std::string& l) { lines.push_back(l); });
  screen_.enrolled("Atelier Liège", "…R2D7X", "fr");
  screen_.step_started(StepKind::deploy);
  const double total = 2.9e9;
  screen_.progress("writing tiny (from the server)", 0, total);
  EXPECT_EQ(screen_.status().rate_bytes_s, 0) << "one report is no rate";
  EXPECT_FALSE(display_.last().shows("restant"));
  now_ += std::chrono::seconds(1);
  screen_.progress("writing tiny (from the server: first in the plan)", 12.3e6, total);
  ScreenStatus s = screen_.status();
  EXPECT_NEAR(s.rate_bytes_s, 12.3e6, 1);
  EXPECT_NEAR(s.eta_s, (total - 12.3e6) / 12.3e6, 0.01);
  EXPECT_TRUE(display_.last().shows("12 MB/s   4 min restant")) << display_.last().text()[15];
  // The serial console is told once per step (the network-boot test waits for it).
  EXPECT_EQ(lines.back(), "screen: 12 MB/s   4 min restant");
  // A re-plan to a peer keeps the figure; only bytes that start again (another drive) drop it.
  now_ += std::chrono::seconds(1);
  screen_.progress("writing tiny (from peer 3 (http://10.0.0.7:9000))", 24.6e6, total);
  EXPECT_NEAR(screen_.status().rate_bytes_s, 12.3e6, 1);
  EXPECT_EQ(lines.size(), 2u) << "the figures are logged once";
  now_ += std::chrono::seconds(1);
  screen_.progress("sdb: overwrite", 1e6, 64e9);
  EXPECT_EQ(screen_.status().rate_bytes_s, 0);
  EXPECT_LT(screen_.status().eta_s, 0);
}

// The serial console cannot show the screen; the plain log says what its top row reads, so
// the network-boot test can see the workshop's name reach it.
TEST_F(StatusScreenTest, EnrolmentLogsTheScreensTopRowAsDrawn) {
  std::vector<std::string> lines;
  screen_.log_to([&](const std::string& l) { lines.push_back(l); });
  screen_.enrolled("Repair Café Gent", "…4D7X", "nl");
  EXPECT_EQ(lines, std::vector<std::string>{"screen: Repair Café Gent | [ ...4D7X ]"});
  EXPECT_EQ(display_.last().text()[0].substr(0, 18), " Repair Café Gent");
  screen_.enrolled("", "SN77", "en");  // an unnamed workshop: the product's name
  EXPECT_EQ(lines.back(), "screen: Revive | [ SN77 ]");
}

TEST_F(StatusScreenTest, ALaptopBootedFromAStickIsAskedForItAtTheEnd) {
  std::filesystem::create_directories(dir_ / "proc");
  std::ofstream(dir_ / "proc/cmdline")
      << "revive.agent=1 revive.stick=0f6e3e7c-1b2a-4c1d-9d84-5a3e2b1c0d9e quiet\n";
  StatusScreen stick(display_, root_, "http://10.0.0.1:8080", [this] { return now_; });
  stick.step_started(StepKind::finish);
  stick.finishing("poweroff");
  stick.done();
  EXPECT_TRUE(display_.last().shows("TAKE THE USB STICK OUT"));
  EXPECT_TRUE(display_.last().shows("This laptop will now power off."));
  EXPECT_FALSE(display_.last().shows("already"));
  // Booted again through a USB network adapter (the server booted the live agent, not knowing
  // the adapter's MAC as this laptop's): done before any step ran.
  StatusScreen again(display_, root_, "http://10.0.0.1:8080", [this] { return now_; });
  again.enrolled("Repair Café Gent", "SN77", "en");
  again.done();
  EXPECT_EQ(again.status().phase, Phase::already_done);
  EXPECT_EQ(display_.last().background, Colour::green);
  EXPECT_TRUE(display_.last().shows("This laptop has already finished its workflow."));
  EXPECT_TRUE(display_.last().shows("TAKE THE USB STICK OUT"));
  screen_.step_started(StepKind::finish);
  screen_.done();  // built before the command line named a stick: a network-booted laptop
  EXPECT_FALSE(display_.last().shows("USB"));
}

// Init on a stick found the laptop done (the server's boot script said so): a full green
// screen in the workshop's language says so and asks for the stick; the log gets its words.
TEST(AlreadyDone, AFullScreenInTheWorkshopsWordsAsksForTheStick) {
  FakeDisplay display;
  display.screen_size = {100, 30};
  const auto lines = show_already_done(display, "nl", "Repair Café Gent");
  ASSERT_EQ(display.frames.size(), 1u);
  const Frame& f = display.last();
  EXPECT_EQ(f.background, Colour::green);
  EXPECT_EQ(f.cols, 100);
  expect_inside(f);
  for (const char* words : {"Repair Café Gent", "KLAAR", "Deze laptop heeft zijn werk al afgerond.",
                            "HAAL DE USB-STICK ERUIT", "Deze laptop gaat nu uit."})
    EXPECT_TRUE(f.shows(words)) << words;
  EXPECT_EQ(lines, (std::vector<std::string>{"screen: Repair Café Gent", "screen: KLAAR",
                                             "screen: Deze laptop heeft zijn werk al afgerond.",
                                             "screen: HAAL DE USB-STICK ERUIT",
                                             "screen: Deze laptop gaat nu uit."}));
  // No workshop named, an unknown language: the product's name, in English.
  show_already_done(display, "de", "");
  EXPECT_TRUE(display.last().shows("Revive"));
  EXPECT_TRUE(display.last().shows("TAKE THE USB STICK OUT"));
}

TEST_F(StatusScreenTest, ProgressRedrawsAtMostTwiceASecond) {
  screen_.step_started(StepKind::wipe);
  const std::size_t before = display_.frames.size();
  for (int i = 0; i < 20; ++i) {
    screen_.progress("overwrite", i, 20);
    now_ += std::chrono::milliseconds(100);
  }
  EXPECT_EQ(display_.frames.size() - before, 3u);  // at 0.5, 1.0 and 1.5 s (the start drew at 0)
}

TEST_F(StatusScreenTest, AMissingCableIsToldFromAMissingServer) {
  screen_.step_started(StepKind::deploy);
  link("lo", "1");
  link("wlp2s0", "1");
  link("enp0s31f6", "0");
  screen_.server_unreachable();
  EXPECT_EQ(screen_.status().phase, Phase::no_cable);
  EXPECT_TRUE(display_.last().shows("No network cable?"));
  EXPECT_TRUE(screen_.status().network_devices.empty()) << "this tree has no PCI or USB bus";
  // A card turns up (its driver loaded late): the screen says so on the next try.
  std::filesystem::create_directories(dir_ / "sys/bus/pci/devices/0000:02:00.0");
  std::ofstream(dir_ / "sys/bus/pci/devices/0000:02:00.0/class") << "0x020000\n";
  std::ofstream(dir_ / "sys/bus/pci/devices/0000:02:00.0/vendor") << "0x10ec\n";
  std::ofstream(dir_ / "sys/bus/pci/devices/0000:02:00.0/device") << "0x8168\n";
  screen_.server_unreachable();
  EXPECT_TRUE(display_.last().shows("PCI 10ec:8168 no driver"));
  link("enp0s31f6", "1");
  screen_.server_unreachable();
  EXPECT_EQ(screen_.status().phase, Phase::looking_for_server);
  EXPECT_TRUE(display_.last().shows("Looking for the server..."));
  screen_.server_reachable();
  EXPECT_EQ(screen_.status().phase, Phase::working);
  EXPECT_TRUE(display_.last().shows("Installing the new system"));
}

TEST_F(StatusScreenTest, AFailedStepStaysRedWhileTheServerWaits) {
  screen_.step_started(StepKind::wipe);
  screen_.step_failed(StepKind::wipe, "no drive answered");
  screen_.waiting("step wipe failed: an operator decides");
  EXPECT_EQ(screen_.status().phase, Phase::needs_volunteer);
  EXPECT_EQ(display_.last().background, Colour::red);
}

TEST_F(StatusScreenTest, ARefusedJobAsksForAVolunteer) {
  screen_.enrolled("", "X1", "nl");
  screen_.job_refused("signed by another key");
  EXPECT_EQ(display_.last().background, Colour::red);
  EXPECT_TRUE(display_.last().shows("Deze laptop vertrouwt de gevonden server niet."));
}

TEST_F(StatusScreenTest, ACustomScreenHoldsUntilResumed) {
  screen_.step_started(StepKind::checks);
  Frame mine;
  mine.background = Colour::magenta;
  screen_.show_custom(mine);
  screen_.waiting("x");  // kept, not drawn
  EXPECT_EQ(display_.last().background, Colour::magenta);
  screen_.resume();
  EXPECT_TRUE(display_.last().shows("Waiting for a volunteer's decision"));
}

}  // namespace
}  // namespace revive::agent::screen
