// workshop_sim: the real deployment scheduler against a fluid model of a workshop network
// (bench/sim). Prints, per scenario, the scheduled run (relay) and plain server unicast from
// the same run, against the physical bound. A planning tool: see bench/workshop_sim.sh.
//
//   workshop_sim [workshop|scale|all] [NAME]   (NAME: only scenarios whose name contains it;
//                                               WORKSHOP_SIM_TRACE=1 prints every plan change)

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sim/scenarios.hpp"
#include "sim/workshop_model.hpp"

namespace revive::bench {
namespace {

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto k = static_cast<std::size_t>(std::llround(q * static_cast<double>(v.size() - 1)));
  return v[std::min(k, v.size() - 1)];
}

struct Summary {
  double p50 = 0;
  double p90 = 0;
  double worst_own = 0;  // max over laptops of duration / own bound
};

Summary summarise(const Outcome& o) {
  std::vector<double> durations;
  Summary s;
  for (const LaptopOutcome& l : o.laptops) {
    if (l.died || l.finish < 0) continue;
    durations.push_back(l.duration());
    s.worst_own = std::max(s.worst_own, l.duration() / l.bound);
  }
  s.p50 = percentile(durations, 0.5);
  s.p90 = percentile(durations, 0.9);
  return s;
}

void print_header() {
  std::printf("%-22s %-8s %9s %8s %6s %8s %8s %9s %10s %7s %6s\n", "scenario", "mode", "makespan",
              "bound", "ratio", "p50", "p90", "worst/own", "server/img", "replans", "moves");
}

void print_row(const std::string& name, const char* mode, const Outcome& o, const ImageSpec& img) {
  const Summary s = summarise(o);
  std::printf("%-22s %-8s %8.1fs %7.1fs %6.2f %7.1fs %7.1fs %9.2f %10.2f %7llu %6llu%s\n",
              name.c_str(), mode, o.makespan, o.bound_makespan, o.makespan / o.bound_makespan,
              s.p50, s.p90, s.worst_own, o.server_bytes / img.stored_bytes,
              static_cast<unsigned long long>(o.replans), static_cast<unsigned long long>(o.moves),
              o.completed ? "" : "  (did not complete)");
}

ModelOptions options() {
  ModelOptions o;
  o.trace = std::getenv("WORKSHOP_SIM_TRACE") != nullptr;
  return o;
}

std::string g_only;  // run only scenarios whose name contains this

bool selected(const std::string& name) { return name.find(g_only) != std::string::npos; }

void run_pair(const std::string& name, const Scenario& s) {
  if (!selected(name)) return;
  print_row(name, "relay", run_model(s, Mode::scheduled, options()), s.image);
  print_row("", "unicast", run_model(s, Mode::unicast), s.image);
}

double t1_of(const Scenario& s) {
  Scenario one = s;
  one.laptops.resize(1);
  one.laptops[0].join_at = 0;
  one.laptops[0].dies_at.reset();
  return run_model(one, Mode::scheduled).makespan;
}

void workshop_section() {
  const ImageSpec img = image_20g();
  std::printf(
      "== Workshop, 1 GbE ports, server port = a laptop's; image %.0f GiB raw / %.0f GiB "
      "stored, %llu chunks of 4 MiB\n",
      img.raw_bytes / kGiB, img.stored_bytes / kGiB, static_cast<unsigned long long>(img.chunks));
  const double t1 =
      t1_of(workshop({.laptops = 1, .late_joiners = 0, .one_dies = false, .spread = false}));
  std::printf("T1 (one fast laptop alone, model): %.1f s; link bound %.1f s\n", t1,
              img.stored_bytes / kGbE);
  std::printf(
      "realistic: 50%% NVMe, 30%% SATA 300-520 MB/s, 20%% QLC (60-120 MB/s after a "
      "2-6 GiB cache), laptop 3 killed at 0.4 T1, late joiners at 0.5 T1\n");
  print_header();
  for (int n : {8, 40, 100}) {
    const int late = n == 8 ? 1 : n == 40 ? 3 : 5;
    run_pair("N=" + std::to_string(n) + " realistic",
             workshop({.laptops = n, .late_joiners = late, .one_dies = true}));
  }
  for (int n : {8, 40, 100}) {
    run_pair("N=" + std::to_string(n) + " equal, clean",
             workshop({.laptops = n, .late_joiners = 0, .one_dies = false, .spread = false}));
  }
  // One effect at a time, on fast disks with links as uneven as TCP's goodput (60-100% of the
  // port): the late joiners (join at 0.5 T1) and the dead laptop (killed at 0.4 T1) alone.
  for (int n : {8, 40, 100}) {
    const int late = n == 8 ? 1 : n == 40 ? 3 : 5;
    run_pair("N=" + std::to_string(n) + " uneven, late", workshop({.laptops = n,
                                                                   .late_joiners = late,
                                                                   .one_dies = false,
                                                                   .spread = false,
                                                                   .link_low = 0.6}));
    run_pair(
        "N=" + std::to_string(n) + " uneven, dies",
        workshop(
            {.laptops = n, .late_joiners = 0, .one_dies = true, .spread = false, .link_low = 0.6}));
  }
  run_pair(
      "N=40 realistic, 10G",
      workshop({.laptops = 40, .late_joiners = 3, .one_dies = true, .server_port = 10 * kGbE}));
  std::printf("\n");
}

// Per-case figures the namespace benchmark's targets are stated in.
void scale_case(int n, ScaleModelCase c, double t1, double clean_makespan) {
  const Scenario s = scale_model(n, c);
  if (!selected(s.name)) return;
  if (c == ScaleModelCase::goodput) {
    // Every port is slower: its own T1 and its own "clean run" are the yardsticks.
    t1 = t1_of(s);
    clean_makespan = t1;
  }
  const Outcome relay = run_model(s, Mode::scheduled, options());
  print_row(s.name, "relay", relay, s.image);
  print_row("", "unicast", run_model(s, Mode::unicast), s.image);
  double others = 0;
  std::string notes;
  char buf[160];
  for (const LaptopOutcome& l : relay.laptops) {
    if (l.label == "fast") others = std::max(others, l.finish);
    if (l.label == "slow link") {
      std::snprintf(buf, sizeof buf, "; slow laptop %.2fx its own bound", l.duration() / l.bound);
      notes += buf;
    }
    if (l.label == "late") {
      std::snprintf(buf, sizeof buf, "; late joiner %.2fx T1 after joining", l.duration() / t1);
      notes += buf;
    }
  }
  std::snprintf(buf, sizeof buf, "%22s   others' makespan %.2fx T1 (%.2fx the clean run's)", "",
                others / t1, clean_makespan > 0 ? others / clean_makespan : 1.0);
  std::printf("%s%s\n", buf, notes.c_str());
}

void scale_section() {
  const ImageSpec img = image_135m();
  std::printf(
      "== Scale model of bench/workshop.sh: 100 Mbit/s ports, %.0f MB stored / %.0f MB "
      "raw (%llu chunks)\n",
      img.stored_bytes / 1e6, img.raw_bytes / 1e6, static_cast<unsigned long long>(img.chunks));
  const double t1 = t1_of(scale_model(1, ScaleModelCase::clean));
  std::printf("T1 (one laptop alone, model): %.2f s; link bound %.2f s\n", t1,
              img.stored_bytes / kFastEthernet);
  print_header();
  for (int n : {4, 8}) {
    const double clean = run_model(scale_model(n, ScaleModelCase::clean), Mode::scheduled).makespan;
    for (ScaleModelCase c :
         {ScaleModelCase::clean, ScaleModelCase::slow_link, ScaleModelCase::late_joiner,
          ScaleModelCase::relay_killed, ScaleModelCase::all_three, ScaleModelCase::goodput}) {
      scale_case(n, c, t1, clean);
    }
  }
  std::printf("\n");
}

}  // namespace
}  // namespace revive::bench

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "all";
  if (argc > 2) revive::bench::g_only = argv[2];
  if (what != "all" && what != "workshop" && what != "scale") {
    std::fprintf(stderr, "usage: workshop_sim [workshop|scale|all]\n");
    return 2;
  }
  std::printf(
      "columns: makespan and bound in seconds from the first join; ratio = makespan / "
      "bound (bound: max over laptops of start + max(stored/link, raw/disk, "
      "raw/zstd)); p50/p90 of per-laptop durations; worst/own = the largest duration / "
      "that laptop's own bound; server/img = bytes the server's port sent / stored "
      "image\n\n");
  if (what != "scale") revive::bench::workshop_section();
  if (what != "workshop") revive::bench::scale_section();
  return 0;
}
