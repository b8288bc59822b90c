// Issue 19, the 1,000-laptop start: the HTTP server takes a burst of connections from the
// listener's backlog in batches, and when accept(2) runs out of descriptors it closes the
// connection idle longest and takes the newcomer after a pause.
#include <dirent.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "served_http.hpp"

namespace revive::server {
namespace {

using namespace std::chrono_literals;

// A server answering every request 200 on an io thread of its own.
class AcceptingServer : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(served.start({}, test::empty_ok)); }
  int connect_client() const { return test::connect_loopback(served.port()); }

  test::ServedHttp served;
};

// Sends a keep-alive GET on `fd`; the answer's status line, or "" when none came within 5 s.
std::string ask(int fd) {
  return test::status_line(fd, "GET /x HTTP/1.1\r\nHost: t\r\n\r\n", 5000ms);
}

// Whether the server closed `fd` (end of file waiting to be read).
bool closed_by_server(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 1000) != 1) return false;
  char c = 0;
  return ::read(fd, &c, 1) == 0;
}

// The open descriptors' numbers.
std::set<int> open_descriptors() {
  std::set<int> fds;
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return fds;
  const int own = ::dirfd(d);
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const int fd = std::atoi(e->d_name);
    if (fd != own) fds.insert(fd);
  }
  ::closedir(d);
  return fds;
}

TEST_F(AcceptingServer, ABurstLargerThanOneBatchIsEveryConnectionServed) {
  // 300 connections (one batch takes 256) in the backlog at once, each then asking; two
  // descriptors each in this process, within the usual limit of 1,024.
  constexpr int kBurst = 300;
  std::vector<int> clients;
  for (int i = 0; i < kBurst; ++i) {
    const int fd = connect_client();
    ASSERT_GE(fd, 0) << "connect " << i << ": " << std::strerror(errno);
    clients.push_back(fd);
  }
  int answered = 0;
  for (const int fd : clients) answered += ask(fd) == "HTTP/1.1 200 OK";
  for (const int fd : clients) ::close(fd);
  EXPECT_EQ(answered, kBurst);
}

// Whether this build runs under AddressSanitizer (the asan preset adds UndefinedBehaviorSanitizer).
constexpr bool kSanitized =
#if defined(__SANITIZE_ADDRESS__)
    true;
#elif defined(__has_feature)
    __has_feature(address_sanitizer);
#else
    false;
#endif

TEST_F(AcceptingServer, OutOfDescriptorsTheIdlestConnectionMakesRoomForTheNewcomer) {
  if (kSanitized) {
    GTEST_SKIP() << "the sanitizers need descriptors of their own (UBSan's vptr check opens a "
                    "pipe for each type it meets): with none left they report objects as "
                    "invalid; the dev build runs this test";
  }
  std::vector<int> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(connect_client());
    ASSERT_GE(clients.back(), 0);
    ASSERT_EQ(ask(clients.back()), "HTTP/1.1 200 OK");
  }
  std::this_thread::sleep_for(50ms);  // every session back to waiting for its next request
  // The descriptor limit lowered so that exactly one number is free: the newcomer's client
  // socket takes it, and the server's accept(2) finds none.
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  const std::set<int> used = open_descriptors();
  int first_free = 0;
  while (used.contains(first_free)) ++first_free;
  rlimit squeezed = old;
  squeezed.rlim_cur = static_cast<rlim_t>(first_free) + 1;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &squeezed), 0);
  const int newcomer = connect_client();
  const int connect_errno = errno;
  const std::string answer = newcomer >= 0 ? ask(newcomer) : "";
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);

  ASSERT_GE(newcomer, 0) << std::strerror(connect_errno);
  EXPECT_EQ(answer, "HTTP/1.1 200 OK") << "the newcomer was not served";
  EXPECT_TRUE(closed_by_server(clients[0])) << "the connection idle longest stays open";
  EXPECT_EQ(ask(clients[2]), "HTTP/1.1 200 OK") << "a later connection was closed too";
  ::close(newcomer);
  for (const int fd : clients) ::close(fd);
  served.stop();  // the metrics are the io thread's
  const std::string text = served.metrics().render({});
  EXPECT_NE(text.find("revive_http_connections_refused_total{reason=\"descriptors\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("revive_http_connections_refused_total{reason=\"evicted\"} 1"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace revive::server
