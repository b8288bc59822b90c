#include "scenarios.hpp"

#include <string>

namespace revive::bench {

namespace {

// splitmix64 again: scenario draws must not depend on the standard library's distributions.
class Draw {
 public:
  explicit Draw(std::uint64_t seed) : state_(seed) {}
  double uniform(double lo, double hi) {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    const double u = static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
    return lo + (hi - lo) * u;
  }

 private:
  std::uint64_t state_;
};

LaptopSpec fast_laptop(LaptopId id, double link, double disk) {
  LaptopSpec l;
  l.id = id;
  l.label = "fast";
  l.link = link;
  l.disk = DiskModel{disk, 0, disk};
  return l;
}

LaptopSpec drawn_laptop(LaptopId id, Draw& d) {
  LaptopSpec l = fast_laptop(id, kGbE, 0);
  const double kind = d.uniform(0, 1);
  if (kind < 0.5) {
    l.label = "nvme";
    const double r = d.uniform(900e6, 2000e6);
    l.disk = DiskModel{r, 0, r};
  } else if (kind < 0.8) {
    l.label = "sata";
    const double r = d.uniform(300e6, 520e6);
    l.disk = DiskModel{r, 0, r};
  } else {
    l.label = "qlc";
    l.disk = DiskModel{450e6, d.uniform(2, 6) * kGiB, d.uniform(60e6, 120e6)};
  }
  return l;
}

}  // namespace

ImageSpec image_20g() { return ImageSpec{5120, 7 * kGiB, 20 * kGiB}; }

ImageSpec image_135m() { return ImageSpec{96, 135e6, 96 * 4 * kMiB}; }

Scenario workshop(const WorkshopParams& p) {
  Scenario s;
  s.name = "N=" + std::to_string(p.laptops);
  s.server_port = p.server_port;
  s.laptop_port = kGbE;
  s.image = image_20g();
  Draw d(p.seed);
  const double t1 = s.image.stored_bytes / kGbE;
  for (int i = 1; i <= p.laptops; ++i) {
    LaptopSpec l = p.spread ? drawn_laptop(i, d) : fast_laptop(i, kGbE, 1500e6);
    if (p.link_low < 1) l.link = kGbE * d.uniform(p.link_low, 1);
    l.join_at = d.uniform(0, p.spread ? 3 : 0);
    if (i > p.laptops - p.late_joiners) {
      l.join_at = 0.5 * t1;
      l.label += " late";
    }
    s.laptops.push_back(l);
  }
  if (p.one_dies && p.laptops >= 3) {
    // Laptop 3 made fast so that it relays in the middle of a chain when it dies.
    s.laptops[2].disk = DiskModel{1500e6, 0, 1500e6};
    s.laptops[2].label = "nvme dies";
    s.laptops[2].dies_at = 0.4 * t1;
  }
  return s;
}

const char* to_string(ScaleModelCase c) {
  switch (c) {
    case ScaleModelCase::clean:
      return "clean";
    case ScaleModelCase::slow_link:
      return "one 30 Mbit/s";
    case ScaleModelCase::late_joiner:
      return "late joiner";
    case ScaleModelCase::relay_killed:
      return "relay killed";
    case ScaleModelCase::all_three:
      return "all three";
    case ScaleModelCase::goodput:
      return "80% goodput";
  }
  return "?";
}

Scenario scale_model(int laptops, ScaleModelCase c) {
  Scenario s;
  s.name = "N=" + std::to_string(laptops) + " " + to_string(c);
  s.server_port = kFastEthernet;
  s.laptop_port = kFastEthernet;
  s.image = image_135m();
  for (int i = 1; i <= laptops; ++i) s.laptops.push_back(fast_laptop(i, kFastEthernet, 1e9));
  const double t1 = s.image.stored_bytes / kFastEthernet;
  const bool all = c == ScaleModelCase::all_three;
  if (c == ScaleModelCase::slow_link || all) {
    // The first laptop, as bench/workshop.sh's default --victim 1: measured first, it heads
    // the chain until its report says it is slow (the last laptop would be at the tail anyway).
    s.laptops.front().link = 30e6 / 8;
    s.laptops.front().label = "slow link";
  }
  if (c == ScaleModelCase::late_joiner || all) {
    LaptopSpec& l = s.laptops[all ? laptops - 2 : laptops - 1];
    l.join_at = 0.5 * t1;
    l.label = "late";
  }
  if (c == ScaleModelCase::relay_killed || all) {
    s.laptops[1].dies_at = 0.4 * t1;
    s.laptops[1].label = "killed";
  }
  if (c == ScaleModelCase::goodput) {
    // As bench/workshop.sh measured at 50 Mbit/s: 5 MB/s through a port shaped to 6.25.
    s.server_sends = 0.8 * kFastEthernet;
    for (LaptopSpec& l : s.laptops) l.link = 0.8 * kFastEthernet;
  }
  return s;
}

}  // namespace revive::bench
