// Issue 19, the 1,000-laptop start: revive-server reads, parses and writes on one thread and
// answers on another (HttpOptions::domain). Everything that reads or writes the server's state
// runs on the domain's thread, a long-poll's wake-up is never lost between the two, events
// published there reach the streams, and an answer still waits for its writes to be durable.
// An upload's handler runs there before its body is read, and reads the body while it arrives.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "served_http.hpp"

namespace revive::server {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using test::post;
using test::read_until;
using test::send_all;
using test::text_answer;

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

// Uploads streamed to their handler (HeaderVerdict::stream), as an image push is: the handler
// runs before the body is read and takes it as a pipe its reader (an import) reads while the
// network's thread writes what arrives.
class StreamedUpload : public DomainThread {
 protected:
  ~StreamedUpload() override {
    for (auto& t : readers) t.join();
  }

  // Uploads whose handler takes the body and reads it on a thread of its own, at most `keep`
  // bytes (then it closes its end, as a failed import does), answering "read N of LENGTH" once
  // that reader is done; ?refuse is refused without taking the body.
  void serve_uploads(std::size_t keep = SIZE_MAX) {
    HttpOptions opts;
    opts.admit = [](const Request&) {
      HeaderVerdict v;
      v.stream = true;
      return v;
    };
    serve(std::move(opts), [this, keep](Request& r, std::string&) {
      if (r.query.count("refuse")) return error_response(400, "refused", "not this one");
      const std::uint64_t length = r.body_stream->length;
      const int n = static_cast<int>(readers.size());
      auto fd = std::make_shared<UniqueFd>(std::move(r.body_stream->fd));
      readers.emplace_back([this, fd, keep, n] { read_body(*fd, keep, n); });
      Response wait;
      wait.long_poll =
          LongPoll{key(n), 20s, [this, n, length](bool final) {
                     const std::lock_guard hold(mu);
                     if (!reads.count(n)) {
                       if (final) return std::optional(error_response(504, "late", ""));
                       return std::optional<Response>();
                     }
                     return std::optional(text_answer("read " + std::to_string(reads[n].size()) +
                                                      " of " + std::to_string(length)));
                   }};
      return wait;
    });
  }

  void read_body(UniqueFd& fd, std::size_t keep, int n) {
    std::string got;
    std::vector<char> buf(1 << 16);
    while (got.size() < keep) {
      const auto k = ::read(fd.get(), buf.data(), std::min(buf.size(), keep - got.size()));
      if (k <= 0) break;
      got.append(buf.data(), static_cast<std::size_t>(k));
    }
    fd.reset();  // the writer learns that no more is wanted
    {
      const std::lock_guard hold(mu);
      reads[n] = std::move(got);
    }
    on_domain([this, n] { served.server().notify(key(n)); });
  }

  // What reader `n` read, once it is done; nullopt when it is not done within `wait`.
  std::optional<std::string> read_by(int n, std::chrono::milliseconds wait) {
    const auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      {
        const std::lock_guard hold(mu);
        if (reads.count(n)) return reads[n];
      }
      std::this_thread::sleep_for(10ms);
    }
    return std::nullopt;
  }

  static std::string key(int n) { return "upload:" + std::to_string(n); }

  // Sends `text` on `fd` from a thread of its own (a body larger than the socket's and the
  // pipe's buffers gets through only while the server reads it), then reads until `want`.
  static std::string send_and_read(int fd, const std::string& text, const std::string& want) {
    auto sent = std::async(std::launch::async, [fd, &text] { return send_all(fd, text); });
    std::string got = read_until(fd, want, 20s);
    if (sent.wait_for(1s) != std::future_status::ready) ::shutdown(fd, SHUT_RDWR);
    EXPECT_TRUE(sent.get());
    return got;
  }

  std::vector<std::thread> readers;  // the handler's (the domain's thread) until the end
  std::mutex mu;
  std::map<int, std::string> reads;  // under mu: what each reader read, once done
};

std::string pattern(std::size_t bytes) {
  std::string s(bytes, '\0');
  for (std::size_t i = 0; i < bytes; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4093) % 26);
  return s;
}

TEST_F(StreamedUpload, TheHandlersReaderGetsTheBodyWhetherItCameWithTheHeaderOrAfter) {
  serve_uploads();
  const int fd = connect_client();
  ASSERT_GE(fd, 0);
  std::string got = send_and_read(fd, post("/up", "piece-of-an-image"), "read 17 of 17");
  EXPECT_NE(got.find("read 17 of 17"), std::string::npos) << got;
  // Three times what the pipe holds: only gets through while the reader reads.
  const std::string big = pattern(3 << 20);
  got = send_and_read(fd, post("/up", big), "read 3145728 of 3145728");
  EXPECT_NE(got.find("read 3145728 of 3145728"), std::string::npos) << got;
  ::close(fd);
  EXPECT_EQ(read_by(0, 1s), "piece-of-an-image");
  EXPECT_TRUE(read_by(1, 1s) == big);
  EXPECT_FALSE(wrong_thread);
}

// A reader that stops (a failed import) gets no more; the rest of the body is read and dropped,
// so a client that sends it all before reading gets the answer, on a connection still usable.
TEST_F(StreamedUpload, AReaderThatStopsEarlyGetsNoMoreAndTheClientStillGetsTheAnswer) {
  serve_uploads(1 << 20);
  const int fd = connect_client();
  ASSERT_GE(fd, 0);
  std::string got = send_and_read(fd, post("/up", pattern(4 << 20)), "read 1048576 of 4194304");
  EXPECT_NE(got.find("read 1048576 of 4194304"), std::string::npos) << got;
  got = send_and_read(fd, post("/up", "next"), "read 4 of 4");
  EXPECT_NE(got.find("read 4 of 4"), std::string::npos) << got;
  ::close(fd);
}

// A handler that does not take the body refused it: a client waiting for "100 Continue" gets
// the answer instead and the connection closes; another's body is read and dropped first.
TEST_F(StreamedUpload, ARefusedBodyIsNeverSentByAClientWaitingForContinueAndDroppedFromOthers) {
  serve_uploads();
  int fd = connect_client();
  ASSERT_GE(fd, 0);
  std::string got = send_and_read(fd,
                                  "POST /up?refuse HTTP/1.1\r\nHost: t\r\nContent-Length: "
                                  "1073741824\r\nExpect: 100-continue\r\n\r\n",
                                  "\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0U) << got;
  EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
  EXPECT_EQ(got.find("100 Continue"), std::string::npos) << got;
  ::close(fd);
  fd = connect_client();
  ASSERT_GE(fd, 0);
  got = send_and_read(fd, post("/up?refuse", pattern(2 << 20)), "not this one");
  EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0U) << got;
  got = send_and_read(fd, post("/up", "after"), "read 5 of 5");
  EXPECT_NE(got.find("read 5 of 5"), std::string::npos) << got;
  ::close(fd);
  EXPECT_EQ(readers.size(), 1U);
}

// The connection lost halfway: the reader's stream ends short (an import then publishes
// nothing), rather than waiting for bytes that will never come.
TEST_F(StreamedUpload, AConnectionLostMidBodyEndsTheReadersStreamShort) {
  serve_uploads();
  const int fd = connect_client();
  ASSERT_GE(fd, 0);
  const std::string request = post("/up", pattern(4 << 20));
  ASSERT_TRUE(send_all(fd, request.substr(0, request.size() - (3 << 20))));
  ::close(fd);
  const auto read = read_by(0, 10s);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->size(), 1U << 20);
}

TEST_F(StreamedUpload, AnUploadWithoutAStatedLengthIsRefused) {
  serve_uploads();
  const int fd = connect_client();
  ASSERT_GE(fd, 0);
  const std::string got = send_and_read(
      fd,
      "POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 411", 0), 0U) << got;
  ::close(fd);
  EXPECT_TRUE(readers.empty());
}

}  // namespace
}  // namespace revive::server
