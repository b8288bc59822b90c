// The browser side's pure pieces: SSE framing, the bounded backlog of one event stream, the
// language choice, and the compiled-in assets.
#include <gtest/gtest.h>

#include <regex>

#include <nlohmann/json.hpp>

#include "http/event_queue.hpp"
#include "http/http_types.hpp"
#include "revive/agent/checks/checks.hpp"
#include "revive/grading.hpp"
#include "revive/grading_reasons.hpp"
#include "revive/protocol.hpp"
#include "web/assets.hpp"
#include "web/language.hpp"

namespace revive::server {
namespace {

TEST(SseFraming, EveryLineBreakTheBrowserKnowsStartsANewDataLine) {
  // EventSource splits at CR, LF and CRLF: a lone CR must not smuggle in a field ("event:",
  // "id:", "retry:") of its own.
  EXPECT_EQ(sse_message("x", "a\rb"), "event: x\ndata: a\ndata: b\n\n");
  EXPECT_EQ(sse_message("x", "a\r\nb"), "event: x\ndata: a\ndata: b\n\n");
  EXPECT_EQ(sse_message("x", "a\n\nb"), "event: x\ndata: a\ndata: \ndata: b\n\n");
  EXPECT_EQ(sse_message("x", "a\r\r\nevent: evil"),
            "event: x\ndata: a\ndata: \ndata: event: evil\n\n");
}

TEST(SseFraming, EventNamesAreTokens) {
  EXPECT_EQ(sse_message("up date\n\ndata: x", "1"), "event: updatedatax\ndata: 1\n\n");
  EXPECT_EQ(sse_message("snap-shot_1", "1"), "event: snap-shot_1\ndata: 1\n\n");
}

TEST(SseFraming, RetryTellsTheBrowserWhenToReconnect) {
  EXPECT_EQ(sse_retry(std::chrono::milliseconds(3000)), "retry: 3000\n\n");
}

TEST(EventQueue, HoldsMessagesInOrderUpToItsBound) {
  EventQueue q(10);
  EXPECT_TRUE(q.push("abcd"));
  EXPECT_TRUE(q.push("efgh"));
  EXPECT_EQ(q.bytes(), 8u);
  EXPECT_EQ(q.take(), "abcdefgh");
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.overflowed());
}

TEST(EventQueue, AClientTooFarBehindIsCutOffNotFedAPartialPicture) {
  EventQueue q(10);
  EXPECT_TRUE(q.push("abcdef"));
  EXPECT_FALSE(q.push("ghijk"));  // 11 bytes would be held
  EXPECT_TRUE(q.overflowed());
  EXPECT_EQ(q.bytes(), 0u);   // its memory goes at once
  EXPECT_FALSE(q.push("x"));  // and nothing more is taken
}

TEST(EventQueue, AFirstMessageLargerThanTheBoundStillGoes) {
  EventQueue q(4);
  EXPECT_TRUE(q.push("a large snapshot"));
  EXPECT_EQ(q.take(), "a large snapshot");
  EXPECT_TRUE(q.push("ok"));
}

TEST(WallLanguage, ChoiceThenAcceptLanguageThenEnglish) {
  const auto langs = web::wall_languages();
  EXPECT_EQ(web::choose_language("fr", "nl-BE,nl;q=0.9", langs), "fr");
  EXPECT_EQ(web::choose_language("FR", "", langs), "fr");
  EXPECT_EQ(web::choose_language("de", "nl-BE,nl;q=0.9", langs), "nl");  // not offered
  EXPECT_EQ(web::choose_language("", "nl-BE,nl;q=0.9,en;q=0.8", langs), "nl");
  EXPECT_EQ(web::choose_language("", "de-DE, fr-BE;q=0.7, en;q=0.5", langs), "fr");
  EXPECT_EQ(web::choose_language("", "en;q=0.2, nl;q=0.9", langs), "nl");  // weights, not order
  EXPECT_EQ(web::choose_language("", "fr;q=0.5, nl;q=0.5", langs), "fr");  // ties keep order
  EXPECT_EQ(web::choose_language("", "nl;q=0, fr;q=0.1", langs), "fr");    // q=0: never
  EXPECT_EQ(web::choose_language("", "de, *;q=0.1", langs), "en");
  EXPECT_EQ(web::choose_language("", "nl;q=abc, fr", langs), "fr");  // a malformed weight
  EXPECT_EQ(web::choose_language("", "", langs), "en");
  EXPECT_EQ(web::choose_language("", std::string(10000, ','), langs), "en");
}

TEST(WallAssets, ThePageScriptStyleAndEveryLanguageAreCompiledIn) {
  for (const char* name : {"wall.html", "wall.js", "wall.css"}) {
    const auto* a = web::find_asset(name);
    ASSERT_NE(a, nullptr) << name;
    EXPECT_FALSE(a->body.empty());
    EXPECT_EQ(a->etag.size(), 16u);
  }
  EXPECT_EQ(web::content_type("wall.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(web::find_asset("missing.js"), nullptr);
  // Every language has every string English has (one file per language, no gaps).
  const auto en = nlohmann::json::parse(web::find_asset("en.json")->body);
  for (auto lang : web::wall_languages()) {
    const auto* a = web::find_asset(std::string(lang) + ".json");
    ASSERT_NE(a, nullptr) << lang;
    const auto strings = nlohmann::json::parse(a->body);
    for (const auto& [key, value] : en.items())
      EXPECT_TRUE(strings.contains(key)) << lang << " lacks " << key;
    EXPECT_EQ(strings.size(), en.size()) << lang;
  }
  // A tile names its laptop's step: every kind the protocol has is worded (checks came later).
  for (auto kind : protocol::kStepKinds) {
    EXPECT_TRUE(en.contains("stage." + std::string(protocol::to_string(kind))))
        << protocol::to_string(kind);
  }
  // No inline script: the Content-Security-Policy allows only the script file.
  const std::string_view html = web::find_asset("wall.html")->body;
  EXPECT_EQ(html.find("<script>"), std::string_view::npos);
  EXPECT_EQ(html.find("onclick"), std::string_view::npos);
}

TEST(OperatorPageAssets, EveryWordThePagesUseIsInTheStringsAndNoScriptIsInline) {
  const auto en = nlohmann::json::parse(web::find_asset("en.json")->body);
  for (const char* name : {"ui.html", "ui.js", "ui.css"}) {
    const auto* a = web::find_asset(name);
    ASSERT_NE(a, nullptr) << name;
    EXPECT_FALSE(a->body.empty());
  }
  // Every key the page names literally (data-i18n="ui.x", t('ui.x')) is worded; keys built
  // from data (ui.state. + state) are checked for the values the server sends.
  const std::regex literal(R"((?:data-i18n="|')(ui\.[a-z0-9_.-]*[a-z0-9_])["'])");
  for (const char* name : {"ui.html", "ui.js", "ui_catalog.js", "ui_settings.js"}) {
    const std::string body(web::find_asset(name)->body);
    int found = 0;
    for (std::sregex_iterator it(body.begin(), body.end(), literal), end; it != end; ++it) {
      EXPECT_TRUE(en.contains((*it)[1].str())) << name << " uses " << (*it)[1].str();
      ++found;
    }
    EXPECT_GT(found, 10) << name;
  }
  for (const char* state : {"idle", "running", "failed", "done", "cancelled"})
    EXPECT_TRUE(en.contains(std::string("ui.state.") + state)) << state;
  for (auto s :
       {protocol::StepState::pending, protocol::StepState::running, protocol::StepState::done,
        protocol::StepState::failed, protocol::StepState::skipped, protocol::StepState::cancelled})
    EXPECT_TRUE(en.contains("ui.step." + std::string(protocol::to_string(s))));
  // A refusal is worded by its code: every error class the server answers with, and the codes
  // its HTTP layer uses beside them.
  for (auto code :
       {Errc::io, Errc::invalid_input, Errc::not_found, Errc::already_exists, Errc::corrupt,
        Errc::bad_signature, Errc::no_space, Errc::unsupported, Errc::busy, Errc::cancelled,
        Errc::conflict, Errc::unauthorized, Errc::forbidden, Errc::internal})
    EXPECT_TRUE(en.contains("ui.error." + std::string(to_string(code)))) << to_string(code);
  for (const char* code : {"bad_request", "too_large", "https_required", "shutting_down",
                           "range_not_satisfiable", "status", "detail"})
    EXPECT_TRUE(en.contains(std::string("ui.error.") + code)) << code;
  for (const char* action : {"retry", "skip", "cancel", "restart"}) {
    EXPECT_TRUE(en.contains(std::string("ui.confirm.") + action)) << action;
    EXPECT_TRUE(en.contains(std::string("ui.done.") + action)) << action;
  }
  const std::string_view html = web::find_asset("ui.html")->body;
  EXPECT_EQ(html.find("<script>"), std::string_view::npos);
  EXPECT_EQ(html.find(" on"), std::string_view::npos) << "no inline event handlers";
}

TEST(OperatorPageAssets, EveryGradingReasonIsWordedAsTheAgentWordsItInEnglish) {
  const auto en = nlohmann::json::parse(web::find_asset("en.json")->body);
  // The English page reads what the API says: each wording is the agent's own sentence.
  for (const auto& w : reason_wordings()) {
    const std::string key = "ui.reason." + std::string(w.code);
    ASSERT_TRUE(en.contains(key)) << key;
    EXPECT_EQ(en[key].get<std::string>(), w.english) << key;
  }
  // The parts the checks report by name, and what each grade suits.
  for (const char* part : agent::checks::check_part_names())
    EXPECT_TRUE(en.contains(std::string("ui.part.") + part)) << part;
  for (const auto& w : suitable_wordings()) {
    const std::string key = "ui.suitable." + std::string(w.code);
    ASSERT_TRUE(en.contains(key)) << key;
    EXPECT_EQ(en[key].get<std::string>(), w.english) << key;
  }
  for (auto g : kGrades) EXPECT_TRUE(en.contains("ui.suitable." + std::string(g))) << g;
  // The checks' own reasons inside theirs ("not checked: speakers (...)").
  for (const auto& w : agent::checks::check_reason_wordings()) {
    const std::string key = "ui.check_reason." + std::string(w.code);
    ASSERT_TRUE(en.contains(key)) << key;
    EXPECT_EQ(en[key].get<std::string>(), w.english) << key;
  }
}

}  // namespace
}  // namespace revive::server
