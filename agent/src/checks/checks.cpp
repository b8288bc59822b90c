#include "revive/agent/checks/checks.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <set>
#include <thread>
#include <vector>

#include "revive/agent/checks/check_screens.hpp"
#include "revive/agent/checks/keyboard_layout.hpp"
#include "revive/agent/power.hpp"

namespace revive::agent::checks {

namespace {

using Clock = InputSource::Clock;
using std::chrono::milliseconds;
// The countdown on screen moves once a second: no wait is longer than that.
constexpr milliseconds kTick{1000};

bool stopped(const CheckIo& io) { return io.stop != nullptr && io.stop->load(); }

void show(const CheckIo& io, const screen::Frame& f) {
  if (io.screen != nullptr) io.screen->show_custom(f);
}

screen::Size size_of(const CheckIo& io) {
  return io.screen != nullptr ? io.screen->size() : screen::Size{};
}

int seconds_until(Clock::time_point now, Clock::time_point end) {
  return static_cast<int>(std::max<long long>(0, std::chrono::ceil<seconds>(end - now).count()));
}

constexpr ReasonWording kReasons[] = {
    {"no_keyboard", "no keyboard found"},
    {"no_key_pressed", "no key was pressed in time"},
    {"no_keyboard_to_answer", "no keyboard found to answer with"},
    {"volunteer_saw_fault", "the volunteer saw a fault"},
    {"no_answer", "nobody answered in time"},
    {"no_tone_player", "no way to play a tone"},
    {"tone_not_played", "no tone could be played: {why}"},
    {"no_system", "no system to watch"},
    {"no_usb_stick", "no USB stick was plugged in"},
    {"no_battery", "the laptop has no battery"},
    {"on_charger", "on the charger: unplug it to measure the battery"},
    {"no_charge_reported", "the battery does not report its charge"},
    {"charger_plugged_in", "the charger was plugged in during the measurement"},
    {"charge_no_longer_reported", "the battery stopped reporting its charge"},
    {"charge_did_not_drop",
     "the charge did not drop in {seconds} s (the firmware updates it rarely): measure for longer"},
    {"runtime_short", "a full charge lasts {minutes} min under load ({watts} W), {wanted} wanted"},
};

// A part's result with its reason: in English and by code (check_reason_wordings()).
Json with_reason(Json result, std::string_view code, Json vars = Json::object()) {
  result["reason"] = worded(kReasons, code, vars);
  result["reason_code"] = code;
  result["reason_vars"] = std::move(vars);
  return result;
}

Json not_checked(std::string_view code, Json vars = Json::object()) {
  return with_reason({{"status", "not_checked"}}, code, std::move(vars));
}

enum class Answer { yes, no, none };

// A yes/no answer by key within `limit`, the question drawn with its countdown.
Answer ask(const CheckIo& io, const std::string& title, const std::string& question,
           seconds limit) {
  std::set<int> yes, no = {keys::kN};
  for (const char* c = io.words->yes_letters; *c != '\0'; ++c) yes.insert(letter_code(*c));
  const auto end = io.input->now() + limit;
  while (!stopped(io)) {
    const auto now = io.input->now();
    if (now >= end) break;
    const screen::Size sz = size_of(io);
    show(io, draw_question(title, question, io.words->answer_keys, *io.words,
                           seconds_until(now, end), sz.cols, sz.rows));
    auto key =
        io.input->next_key(std::min(kTick, std::chrono::duration_cast<milliseconds>(end - now)));
    if (!key || !key->pressed) continue;
    if (yes.contains(key->code)) return Answer::yes;
    if (no.contains(key->code)) return Answer::no;
  }
  return Answer::none;
}

// Whether a sysfs input device (sys/class/input/inputN) is a touchpad: its name says so, or it
// is a pointer reporting absolute positions (INPUT_PROP_POINTER with ABS_X).
bool touchpad_device(const MachineRoot& root, const std::string& dir) {
  std::string name = root.line(dir + "/name");
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name.find("touchpad") != std::string::npos || name.find("trackpad") != std::string::npos)
    return true;
  const std::string props = root.line(dir + "/properties");
  const std::string abs = root.line(dir + "/capabilities/abs");
  return !props.empty() && (std::strtoul(props.c_str(), nullptr, 16) & 1UL) != 0 && !abs.empty() &&
         abs != "0";
}

// USB devices now present with a mass-storage interface (class 08), by their sysfs name.
std::set<std::string> usb_sticks(const MachineRoot& root) {
  std::set<std::string> out;
  for (const auto& d : root.list("sys/bus/usb/devices")) {
    // Interfaces are "1-2:1.0"; the device is the part before the colon.
    const auto colon = d.find(':');
    if (colon == std::string::npos) continue;
    if (root.line("sys/bus/usb/devices/" + d + "/bInterfaceClass") == "08")
      out.insert(d.substr(0, colon));
  }
  return out;
}

constexpr std::array<const char*, 8> kParts = {"keyboard", "screen",   "speakers", "usb",
                                               "webcam",   "touchpad", "wifi",     "battery"};
constexpr std::size_t kDefaultParts = 7;  // all but the battery

// Every core busy until `how_long` has passed or the stop flag is set.
void burn_every_core(std::chrono::seconds how_long, const std::atomic<bool>* stop) {
  const auto end = Clock::now() + how_long;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < cores; ++i) {
    threads.emplace_back([end, stop] {
      volatile double x = 1.0;
      while (Clock::now() < end && (stop == nullptr || !stop->load())) {
        for (int k = 0; k < 100000; ++k) x = std::sqrt(x + k);
      }
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace

std::span<const char* const> check_part_names() { return kParts; }
std::span<const ReasonWording> check_reason_wordings() { return kReasons; }

Json keyboard_check(const CheckIo& io, seconds limit, seconds idle,
                    const std::vector<std::string>& skip) {
  if (io.input == nullptr) return not_checked("no_keyboard");
  std::set<int> skipped, pressed;
  for (const auto& label : skip) {
    if (const Key* k = key_labelled(label)) skipped.insert(k->code);
  }
  std::size_t wanted = 0;
  for (const auto& k : laptop_layout()) wanted += skipped.contains(k.code) ? 0 : 1;
  const auto end = io.input->now() + limit;
  std::optional<Clock::time_point> last_press;
  while (!stopped(io) && pressed.size() < wanted) {
    const auto now = io.input->now();
    if (now >= end || (last_press && now - *last_press >= idle)) break;
    const screen::Size sz = size_of(io);
    show(io, draw_keyboard(pressed, skipped, *io.words, seconds_until(now, end), sz.cols, sz.rows));
    auto wait = std::chrono::duration_cast<milliseconds>(end - now);
    if (last_press)
      wait = std::min(wait, std::chrono::duration_cast<milliseconds>(*last_press + idle - now));
    auto key = io.input->next_key(std::min(kTick, wait));
    if (!key || !key->pressed) continue;
    last_press = io.input->now();
    const bool on_layout = std::any_of(laptop_layout().begin(), laptop_layout().end(),
                                       [&](const Key& k) { return k.code == key->code; });
    if (on_layout && !skipped.contains(key->code)) pressed.insert(key->code);
  }
  if (pressed.empty()) return not_checked("no_key_pressed");
  Json missing = Json::array();
  for (const auto& k : laptop_layout()) {
    if (!skipped.contains(k.code) && !pressed.contains(k.code)) missing.push_back(k.label);
  }
  return {{"status", missing.empty() ? "passed" : "failed"},
          {"missing", missing},
          {"pressed", pressed.size()},
          {"skipped", skip}};
}

Json screen_check(const CheckIo& io, seconds per_colour, seconds answer) {
  if (io.input == nullptr) return not_checked("no_keyboard_to_answer");
  using screen::Colour;
  for (Colour c : {Colour::red, Colour::green, Colour::blue, Colour::white, Colour::black}) {
    const screen::Size sz = size_of(io);
    show(io, draw_colour(c, *io.words, sz.cols, sz.rows));
    const auto end = io.input->now() + per_colour;
    while (!stopped(io) && io.input->now() < end) {
      auto key =
          io.input->next_key(std::chrono::duration_cast<milliseconds>(end - io.input->now()));
      if (key && key->pressed) break;
    }
  }
  switch (ask(io, io.words->screen_title, io.words->screen_question, answer)) {
    case Answer::yes:
      return {{"status", "passed"}};
    case Answer::no:
      return with_reason({{"status", "failed"}}, "volunteer_saw_fault");
    case Answer::none:
      break;
  }
  return not_checked("no_answer");
}

Json speaker_check(const CheckIo& io, seconds answer) {
  if (io.input == nullptr) return not_checked("no_keyboard_to_answer");
  if (io.exec == nullptr) return not_checked("no_tone_player");
  Json out = {{"status", "passed"}};
  Json failed = Json::array();
  const std::pair<const char*, const char*> sides[] = {{"left", "1"}, {"right", "2"}};
  for (const auto& [side, channel] : sides) {
    // speaker-test (alsa-utils): one sine sweep on one channel of the default card.
    auto played = io.exec->run(
        {"speaker-test", "-t", "sine", "-f", "440", "-c", "2", "-s", channel, "-l", "1"}, 15);
    if (!played || played->exit_code != 0) {
      const std::string why = !played ? played.error().message : played->err;
      return not_checked("tone_not_played", {{"why", why.substr(0, 200)}});
    }
    const char* question =
        std::string_view(side) == "left" ? io.words->speaker_left : io.words->speaker_right;
    switch (ask(io, io.words->speaker_title, question, answer)) {
      case Answer::yes:
        out[side] = "heard";
        break;
      case Answer::no:
        out[side] = "not heard";
        failed.push_back(side);
        break;
      case Answer::none:
        return not_checked("no_answer");
    }
  }
  if (!failed.empty()) {
    out["status"] = "failed";
    out["not_heard"] = failed;
  }
  return out;
}

Json usb_check(const CheckIo& io, seconds limit) {
  if (io.root == nullptr) return not_checked("no_system");
  const std::set<std::string> before = usb_sticks(*io.root);
  std::set<std::string> seen;
  // Without a keyboard the wait still works (the input's clock); with one, a key ends it early.
  const auto now_of = [&] { return io.input ? io.input->now() : Clock::now(); };
  const auto end = now_of() + limit;
  while (!stopped(io) && now_of() < end) {
    for (const auto& s : usb_sticks(*io.root)) {
      if (!before.contains(s)) seen.insert(s);
    }
    if (io.screen != nullptr) {
      const screen::Size sz = size_of(io);
      std::string ports;
      for (const auto& s : seen) ports += (ports.empty() ? "" : "  ") + s;
      show(io, draw_question(io.words->usb_title, io.words->usb_hint, "USB: " + ports, *io.words,
                             seconds_until(now_of(), end), sz.cols, sz.rows));
    }
    if (io.input) {
      auto key = io.input->next_key(kTick);
      if (key && key->pressed && key->code == keys::kEnter && !seen.empty()) break;
    } else {
      std::this_thread::sleep_for(kTick);
    }
  }
  if (seen.empty()) return not_checked("no_usb_stick");
  return {{"status", "passed"},
          {"ports", Json(std::vector<std::string>(seen.begin(), seen.end()))}};
}

Json webcam_check(const MachineRoot& root) {
  Json names = Json::array();
  for (const auto& v : root.list("sys/class/video4linux")) {
    const std::string name = root.line("sys/class/video4linux/" + v + "/name");
    names.push_back(name.empty() ? v : name);
  }
  // Laptop webcams are USB video devices (interface class 0e): seen without their driver.
  if (names.empty()) {
    for (const auto& d : root.list("sys/bus/usb/devices")) {
      const auto colon = d.find(':');
      if (colon == std::string::npos) continue;
      if (root.line("sys/bus/usb/devices/" + d + "/bInterfaceClass") != "0e") continue;
      const std::string product =
          root.line("sys/bus/usb/devices/" + d.substr(0, colon) + "/product");
      const std::string name = product.empty() ? "USB video " + d.substr(0, colon) : product;
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  if (names.empty()) return {{"status", "not_found"}};
  return {{"status", "found"}, {"devices", names}};
}

Json touchpad_check(const MachineRoot& root) {
  for (const auto& d : root.list("sys/class/input")) {
    if (!d.starts_with("input")) continue;
    if (touchpad_device(root, "sys/class/input/" + d))
      return {{"status", "found"}, {"name", root.line("sys/class/input/" + d + "/name")}};
  }
  return {{"status", "not_found"}};
}

Json wifi_check(const MachineRoot& root) {
  Json names = Json::array();
  for (const auto& ifc : root.list("sys/class/net")) {
    if (root.exists("sys/class/net/" + ifc + "/wireless") ||
        root.exists("sys/class/net/" + ifc + "/phy80211"))
      names.push_back(ifc);
  }
  // A card whose driver or firmware did not load (the live image carries no Wi-Fi firmware)
  // has no interface, but is still a PCI network controller of the "other" kind (0x0280),
  // which is what laptop Wi-Fi cards are.
  if (names.empty()) {
    for (const auto& phy : root.list("sys/class/ieee80211")) names.push_back(phy);
  }
  if (names.empty()) {
    for (const auto& d : root.list("sys/bus/pci/devices")) {
      if (root.line("sys/bus/pci/devices/" + d + "/class").starts_with("0x0280"))
        names.push_back("pci " + d);
    }
  }
  if (names.empty()) return {{"status", "not_found"}};
  return {{"status", "found"}, {"interfaces", names}};
}

// The battery under load: the charge it loses while every core is busy, as watts, and how long
// a full charge lasts at that drain. Only on battery power (a charger online feeds the load).
Json battery_check(const CheckIo& io, seconds duration, double min_runtime_min) {
  const PowerState before = read_power(*io.root);
  if (!before.has_battery) return not_checked("no_battery");
  if (before.on_charger) return not_checked("on_charger");
  if (!before.energy_wh || !before.full_wh || *before.full_wh <= 0)
    return not_checked("no_charge_reported");
  const auto now = [&] { return io.input != nullptr ? io.input->now() : Clock::now(); };
  const auto started = now();
  if (io.cpu_load) {
    io.cpu_load(duration);
  } else {
    burn_every_core(duration, io.stop);
  }
  const double hours = std::chrono::duration<double>(now() - started).count() / 3600;
  const PowerState after = read_power(*io.root);
  if (after.on_charger) return not_checked("charger_plugged_in");
  if (!after.energy_wh || hours <= 0) return not_checked("charge_no_longer_reported");
  const double lost = *before.energy_wh - *after.energy_wh;
  if (lost <= 0) {
    return not_checked("charge_did_not_drop", {{"seconds", duration.count()}});
  }
  const double drain_w = lost / hours;
  const double full_min = *before.full_wh / drain_w * 60;
  Json r = {{"drain_w", std::round(drain_w * 10) / 10},
            {"runtime_full_min", std::lround(full_min)},
            {"remaining_min", std::lround(*after.energy_wh / drain_w * 60)},
            {"seconds", std::lround(hours * 3600)},
            {"full_wh", std::round(*before.full_wh * 10) / 10}};
  if (full_min >= min_runtime_min) {
    r["status"] = "passed";
  } else {
    r["status"] = "failed";
    r = with_reason(std::move(r), "runtime_short",
                    {{"minutes", std::lround(full_min)},
                     {"watts", std::lround(drain_w)},
                     {"wanted", std::lround(min_runtime_min)}});
  }
  return r;
}

Result<Json> run_checks(const CheckIo& io, const Json& params,
                        const std::function<void(const std::string&, int, int)>& starting) {
  std::vector<std::string> parts(kParts.begin(), kParts.begin() + kDefaultParts);
  if (params.contains("parts")) parts = params["parts"].get<std::vector<std::string>>();
  for (const auto& p : parts) {
    if (std::find_if(kParts.begin(), kParts.end(), [&](const char* k) { return p == k; }) ==
        kParts.end())
      return make_error(Errc::invalid_input,
                        "unknown check \"" + p +
                            "\" (known: keyboard, screen, speakers, usb, webcam, touchpad, wifi, "
                            "battery)");
  }
  const auto secs = [&](const char* key, int fallback) {
    return seconds(std::max(1, params.value(key, fallback)));
  };
  Json out = Json::object();
  int index = 0;
  for (const auto& p : parts) {
    if (stopped(io)) break;
    if (starting) starting(p, index++, static_cast<int>(parts.size()));
    if (p == "keyboard") {
      out[p] = keyboard_check(io, secs("keyboard_s", 180), secs("keyboard_idle_s", 20),
                              params.value("keyboard_skip", std::vector<std::string>()));
    } else if (p == "screen") {
      out[p] = screen_check(io, secs("colour_s", 4), secs("answer_s", 30));
    } else if (p == "speakers") {
      out[p] = speaker_check(io, secs("answer_s", 30));
    } else if (p == "usb") {
      out[p] = usb_check(io, secs("usb_s", 60));
    } else if (p == "webcam") {
      out[p] = webcam_check(*io.root);
    } else if (p == "touchpad") {
      out[p] = touchpad_check(*io.root);
    } else if (p == "wifi") {
      out[p] = wifi_check(*io.root);
    } else if (p == "battery") {
      out[p] =
          battery_check(io, secs("battery_s", 60), params.value("battery_min_runtime_min", 60.0));
    }
  }
  if (io.screen != nullptr) io.screen->resume();
  return Json{{"parts", out}};
}

}  // namespace revive::agent::checks
