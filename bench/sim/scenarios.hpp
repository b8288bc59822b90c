#pragma once
// The workshops the harness predicts: a realistic 1 GbE workshop at N = 8, 40, 100, and the
// scale model the namespace benchmark builds (N = 4 and 8 at 100 Mbit/s), so its measured
// figures can be set against the model's.

#include <cstdint>

#include "workshop_model.hpp"

namespace revive::bench {

inline constexpr double kGiB = 1024.0 * 1024 * 1024;
inline constexpr double kMiB = 1024.0 * 1024;
inline constexpr double kGbE = 1e9 / 8;           ///< 1 GbE port, bytes/s
inline constexpr double kFastEthernet = 1e8 / 8;  ///< 100 Mbit/s

/// 20 GiB of raw data in 4 MiB chunks, 7 GiB stored (zstd).
ImageSpec image_20g();
/// The benchmark's image: 135 MB stored, ~400 MB raw (zstd ratio ~2.96 on OS files).
ImageSpec image_135m();

struct WorkshopParams {
  int laptops = 8;
  int late_joiners = 1;       ///< join when the others are about half done
  bool one_dies = true;       ///< a relaying laptop is killed at 40% of T1
  bool spread = true;         ///< NVMe / SATA / QLC mix; false: every disk fast
  double server_port = kGbE;  ///< the server's port (a laptop's is kGbE)
  /// Below 1: each laptop's link is drawn in [link_low, 1] x its port. TCP's goodput through
  /// equal ports is uneven (bench/workshop.sh at 50 Mbit/s measured 3-5.6 MB/s of 6.25), so
  /// the scheduler sees laptops "slower" than others and re-places them.
  double link_low = 1.0;
  std::uint64_t seed = 20240601;
};

/// A 1 GbE workshop: the server's port as fast as a laptop's unless told otherwise. Disks:
/// half NVMe (0.9-2 GB/s), 30% SATA SSDs (300-520 MB/s), 20% budget QLC (450 MB/s for a
/// 2-6 GiB cache, then 60-120 MB/s). The main group enters deploy within 3 s.
Scenario workshop(const WorkshopParams& p);

enum class ScaleModelCase {
  clean,         ///< every port 100 Mbit/s
  slow_link,     ///< the last laptop's port runs at 30 Mbit/s
  late_joiner,   ///< the last laptop joins when the others are half done
  relay_killed,  ///< laptop 2 (relaying to 3) is killed at 40% of T1
  all_three,     ///< slow last, late last-but-one, laptop 2 killed
  goodput,       ///< every port, the server's too, carries 80% of its nominal rate (TCP over
                 ///< a shaped port); the scheduler is told the nominal rate
};
const char* to_string(ScaleModelCase c);

/// The namespace benchmark's model: N laptops and a server on 100 Mbit/s ports, disks and
/// zstd far faster than the link (files on one machine).
Scenario scale_model(int laptops, ScaleModelCase c);

}  // namespace revive::bench
