#pragma once
// Expected failures are values: Result<T> = boost::system::result<T, revive::Error>.
// Context is added once, where it is known ("chunk 3f2a…: zstd: Data corruption detected").

#include <boost/system/result.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace revive {

/// Broad class of a failure; callers branch on it, people read the message.
enum class Errc {
  io,              ///< an I/O call failed (message carries strerror)
  invalid_input,   ///< the caller or a file handed us something malformed
  not_found,       ///< a named thing does not exist
  already_exists,  ///< refusing to overwrite
  corrupt,         ///< stored data fails its hash, frame or structure check
  bad_signature,   ///< signature missing, malformed, or by another key
  no_space,        ///< the filesystem is full
  unsupported,     ///< valid but not handled (yet)
  busy,            ///< locked by someone else
  cancelled,       ///< stopped on request
  conflict,        ///< valid request that contradicts the current state (HTTP 409)
  unauthorized,    ///< missing or wrong credentials (HTTP 401)
  forbidden,       ///< understood and allowed to ask, but not allowed to do this now (HTTP 403)
  internal,        ///< a library we call failed in a way that is not the input's fault
};

/// Short stable name of an error class ("corrupt", "no_space"...).
std::string_view to_string(Errc code);

struct Error {
  Error() = default;
  Error(Errc c, std::string m) : code(c), message(std::move(m)) {}

  Errc code = Errc::internal;
  std::string message;

  /// Prefixes the message with where it happened: "importing disk.img: " + message.
  [[nodiscard]] Error with_context(std::string_view where) const;
};

/// An Error from an errno value: "{what}: {strerror(err)}", ENOSPC/EDQUOT -> no_space,
/// ENOENT -> not_found, EEXIST -> already_exists, everything else io.
Error errno_error(int err, std::string_view what);

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

/// Thrown only at named boundaries (startup, CLI) by Result::value() on an error.
class Exception : public std::runtime_error {
 public:
  explicit Exception(Error error) : std::runtime_error(error.message), error_(std::move(error)) {}
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

template <class T>
using Result = boost::system::result<T, Error>;

/// Found by ADL from boost::system::result<T, Error>::value().
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

}  // namespace revive

/// Propagates an error from a Result-returning expression; evaluates to nothing on success.
#define REVIVE_TRY(expr)                               \
  do {                                                 \
    if (auto revive_try_r_ = (expr); !revive_try_r_) { \
      return revive_try_r_.error();                    \
    }                                                  \
  } while (0)

/// Invariant that always holds (even in release builds); aborts with a message otherwise.
#define REVIVE_CHECK(cond)                                                  \
  do {                                                                      \
    if (!(cond)) ::revive::detail::check_failed(#cond, __FILE__, __LINE__); \
  } while (0)

#ifdef REVIVE_DEBUG
#define REVIVE_ASSERT(cond) REVIVE_CHECK(cond)
#else
#define REVIVE_ASSERT(cond) ((void)0)
#endif

namespace revive::detail {
[[noreturn]] void check_failed(const char* cond, const char* file, int line);
}
