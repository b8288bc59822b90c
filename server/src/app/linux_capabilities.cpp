#include "app/linux_capabilities.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace revive::server {

namespace {

// CAP_SETPCAP lets a thread shrink its bounding set; without it (an unprivileged start) the
// set stays, and no_new_privs already keeps any exec from using it.
bool may_shrink_bounding_set() { return ::prctl(PR_CAPBSET_READ, CAP_SETPCAP, 0, 0, 0) == 1; }

Result<void> empty_bounding_set() {
  // The kernel answers EINVAL past the last capability it knows.
  for (int cap = 0; cap < 64; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
    if (errno == EINVAL) return {};
    return errno_error(errno, "prctl(PR_CAPBSET_DROP, " + std::to_string(cap) + ")");
  }
  return {};
}

}  // namespace

Result<void> limit_future_privileges() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return errno_error(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (::syscall(SYS_capget, &header, data) != 0) return errno_error(errno, "capget");
  if ((data[0].effective & (1u << CAP_SETPCAP)) != 0 && may_shrink_bounding_set())
    REVIVE_TRY(empty_bounding_set());
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
    return errno_error(errno, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
  return {};
}

Result<void> clear_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3]{};
  if (::syscall(SYS_capset, &header, none) != 0) return errno_error(errno, "capset (to none)");
  return {};
}

}  // namespace revive::server
