// `revivectl login`'s trust in a workshop server's TLS key, against a real TLS server on
// 127.0.0.1 with certificates made the way revive-server makes its own: the right pin
// connects, a wrong one is refused with both keys named and nothing kept, and on first use the
// key is kept only when a person confirms it at a terminal (a pseudo-terminal here).

#include "server_pins.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "http/tls_identity.hpp"
#include "revive/http_client.hpp"
#include "temp_dir.hpp"

namespace revive::ctl {
namespace {

// Answers every HTTPS request with 200 "ok", one connection at a time, until destroyed.
class TlsTestServer {
 public:
  explicit TlsTestServer(const server::TlsIdentity& id)
      : ctx_(SSL_CTX_new(TLS_server_method())),
        // A client that refuses the key hangs up while OpenSSL still writes (a session
        // ticket, the close notify): that must be an error here, not a SIGPIPE for the tests.
        old_sigpipe_(std::signal(SIGPIPE, SIG_IGN)) {
    if (SSL_CTX_use_certificate_chain_file(ctx_, id.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx_, id.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
      throw std::runtime_error("test TLS server: cannot load " + id.cert_file.string());
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("test TLS server: cannot listen");
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~TlsTestServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(fd_);
    SSL_CTX_free(ctx_);
    std::signal(SIGPIPE, old_sigpipe_);
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_; }

 private:
  void serve() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      const timeval limit{5, 0};  // a client that stops talking cannot hang the test
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, c);
      if (SSL_accept(ssl) == 1) answer(ssl);
      SSL_free(ssl);
      ::close(c);
      ERR_clear_error();
    }
  }
  void answer(SSL* ssl) {
    std::string head;
    char buf[1024];
    while (head.find("\r\n\r\n") == std::string::npos) {
      const int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) return;  // a client that refused the key goes away here
      head.append(buf, static_cast<std::size_t>(n));
    }
    ++requests_;
    const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    SSL_write(ssl, reply.data(), static_cast<int>(reply.size()));
    SSL_shutdown(ssl);
  }

  SSL_CTX* ctx_;
  void (*old_sigpipe_)(int);
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

// Puts `fd` on standard input for the life of the object (std::cin too).
class StdinFrom {
 public:
  explicit StdinFrom(int fd) : saved_(::dup(STDIN_FILENO)) {
    ::dup2(fd, STDIN_FILENO);
    std::cin.clear();
  }
  ~StdinFrom() {
    ::dup2(saved_, STDIN_FILENO);
    ::close(saved_);
    std::cin.clear();
  }

 private:
  int saved_;
};

class ServerPinsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* old = std::getenv("XDG_CONFIG_HOME");
    if (old != nullptr) saved_xdg_ = old;
    ::setenv("XDG_CONFIG_HOME", (dir_ / "config").c_str(), 1);
    auto a = server::ensure_tls_identity(dir_ / "tls-a", {}, {});
    auto b = server::ensure_tls_identity(dir_ / "tls-b", {}, {});
    ASSERT_TRUE(a && b);
    shown_ = *a;
    other_ = *b;
    server_ = std::make_unique<TlsTestServer>(shown_);
  }
  void TearDown() override {
    server_.reset();
    if (saved_xdg_)
      ::setenv("XDG_CONFIG_HOME", saved_xdg_->c_str(), 1);
    else
      ::unsetenv("XDG_CONFIG_HOME");
  }
  // A GET through core's HTTP client with `pin` required, as every later revivectl call does.
  Result<http::Response> get_with_pin(const std::string& pin) {
    http::ConnectionOptions o;
    o.pinned_public_key = pin;
    http::Connection c(o);
    http::Request r;
    r.url = server_->url() + "/healthz";
    r.timeout = std::chrono::seconds(20);
    return c.request(r);
  }
  std::optional<std::string> kept() {
    auto k = pinned_key(server_->url());
    EXPECT_TRUE(k) << k.error().message;
    return k ? *k : std::nullopt;
  }

  test::TempDir dir_;
  std::optional<std::string> saved_xdg_;
  server::TlsIdentity shown_, other_;
  std::unique_ptr<TlsTestServer> server_;
};

TEST_F(ServerPinsTest, TheRightFingerprintConnectsAndIsKept) {
  ASSERT_NE(shown_.pin, other_.pin);
  auto pin = trust_server_key(server_->url(), shown_.pin);
  ASSERT_TRUE(pin) << pin.error().message;
  EXPECT_EQ(*pin, shown_.pin);
  EXPECT_EQ(kept(), shown_.pin);
  auto r = get_with_pin(*pin);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  // Later logins need no fingerprint: the kept pin must still match, and does.
  auto again = trust_server_key(server_->url(), "");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, shown_.pin);
  // The key file is the operator's alone.
  EXPECT_EQ(std::filesystem::status(dir_ / "config/revive/known_servers.json").permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(ServerPinsTest, AWrongPinIsRefusedNamingBothKeysAndNothingIsKeptOrSent) {
  auto refused = trust_server_key(server_->url(), other_.pin);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::bad_signature);
  const std::string& m = refused.error().message;
  EXPECT_NE(m.find("shows TLS key " + shown_.pin), std::string::npos) << m;
  EXPECT_NE(m.find("but --fingerprint is " + other_.pin + ": refused"), std::string::npos) << m;
  EXPECT_EQ(kept(), std::nullopt);
  // A pin kept from before (the certificate changed, or someone is in between): refused too.
  ASSERT_TRUE(save_pinned_key(server_->url(), other_.pin));
  auto changed = trust_server_key(server_->url(), "");
  ASSERT_FALSE(changed);
  EXPECT_EQ(changed.error().code, Errc::bad_signature);
  EXPECT_NE(changed.error().message.find("the key revivectl pinned for it is " + other_.pin),
            std::string::npos)
      << changed.error().message;
  EXPECT_EQ(kept(), other_.pin);  // the old pin stays until a deliberate login replaces it
  // The connection itself refuses the key before any request is sent.
  const int before = server_->requests();
  auto r = get_with_pin(other_.pin);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::bad_signature);
  EXPECT_NE(r.error().message.find("the server's TLS key is not the pinned " + other_.pin),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(server_->requests(), before);
  EXPECT_NE(changed_key_message(server_->url(), other_.pin).find(shown_.pin), std::string::npos);
  // A fingerprint that is not a pin at all is a usage error, not a network one.
  auto junk = trust_server_key(server_->url(), "AB:CD");
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().code, Errc::invalid_input);
}

TEST_F(ServerPinsTest, OnFirstUseTheKeyIsKeptOnlyWhenAPersonConfirmsIt) {
  // No terminal (a script without --fingerprint): nothing is trusted, and it says what to do.
  const int null = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(null, 0);
  {
    StdinFrom in(null);
    auto r = trust_server_key(server_->url(), "");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::forbidden);
    EXPECT_NE(r.error().message.find("run again with --fingerprint " + shown_.pin),
              std::string::npos)
        << r.error().message;
  }
  ::close(null);
  EXPECT_EQ(kept(), std::nullopt);
  // At a terminal: "n" keeps nothing, "y" keeps the key it was shown.
  for (const std::string answer : {"n\n", "y\n"}) {
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
    ASSERT_GE(master, 0);
    ASSERT_EQ(::grantpt(master), 0);
    ASSERT_EQ(::unlockpt(master), 0);
    const int terminal = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
    ASSERT_GE(terminal, 0);
    ASSERT_EQ(::write(master, answer.data(), answer.size()), static_cast<ssize_t>(answer.size()));
    Result<std::string> r = make_error(Errc::internal, "not run");
    {
      StdinFrom in(terminal);
      r = trust_server_key(server_->url(), "");
    }
    ::close(terminal);
    ::close(master);
    if (answer == "n\n") {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, Errc::forbidden);
      EXPECT_EQ(kept(), std::nullopt);
    } else {
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ(*r, shown_.pin);
      EXPECT_EQ(kept(), shown_.pin);
    }
  }
  auto r = get_with_pin(*kept());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerPinsTest, PlainHttpNeedsNoPinAndRefusesAFingerprint) {
  auto none = trust_server_key("http://127.0.0.1:8080", "");
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, "");
  auto r = trust_server_key("http://127.0.0.1:8080", shown_.pin);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_input);
}

}  // namespace
}  // namespace revive::ctl
