// Errors as values: every fallible function in the project returns
// kisee::Result<T> (a std::expected<T, kisee::Error>). No exception crosses a
// library's public API.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace kisee {

// ErrorCode classifies an error so callers can map it (to an HTTP status, an
// exit code, a biscuit error category) without parsing messages.
enum class ErrorCode {
  kInvalidArgument,     // the input is malformed or out of range
  kNotFound,            // the named thing does not exist
  kAlreadyExists,       // creating something that exists
  kPermissionDenied,    // authenticated but not allowed, or unsafe file permissions
  kUnauthenticated,     // bad or missing credentials, bad signature
  kFailedPrecondition,  // the system is not in a state where this can be done
  kResourceExhausted,   // a bound was hit (queue full, limit reached)
  kUnavailable,         // a dependency (database, network peer) is unreachable
  kDeadlineExceeded,    // a timeout
  kIo,                  // a file or socket operation failed
  kInternal,            // a bug or an unexpected library failure
};

// ErrorCodeName returns a stable lower_snake_case name for `code`.
std::string_view ErrorCodeName(ErrorCode code);

// Error is a code plus a one-line message meant for humans. The message must
// never contain a secret (password, token, private key material).
class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // WithContext returns a copy whose message is "<context>: <message>".
  Error WithContext(std::string_view context) const;

 private:
  ErrorCode code_;
  std::string message_;
};

template <typename T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

// MakeError builds the unexpected value of a Result.
inline std::unexpected<Error> MakeError(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error(code, std::move(message)));
}

// Ok is the success value of a Status.
inline Status Ok() { return {}; }

}  // namespace kisee

// The project's one pair of propagation helpers.
#define KISEE_CONCAT_INNER_(a, b) a##b
#define KISEE_CONCAT_(a, b) KISEE_CONCAT_INNER_(a, b)

// KISEE_RETURN_IF_ERROR(expr): if the std::expected `expr` holds an error,
// return it from the enclosing function. The error type is deduced, so the
// helpers serve every error type of the project (kisee::Error and the
// biscuit library's typed errors alike).
#define KISEE_RETURN_IF_ERROR(expr)                             \
  do {                                                          \
    auto&& kisee_status_ = (expr);                              \
    if (!kisee_status_) {                                       \
      return std::unexpected(std::move(kisee_status_).error()); \
    }                                                           \
  } while (false)

// KISEE_ASSIGN_OR_RETURN(lhs, expr): evaluate the Result `expr`; on error
// return it, else move its value into `lhs` (which may be a declaration).
#define KISEE_ASSIGN_OR_RETURN(lhs, expr) \
  KISEE_ASSIGN_OR_RETURN_IMPL_(KISEE_CONCAT_(kisee_result_, __LINE__), lhs, expr)
#define KISEE_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                                 \
  if (!result) {                                        \
    return std::unexpected(std::move(result).error());  \
  }                                                     \
  lhs = std::move(*result)
