#pragma once
// Intake: which unknown machines may join (issue 15, finding 2). A PC that falls back to
// network boot must not be wiped because it exists: an operator opens intake for a batch,
// until a time, optionally only for listed MACs or vendors, and outside it an unknown machine
// gets a harmless answer (no live agent; its enrolment is refused with the reason). Known
// laptops keep their runs whatever the intake. A server in demo mode admits everyone.
// Machines turned away are remembered (in memory, bounded) for `revivectl intake status`.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "domain/context.hpp"

namespace revive::server {

struct IntakeRequest {
  std::string batch;
  Seconds until = 0;  ///< seconds since the epoch
  std::vector<std::string> macs;
  std::vector<std::string> vendors;
};

/// Whether an unknown machine may join, and on what terms.
struct Admission {
  bool admitted = false;
  std::string reason;                        ///< why not (or how, when admitted)
  std::optional<std::int64_t> batch_id;      ///< the intake's batch
  std::optional<std::string> operator_name;  ///< who opened the intake
};

/// The pure rule: `intake` (nullopt: none open) admits a machine with these MACs and, when
/// `vendor` is given, this SMBIOS vendor (a case-insensitive prefix of it must be listed).
Admission admission(const std::optional<IntakeRow>& intake, Seconds now,
                    const std::vector<std::string>& macs, const std::optional<std::string>& vendor);

class Intake {
 public:
  Intake(DomainContext& ctx, bool demo) : ctx_(ctx), demo_(demo) {}

  /// Opens intake (replacing an open one); the stored intake. not_found for an unknown batch,
  /// invalid_input for a time not in the next 31 days, a bad MAC or vendor, too long lists.
  Result<IntakeRow> open(const IntakeRequest& request, const std::string& who);
  /// Closes the open intake (nothing open: nothing to do); io on a storage failure.
  Result<void> close(const std::string& who);
  /// {open, batch, until, macs, vendors, opened_by, opened_at, demo, turned_away: [...]}; io on
  /// a storage failure.
  Result<Json> status();
  /// May an unknown machine with this MAC boot the live agent? (The vendor is not known
  /// before enrolment: a vendor-only intake admits the boot and enrolment decides.)
  Result<Admission> admits_boot(const std::string& mac);
  /// May an unknown laptop with these MACs and this vendor enrol?
  Result<Admission> admits_enrolment(const std::vector<std::string>& macs,
                                     const std::string& vendor);
  /// Remembers a machine that was turned away (for the operator).
  void turned_away(const std::string& mac, const std::string& why);
  bool demo() const { return demo_; }

 private:
  Result<std::optional<IntakeRow>> open_intake();
  Result<Admission> decide(const std::vector<std::string>& macs,
                           const std::optional<std::string>& vendor);

  struct TurnedAway {
    std::string mac;
    std::string why;
    Seconds at = 0;
  };
  DomainContext& ctx_;
  bool demo_;
  std::deque<TurnedAway> turned_away_;  ///< newest first, one per MAC
};

}  // namespace revive::server
