// The laptop's screen in English. Every field of Strings is set (screen_test checks).
#include "strings_tables.hpp"

namespace revive::agent::screen {

const Strings kEnglish = {
    .starting = "Starting up...",
    .looking_for_server = "Looking for the server...",
    .no_cable = "No network cable?",
    .no_cable_hint = "Plug this laptop into the workshop's network switch.",
    .server_hint = "Is the Revive server running? Ask a volunteer.",
    .server = "server",
    .waiting = "Waiting for a volunteer's decision",
    .left = "left",
    .done = "DONE",
    .grade = "Grade",
    .next_poweroff = "This laptop will now power off.",
    .next_reboot = "Restarting into the new system.",
    .next_unknown = "You can switch this laptop off.",
    .needs_volunteer = "NEEDS A VOLUNTEER",
    .volunteer_step =
        "Ask a volunteer to open this laptop on the dashboard: retry or skip the step.",
    .detail = "Detail",
    .step_inventory = "Looking at the hardware",
    .step_checks = "Checks by hand",
    .step_wipe = "Erasing the disk",
    .step_test = "Testing the hardware",
    .step_deploy = "Installing the new system",
    .step_provision = "Setting up the new system",
    .step_certify = "Getting the erasure certificate",
    .step_finish = "Finishing",
    .failed_inventory = "The hardware could not be read.",
    .failed_checks = "The checks by hand could not be done.",
    .failed_wipe = "The disk could not be erased safely.",
    .failed_test = "The hardware test did not finish.",
    .failed_deploy = "The new system could not be copied to the disk.",
    .failed_provision = "The new system could not be set up.",
    .failed_certify = "The erasure certificate could not be made.",
    .failed_finish = "The last step went wrong.",
    .failed_job = "This laptop does not trust the server it found.",
    .keyboard_title = "Keyboard: press every key",
    .keyboard_hint =
        "Each key lights up green when it works. It ends when all are pressed, or "
        "after a pause.",
    .screen_title = "Screen: look for dead pixels and bright patches",
    .screen_hint = "Any key: next colour",
    .screen_question = "Did every colour fill the whole screen evenly?",
    .speaker_left = "Did you hear a tone from the LEFT speaker?",
    .speaker_right = "Did you hear a tone from the RIGHT speaker?",
    .speaker_title = "Speakers",
    .usb_title = "USB ports",
    .usb_hint = "Plug a USB stick into each USB port in turn.",
    .answer_keys = "Y = yes    N = no",
    .yes_letters = "y",
    .seconds_left = "s left",
    .countdown_wipe = "THE DISKS OF THIS LAPTOP ARE ABOUT TO BE ERASED",
    .countdown_deploy = "A NEW SYSTEM IS ABOUT TO BE WRITTEN OVER THIS LAPTOP'S DISK",
    .countdown_cancel = "Not meant to happen? Press N or Esc: nothing will be written.",
    .countdown_workshop = "Workshop",
    .countdown_batch = "Batch",
};

}  // namespace revive::agent::screen
