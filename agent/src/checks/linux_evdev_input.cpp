// Keyboards through evdev: every /dev/input/event* that reports letter keys, polled together.
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <array>
#include <vector>

#include "revive/agent/checks/input.hpp"
#include "revive/agent/checks/keyboard_layout.hpp"
#include "revive/file_util.hpp"

namespace revive::agent::checks {

// The layout names keys by their event codes without including <linux/...>: they are ABI.
static_assert(keys::kEsc == KEY_ESC && keys::kF5 == KEY_F5 && keys::kSemicolon == KEY_SEMICOLON &&
              keys::kY == KEY_Y && keys::kN == KEY_N && keys::kSpace == KEY_SPACE &&
              keys::kRight == KEY_RIGHT && keys::kF12 == KEY_F12);

namespace {

bool has_key(int fd, int code) {
  std::array<unsigned long, (KEY_MAX + 1) / (8 * sizeof(unsigned long)) + 1> bits{};
  if (::ioctl(fd, EVIOCGBIT(EV_KEY, sizeof bits), bits.data()) < 0) return false;
  const auto word = static_cast<std::size_t>(code) / (8 * sizeof(unsigned long));
  return ((bits[word] >> (code % (8 * sizeof(unsigned long)))) & 1UL) != 0;
}

class EvdevInput : public InputSource {
 public:
  explicit EvdevInput(std::vector<UniqueFd> fds) : fds_(std::move(fds)) {}

  std::optional<KeyEvent> next_key(std::chrono::milliseconds timeout) override {
    const auto until = now() + timeout;
    for (;;) {
      std::vector<pollfd> p;
      for (const auto& fd : fds_) p.push_back({fd.get(), POLLIN, 0});
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - now());
      if (left.count() <= 0) return std::nullopt;
      const int n = ::poll(p.data(), p.size(), static_cast<int>(left.count()));
      if (n <= 0) continue;  // EINTR or the time ran out: checked above
      for (const auto& q : p) {
        if ((q.revents & POLLIN) == 0) continue;
        input_event ev{};
        if (::read(q.fd, &ev, sizeof ev) != static_cast<ssize_t>(sizeof ev)) continue;
        // Value 2 is autorepeat: not a new press.
        if (ev.type == EV_KEY && ev.value != 2) return KeyEvent{ev.code, ev.value == 1};
      }
    }
  }

  Clock::time_point now() override { return Clock::now(); }

 private:
  std::vector<UniqueFd> fds_;
};

}  // namespace

Result<std::unique_ptr<InputSource>> open_evdev_keyboards(const std::filesystem::path& dir) {
  std::vector<UniqueFd> fds;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (!e.path().filename().string().starts_with("event")) continue;
    UniqueFd fd(::open(e.path().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (fd.get() < 0) continue;
    if (has_key(fd.get(), KEY_A) && has_key(fd.get(), KEY_SPACE)) fds.push_back(std::move(fd));
  }
  if (fds.empty()) return make_error(Errc::not_found, "no keyboard under " + dir.string());
  return std::unique_ptr<InputSource>(std::make_unique<EvdevInput>(std::move(fds)));
}

}  // namespace revive::agent::checks
