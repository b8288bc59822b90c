#include "revive/error.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace revive {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::io:
      return "io";
    case Errc::invalid_input:
      return "invalid_input";
    case Errc::not_found:
      return "not_found";
    case Errc::already_exists:
      return "already_exists";
    case Errc::corrupt:
      return "corrupt";
    case Errc::bad_signature:
      return "bad_signature";
    case Errc::no_space:
      return "no_space";
    case Errc::unsupported:
      return "unsupported";
    case Errc::busy:
      return "busy";
    case Errc::cancelled:
      return "cancelled";
    case Errc::conflict:
      return "conflict";
    case Errc::unauthorized:
      return "unauthorized";
    case Errc::forbidden:
      return "forbidden";
    case Errc::internal:
      return "internal";
  }
  return "unknown";
}

Error Error::with_context(std::string_view where) const {
  Error e = *this;
  e.message = std::string(where) + ": " + message;
  return e;
}

Error errno_error(int err, std::string_view what) {
  Errc code = Errc::io;
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      code = Errc::no_space;
      break;
    case ENOENT:
      code = Errc::not_found;
      break;
    case EEXIST:
      code = Errc::already_exists;
      break;
    case EWOULDBLOCK:
      code = Errc::busy;
      break;
    default:
      break;
  }
  return Error{code, std::string(what) + ": " + std::strerror(err)};
}

void throw_exception_from_error(const Error& e, const boost::source_location& /*loc*/) {
  throw Exception(e);
}

namespace detail {
void check_failed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "revive: internal check failed: %s at %s:%d\n", cond, file, line);
  std::abort();
}
}  // namespace detail

}  // namespace revive
