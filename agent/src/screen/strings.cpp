#include "revive/agent/screen/strings.hpp"

#include "strings_tables.hpp"

namespace revive::agent::screen {

const Strings& strings_for(Lang lang) {
  switch (lang) {
    case Lang::nl:
      return kDutch;
    case Lang::fr:
      return kFrench;
    case Lang::en:
      return kEnglish;
  }
  return kEnglish;
}

Lang lang_from(std::string_view code) {
  if (code == "nl") return Lang::nl;
  if (code == "fr") return Lang::fr;
  return Lang::en;
}

const char* step_title(const Strings& s, protocol::StepKind kind) {
  using K = protocol::StepKind;
  switch (kind) {
    case K::inventory:
      return s.step_inventory;
    case K::checks:
      return s.step_checks;
    case K::wipe:
      return s.step_wipe;
    case K::test:
      return s.step_test;
    case K::deploy:
      return s.step_deploy;
    case K::provision:
      return s.step_provision;
    case K::certify:
      return s.step_certify;
    case K::finish:
      return s.step_finish;
  }
  return s.step_finish;
}

const char* step_failure(const Strings& s, protocol::StepKind kind) {
  using K = protocol::StepKind;
  switch (kind) {
    case K::inventory:
      return s.failed_inventory;
    case K::checks:
      return s.failed_checks;
    case K::wipe:
      return s.failed_wipe;
    case K::test:
      return s.failed_test;
    case K::deploy:
      return s.failed_deploy;
    case K::provision:
      return s.failed_provision;
    case K::certify:
      return s.failed_certify;
    case K::finish:
      return s.failed_finish;
  }
  return s.failed_finish;
}

}  // namespace revive::agent::screen
