#include "idp/backend_util.h"

#include <fmt/format.h>

#include <mutex>

#include "idp/password_policy.h"

namespace kisee::idp {
namespace {

// One mutex for every operator line: the admin credentials and development
// reset lines come from several threads and must not interleave.
std::mutex print_mutex;

}  // namespace

Result<std::int64_t> IntOption(const Options& options, std::string_view name,
                               std::int64_t fallback) {
  auto it = options.find(name);
  if (it == options.end()) {
    return fallback;
  }
  const auto* value = std::get_if<std::int64_t>(&it->second);
  if (value == nullptr || *value < 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("identity_backend.options.{} must be a positive integer", name));
  }
  return *value;
}

Result<std::string> StringOption(const Options& options, std::string_view name,
                                 std::string fallback) {
  auto it = options.find(name);
  if (it == options.end()) {
    return fallback;
  }
  const auto* value = std::get_if<std::string>(&it->second);
  if (value == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("identity_backend.options.{} must be a string", name));
  }
  return *value;
}

Result<std::optional<std::string>> OptionalStringOption(const Options& options,
                                                        std::string_view name) {
  KISEE_ASSIGN_OR_RETURN(std::string value, StringOption(options, name, ""));
  if (value.empty()) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(std::move(value));
}

Result<bool> BoolOption(const Options& options, std::string_view name, bool fallback) {
  auto it = options.find(name);
  if (it == options.end()) {
    return fallback;
  }
  const auto* value = std::get_if<bool>(&it->second);
  if (value == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("identity_backend.options.{} must be true or false", name));
  }
  return *value;
}

Status CheckUsername(std::string_view username, std::int64_t min_length) {
  // The minimum counts characters (the original's len()), not bytes.
  const std::int64_t characters = CountCodePoints(username);  // -1: not UTF-8
  if (username.empty() || (characters >= 0 && characters < min_length)) {
    return MakeError(ErrorCode::kInvalidArgument, "Username too short");
  }
  if (username.size() > 150) {
    return MakeError(ErrorCode::kInvalidArgument, "Username too long");
  }
  for (unsigned char c : username) {
    if (c < 0x20 || c == 0x7f || c == '/' || c == '?' || c == '#' || c == '%' || c == ' ') {
      return MakeError(ErrorCode::kInvalidArgument, "Username contains invalid characters");
    }
  }
  if (characters < 0) {
    return MakeError(ErrorCode::kInvalidArgument, "Username contains invalid characters");
  }
  return Ok();
}

void PrintOperatorLine(std::ostream& out, std::string_view text) {
  std::lock_guard lock(print_mutex);
  out << text << '\n';
  out.flush();
}

void PrintResetLine(std::ostream& out, const User& user, std::string_view token) {
  PrintOperatorLine(
      out, fmt::format("Password reset challenge for user {} is {}", user.username, token));
}

Status MailResetToken(const std::function<Status(const User&, std::string_view)>& deliver_mail,
                      const User& user, std::string_view token) {
  if (!deliver_mail) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "no [email] section: the reset token cannot be delivered");
  }
  return deliver_mail(user, token);
}

void PrintAdminCredentials(std::ostream& out, std::string_view password) {
  PrintOperatorLine(out, fmt::format("Admin credentials (shown once, store them now):\nusername: "
                                     "root\npassword: {}",
                                     password));
}

bool IsTruthy(std::string_view text) {
  std::string lower;
  for (char c : text) {
    lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  }
  return lower == "t" || lower == "true" || lower == "1" || lower == "yes" || lower == "on";
}

}  // namespace kisee::idp
