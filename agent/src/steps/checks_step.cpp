#include <fmt/core.h>

#include "revive/agent/checks/checks.hpp"
#include "step.hpp"

namespace revive::agent::steps {

namespace {

// One log line per part for the serial console (the tests and the operator read it).
void log_results(const StepContext& ctx, const Json& parts) {
  for (const auto& [name, r] : parts.items()) {
    std::string line = fmt::format("  check {}: {}", name, r.value("status", std::string("?")));
    if (r.contains("missing") && !r["missing"].empty()) {
      std::string keys;
      for (const auto& k : r["missing"]) keys += (keys.empty() ? "" : " ") + k.get<std::string>();
      line += " (missing keys: " + keys + ")";
    }
    if (r.contains("reason")) line += " (" + r["reason"].get<std::string>() + ")";
    ctx.log(line);
  }
}

}  // namespace

// The checks a volunteer does by hand (checks.hpp). Its result goes to the server, and a test
// step later in this boot grades with it.
Outcome run_checks_step(const StepContext& ctx) {
  std::unique_ptr<checks::InputSource> keyboards;
  checks::InputSource* input = ctx.opts.input;
  if (input == nullptr && !ctx.opts.simulate) {
    if (auto kb = checks::open_evdev_keyboards()) {
      keyboards = std::move(*kb);
      input = keyboards.get();
    } else {
      ctx.log("  checks: " + kb.error().message + ": the answered checks are not checked");
    }
  }
  checks::CheckIo io;
  io.input = input;
  io.screen = ctx.opts.screen;
  io.exec = ctx.opts.exec;
  io.root = ctx.opts.root;
  io.stop = ctx.opts.stop;
  io.words = ctx.opts.screen != nullptr ? &ctx.opts.screen->words()
                                        : &screen::strings_for(screen::Lang::en);
  auto result = checks::run_checks(io, ctx.step.params, [&](const std::string& part, int i, int n) {
    ctx.progress("check " + part, i, n);
  });
  if (!result) return failed("checks: " + result.error().message);
  log_results(ctx, (*result)["parts"]);
  return succeeded(*result);
}

}  // namespace revive::agent::steps
