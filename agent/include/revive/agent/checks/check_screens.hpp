#pragma once
// What the checks draw, as pure functions (state -> frame), like the status screen.

#include <set>
#include <string>

#include "revive/agent/screen/frame.hpp"
#include "revive/agent/screen/strings.hpp"

namespace revive::agent::checks {

/// The keyboard layout, pressed keys green, the others blue; skipped keys are not drawn.
screen::Frame draw_keyboard(const std::set<int>& pressed, const std::set<int>& skipped,
                            const screen::Strings& words, int seconds_left, int cols, int rows);
/// A full screen of one colour with a small hint in the corner.
screen::Frame draw_colour(screen::Colour colour, const screen::Strings& words, int cols, int rows);
/// A question with the answer keys and the seconds left to answer.
/// `answers` is the line below it (the answer keys, or what was found so far).
screen::Frame draw_question(const std::string& title, const std::string& question,
                            const std::string& answers, const screen::Strings& words,
                            int seconds_left, int cols, int rows);

}  // namespace revive::agent::checks
