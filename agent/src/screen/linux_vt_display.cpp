// The Linux virtual terminal as a Display: non-blocking writes of ANSI frames, the size from
// TIOCGWINSZ. The serial console is not touched (it keeps the plain log the tests read).
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "revive/agent/screen/display.hpp"
#include "revive/file_util.hpp"

namespace revive::agent::screen {

namespace {

class VtDisplay : public Display {
 public:
  explicit VtDisplay(UniqueFd fd) : fd_(std::move(fd)) {}

  Size size() override {
    winsize ws{};
    if (::ioctl(fd_.get(), TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0 || ws.ws_row == 0) return {};
    return {ws.ws_col, ws.ws_row};
  }

  void show(const Frame& frame) override {
    const std::string bytes = to_ansi(frame);
    std::size_t off = 0;
    // A console that takes no more now (scroll lock, a stopped tty) drops the rest of this
    // frame: the agent must never wait for a screen.
    while (off < bytes.size()) {
      const ssize_t n = ::write(fd_.get(), bytes.data() + off, bytes.size() - off);
      if (n > 0) {
        off += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        return;
      }
    }
  }

 private:
  UniqueFd fd_;
};

}  // namespace

Result<std::unique_ptr<Display>> open_vt_display(const std::string& tty) {
  const int fd = ::open(tty.c_str(), O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return make_error(Errc::io, "cannot open " + tty + ": " + std::strerror(errno));
  UniqueFd owned(fd);
  if (::isatty(fd) == 0) return make_error(Errc::invalid_input, tty + " is not a terminal");
  return std::unique_ptr<Display>(std::make_unique<VtDisplay>(std::move(owned)));
}

}  // namespace revive::agent::screen
