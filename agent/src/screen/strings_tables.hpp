#pragma once
// The three languages' tables (private to agent/src/screen/).
#include "revive/agent/screen/strings.hpp"

namespace revive::agent::screen {
extern const Strings kEnglish;
extern const Strings kDutch;
extern const Strings kFrench;
}  // namespace revive::agent::screen
