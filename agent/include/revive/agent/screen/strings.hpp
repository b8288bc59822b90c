#pragma once
// Every word the laptop's own screen shows, one file per language (agent/src/screen/
// strings_<lang>.cpp), the same languages as the wall screen (server/web/i18n/). A test fails
// when a language leaves a string empty.

#include <string>
#include <string_view>

#include "revive/protocol.hpp"

namespace revive::agent::screen {

enum class Lang { en, nl, fr };

struct Strings {
  // The status screen
  const char* starting;            ///< before the first answer from the server
  const char* looking_for_server;  ///< the server does not answer, a cable is in
  const char* no_cable;            ///< no wired interface has a link
  const char* no_cable_hint;       ///< what to do about it
  const char* server_hint;         ///< what to do when the server does not answer
  const char* network_devices;     ///< heading of the network cards found (no cable)
  const char* no_network_device;   ///< none found: what to do
  const char* server;              ///< "server" label before its URL
  const char* waiting;             ///< waiting for an operator's decision
  const char* left;                ///< "2 min left": the word after the time
  const char* done;                ///< the green end screen's headline
  const char* grade;               ///< "grade" before the letter
  const char* next_poweroff;       ///< what happens next: power off
  const char* next_reboot;         ///< what happens next: reboot into the new system
  const char* next_unknown;        ///< the workflow ended without a finish step
  const char* stick_out;           ///< booted from a USB stick: take it out (capitals)
  const char* already_done;        ///< booted again after the workflow was done
  const char* needs_volunteer;     ///< the red screen's headline
  const char* volunteer_step;      ///< the step to take on a red screen
  const char* detail;              ///< label before the agent's own message
  // What each step is doing, and its failure in plain words
  const char* step_inventory;
  const char* step_checks;
  const char* step_wipe;
  const char* step_test;
  const char* step_deploy;
  const char* step_provision;
  const char* step_certify;
  const char* step_finish;
  const char* failed_inventory;
  const char* failed_checks;
  const char* failed_wipe;
  const char* failed_test;
  const char* failed_deploy;
  const char* failed_provision;
  const char* failed_certify;
  const char* failed_finish;
  const char* failed_job;  ///< the agent refused the server's job (key mismatch)
  // The checks a volunteer does by hand
  const char* keyboard_title;
  const char* keyboard_hint;  ///< press every key; when it ends
  const char* screen_title;
  const char* screen_hint;  ///< look for dead pixels; any key for the next colour
  const char* screen_question;
  const char* speaker_left;   ///< question after the left tone
  const char* speaker_right;  ///< question after the right tone
  const char* speaker_title;
  const char* usb_title;
  const char* usb_hint;
  const char* answer_keys;   ///< "Y = yes   N = no" (in this language's letters)
  const char* yes_letters;   ///< letters that answer yes (lower case): "y", "j", "o"...
  const char* seconds_left;  ///< "s left" after a count of seconds
  // The countdown before the first write on a machine (write_countdown.hpp)
  const char* countdown_wipe;      ///< headline: this laptop's disks are about to be erased
  const char* countdown_deploy;    ///< headline: a new system is about to be written
  const char* countdown_cancel;    ///< N or Esc stops it, nothing is written
  const char* countdown_workshop;  ///< "Workshop" label
  const char* countdown_batch;     ///< "Batch" label
};

/// The strings of a language.
const Strings& strings_for(Lang lang);
/// "nl", "fr", "en" (and anything else: English).
Lang lang_from(std::string_view code);
/// What a step is doing, in the language's words.
const char* step_title(const Strings& s, protocol::StepKind kind);
/// A step's failure in plain words.
const char* step_failure(const Strings& s, protocol::StepKind kind);

}  // namespace revive::agent::screen
