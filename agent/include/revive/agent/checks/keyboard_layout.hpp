#pragma once
// The keyboard the keyboard check draws: a laptop's main block (US labels), each key by its
// Linux input event code. Codes name positions, so an AZERTY or QWERTZ laptop lights the same
// cells; the labels are the US ones (a missing key is reported by that label, e.g. "F5", ";").

#include <span>
#include <string>

namespace revive::agent::checks {

namespace keys {
// Linux input event codes (ABI, <linux/input-event-codes.h>; linux_evdev_input.cpp checks).
inline constexpr int kEsc = 1, kBackspace = 14, kTab = 15, kEnter = 28, kLeftCtrl = 29;
inline constexpr int kSemicolon = 39, kLeftShift = 42, kRightShift = 54, kLeftAlt = 56;
inline constexpr int kSpace = 57, kCapsLock = 58, kF1 = 59, kF5 = 63, kF10 = 68, kF11 = 87;
inline constexpr int kF12 = 88, kRightCtrl = 97, kRightAlt = 100, kUp = 103, kLeft = 105;
inline constexpr int kRight = 106, kDown = 108, kDelete = 111, kLeftMeta = 125;
inline constexpr int kY = 21, kO = 24, kJ = 36, kN = 49;
}  // namespace keys

struct Key {
  int code = 0;
  const char* label = "";
  int row = 0;       ///< 0 (Esc, F-keys) to 5 (Ctrl, space, arrows)
  int quarters = 4;  ///< width in quarters of a letter key
};

/// Every key of the drawn layout, row by row, left to right.
std::span<const Key> laptop_layout();

/// The key with a label (as in a workflow's `skip` list), or null.
const Key* key_labelled(const std::string& label);

/// The event code of a letter a..z (for yes/no answers), or 0.
int letter_code(char letter);

}  // namespace revive::agent::checks
