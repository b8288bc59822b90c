// Issue 19, the 1,000-laptop start: revive-server reads, parses and writes on one thread and
// answers on another (HttpOptions::domain). Everything that reads or writes the server's state
// runs on the domain's thread, a long-poll's wake-up is never lost between the two, events
// published there reach the streams, and an answer still waits for its writes to be durable.
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "served_http.hpp"

namespace revive::server {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

// Reads on `fd` until `want` appears in what came, the server closes, or `wait` passes.
std::string read_until(int fd, const std::string& want, std::chrono::milliseconds wait) {
  std::string got;
  const auto until = std::chrono::steady_clock::now() + wait;
  while (got.find(want) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1) break;
    char buf[4096];
    const auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

bool send_all(int fd, const std::string& text) {
  return ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

std::string post(const std::string& path, const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

Response text_answer(std::string body) {
  Response r;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

// A server whose domain runs on a thread of its own; `on_domain()` says whether the caller is
// that thread, and every call the server makes into the domain's side is checked with it.
class DomainThread : public ::testing::Test {
 protected:
  void serve(HttpOptions opts, Handler handler) {
    opts.admit = [this, admit = std::move(opts.admit)](const Request& r) {
      note_thread();
      return admit ? admit(r) : HeaderVerdict{std::nullopt, "", 1 << 20};
    };
    ASSERT_TRUE(served.start_with_domain(
        std::move(opts), [this, handler = std::move(handler)](Request& r, std::string& route) {
          note_thread();
          return handler(r, route);
        }));
  }
  void note_thread() {
    if (std::this_thread::get_id() != served.domain_thread()) wrong_thread = true;
  }
  // Runs `f` on the domain's thread, as the services' change sink calls the server.
  template <class F>
  void on_domain(F f) {
    asio::post(served.domain(), std::move(f));
  }
  int connect_client() const { return test::connect_loopback(served.port()); }

  test::ServedHttp served;
  std::atomic<bool> wrong_thread{false};
};

// A body in the header's segment is admitted and answered in one hand-over; one sent later is
// read after the admission; both reach the handler whole, and only on the domain's thread.
TEST_F(DomainThread, AdmissionAndHandlerRunThereWhetherTheBodyCameWithTheHeaderOrLater) {
  serve({}, [](Request& r, std::string&) { return text_answer("got:" + r.body); });
  const int fd = connect_client();
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_NE(read_until(fd, "got:", 5s).find("200 OK"), std::string::npos);
  ASSERT_TRUE(send_all(fd, post("/b", "in-one")));
  EXPECT_NE(read_until(fd, "got:in-one", 5s).find("got:in-one"), std::string::npos);
  const std::string later = post("/c", "sent-after-the-header");
  const auto split = later.find("\r\n\r\n") + 4;
  ASSERT_TRUE(send_all(fd, later.substr(0, split)));
  std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(send_all(fd, later.substr(split)));
  EXPECT_NE(read_until(fd, "got:sent-after-the-header", 5s).find("got:sent-after-the-header"),
            std::string::npos);
  ::close(fd);
  EXPECT_FALSE(wrong_thread);
}

// A refusal from the header closes the connection: the body, read or not, is never used.
TEST_F(DomainThread, ARefusedRequestWithItsBodyInTheSameSegmentIsRefusedAndTheConnectionCloses) {
  HttpOptions opts;
  std::atomic<int> handled{0};
  opts.admit = [](const Request&) {
    HeaderVerdict v;
    v.answer = error_response(401, "unauthorized", "token required");
    return v;
  };
  serve(std::move(opts), [&](Request&, std::string&) {
    ++handled;
    return text_answer("no");
  });
  const int fd = connect_client();
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, post("/x", "{\"a\":1}")));
  const std::string got = read_until(fd, "\r\n\r\n", 5s);
  EXPECT_NE(got.find("401"), std::string::npos) << got;
  EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
  EXPECT_EQ(handled, 0);
  ::close(fd);
}

// An upload is spooled to a file even when its body came whole with the header (and so was read
// before its admission said "spool").
TEST_F(DomainThread, ASmallUploadInTheHeadersSegmentIsStillSpooledToAFile) {
  HttpOptions opts;
  const auto dir =
      std::filesystem::temp_directory_path() / ("revive-spool-" + std::to_string(::getpid()));
  opts.upload_dir = dir;
  opts.admit = [](const Request&) {
    HeaderVerdict v;
    v.spool = true;
    return v;
  };
  serve(std::move(opts), [](Request& r, std::string&) {
    std::ifstream in(r.body_file);
    std::stringstream file;
    file << in.rdbuf();
    return text_answer("memory:" + r.body + " file:" + file.str());
  });
  const int fd = connect_client();
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, post("/upload", "piece-of-an-image")));
  const std::string got = read_until(fd, "file:piece-of-an-image", 5s);
  EXPECT_NE(got.find("memory: file:piece-of-an-image"), std::string::npos) << got;
  ::close(fd);
  std::filesystem::remove_all(dir);
  EXPECT_FALSE(wrong_thread);
}

// The change a long-poll waits for is made on the domain's thread right after the handler gave
// the long-poll (before the server's thread has even begun to wait): its notify must still wake
// it. Repeated, since a lost wake-up would show only now and then: a poll left waiting for its
// 30 s deadline (the wake-up lost) is not answered within the 5 s each poll is given here.
TEST_F(DomainThread, ANotifyRightAfterTheHandlerGaveALongPollIsNeverLost) {
  std::set<int> ready;  // the domain's state: touched on its thread only
  serve({}, [&](Request& r, std::string&) {
    const int n = std::stoi(r.query.at("n"));
    Response wait;
    wait.long_poll = LongPoll{"k" + std::to_string(n), 30s, [&, n](bool final) {
                                note_thread();
                                if (ready.count(n)) return std::optional(text_answer("ready"));
                                if (final)
                                  return std::optional(error_response(504, "late", "lost"));
                                return std::optional<Response>();
                              }};
    // Runs after this handler, on this thread, before the server's thread waits, most times.
    on_domain([&, n] {
      ready.insert(n);
      served.server().notify("k" + std::to_string(n));
    });
    return wait;
  });
  const int fd = connect_client();
  ASSERT_GE(fd, 0);
  for (int n = 0; n < 100; ++n) {
    ASSERT_TRUE(send_all(fd, "GET /poll?n=" + std::to_string(n) + " HTTP/1.1\r\nHost: t\r\n\r\n"));
    const std::string got = read_until(fd, "\r\n\r\n", 5s);
    ASSERT_NE(got.find("200 OK"), std::string::npos) << "poll " << n << ": " << got;
  }
  ::close(fd);
  EXPECT_FALSE(wrong_thread);
}

// Events published from the domain's thread reach the stream; subscribers() is asked from
// another thread; a stream whose viewer lost the right to look ends at the recheck, the check
// made on the domain's thread.
TEST_F(DomainThread, EventsPublishedThereReachTheStreamAndARevokedViewerIsCutOff) {
  std::atomic<bool> allowed{true};
  serve({}, [&](Request&, std::string&) {
    Response r;
    r.event_stream = EventStream{};
    r.event_stream->channel = "wall";
    r.event_stream->still_allowed = [&] {
      note_thread();
      return allowed.load();
    };
    return r;
  });
  const int fd = connect_client();
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, "GET /events HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_NE(read_until(fd, ": connected", 5s).find(": connected"), std::string::npos);
  for (int i = 0; i < 500 && served.server().subscribers("wall") == 0; ++i)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(served.server().subscribers("wall"), 1u);
  on_domain([&] { served.server().publish("wall", "update", "{\"tile\":1}"); });
  const std::string got = read_until(fd, "{\"tile\":1}", 5s);
  EXPECT_NE(got.find("event: update"), std::string::npos) << got;
  allowed = false;
  on_domain([&] { served.server().recheck_streams(); });
  pollfd p{fd, POLLIN, 0};
  char byte = 0;
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  EXPECT_EQ(::read(fd, &byte, 1), 0) << "the stream ended";
  ::close(fd);
  for (int i = 0; i < 500 && served.server().subscribers("wall") != 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(served.server().subscribers("wall"), 0u);
  EXPECT_FALSE(wrong_thread);
}

// The answer leaves only when the storage says its writes are durable, asked on the domain's
// thread; a failed sync turns it into a 503.
TEST_F(DomainThread, AnAnswerWaitsThereForItsWritesToBeDurable) {
  HttpOptions opts;
  std::uint64_t writes = 0;  // the domain's: the handler writes, mark reads
  std::mutex m;
  std::function<void(bool)> pending;
  opts.durable.mark = [&] {
    note_thread();
    return writes;
  };
  opts.durable.wait = [&](std::uint64_t, std::function<void(bool)> done) {
    note_thread();
    const std::lock_guard lock(m);
    pending = std::move(done);
    return false;
  };
  serve(std::move(opts), [&](Request&, std::string&) {
    ++writes;
    return text_answer("saved");
  });
  const auto answer_after = [&](bool ok) {
    const int fd = connect_client();
    EXPECT_GE(fd, 0);
    EXPECT_TRUE(send_all(fd, "GET /w HTTP/1.1\r\nHost: t\r\n\r\n"));
    EXPECT_EQ(read_until(fd, "\r\n", 300ms), "") << "answered before durable";
    std::function<void(bool)> done;
    for (int i = 0; i < 500 && !done; ++i) {
      std::this_thread::sleep_for(10ms);
      const std::lock_guard lock(m);
      done = std::exchange(pending, nullptr);
    }
    EXPECT_TRUE(done != nullptr);
    if (done) done(ok);  // from this thread, as the syncing thread would
    std::string got = read_until(fd, "\r\n\r\n", 5s);
    ::close(fd);
    return got.substr(0, got.find("\r\n"));
  };
  EXPECT_EQ(answer_after(true), "HTTP/1.1 200 OK");
  EXPECT_EQ(answer_after(false), "HTTP/1.1 503 Service Unavailable");
  EXPECT_FALSE(wrong_thread);
}

}  // namespace
}  // namespace revive::server
