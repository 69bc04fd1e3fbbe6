#include "idp/demo_backend.h"

#include <fmt/format.h>

#include "idp/backend_util.h"
#include "idp/password_policy.h"
#include "kisee/core/random.h"

namespace kisee::idp {
namespace {

constexpr std::string_view kAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

}  // namespace

Result<std::unique_ptr<DemoBackend>> DemoBackend::Create(const BackendContext& context) {
  std::int64_t min_length = 3;
  const Options& options = context.settings.backend.options;
  if (auto it = options.find("username_min_length"); it != options.end()) {
    const auto* value = std::get_if<std::int64_t>(&it->second);
    if (value == nullptr || *value < 0) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "identity_backend.options.username_min_length must be a positive integer");
    }
    min_length = *value;
  }
  std::unique_ptr<DemoBackend> backend(new DemoBackend(context, min_length));
  SecretBytes password(RandomString(16, kAlnum));
  PrintOperatorLine(
      context.out,
      fmt::format("Admin credentials for this session is:\nusername: root\npassword: {}",
                  password.chars()));
  Entry root{.user = {.user_id = "root",
                      .username = "root",
                      .email = "root@example.com",
                      .is_superuser = true},
             .password = std::move(password)};
  backend->users_.emplace("root", std::move(root));
  return backend;
}

DemoBackend::DemoBackend(const BackendContext& context, std::int64_t username_min_length)
    : policy_(context.policy),
      out_(context.out),
      username_min_length_(username_min_length),
      failures_(context.clock) {}

Result<std::optional<User>> DemoBackend::Identify(std::string_view username,
                                                  std::string_view password) {
  std::lock_guard lock(mutex_);
  auto it = users_.find(username);
  if (it == users_.end() || password.empty() ||
      !ConstantTimeEquals(it->second.password.chars(), password)) {
    return std::optional<User>();
  }
  return std::optional<User>(it->second.user);
}

Status DemoBackend::RegisterUser(std::string_view username, std::string_view password,
                                 std::string_view email, bool is_superuser) {
  // Characters, as the original's len(username), not bytes.
  if (CountCodePoints(username) < username_min_length_) {
    return MakeError(ErrorCode::kInvalidArgument, "Username too short");
  }
  KISEE_RETURN_IF_ERROR(policy_.Check(password));
  std::lock_guard lock(mutex_);
  if (users_.contains(username)) {
    return MakeError(ErrorCode::kAlreadyExists, "User already exist");
  }
  Entry entry{.user = {.user_id = std::string(username),
                       .username = std::string(username),
                       .email = std::string(email),
                       .is_superuser = is_superuser},
              .password = SecretBytes(password),
              .generation = next_generation_++};
  users_.emplace(std::string(username), std::move(entry));
  return Ok();
}

Result<std::optional<User>> DemoBackend::GetUserByEmail(std::string_view email) {
  std::lock_guard lock(mutex_);
  for (const auto& [name, entry] : users_) {
    if (entry.user.email == email) {
      return std::optional<User>(entry.user);
    }
  }
  return std::optional<User>();
}

Result<std::optional<User>> DemoBackend::GetUserByUsername(std::string_view username) {
  std::lock_guard lock(mutex_);
  auto it = users_.find(username);
  if (it == users_.end()) {
    return std::optional<User>();
  }
  return std::optional<User>(it->second.user);
}

Status DemoBackend::SetPasswordForUser(const User& user, std::string_view password) {
  KISEE_RETURN_IF_ERROR(policy_.Check(password));
  std::lock_guard lock(mutex_);
  auto it = users_.find(user.username);
  if (it == users_.end()) {
    return MakeError(ErrorCode::kNotFound, "No such user");
  }
  it->second.password = SecretBytes(password);
  it->second.generation = next_generation_++;
  return Ok();
}

Status DemoBackend::SendResetPasswordChallenge(const User& user, std::string_view token) {
  // The exact line of the original: scripts and tests read the token from it.
  PrintResetLine(out_, user, token);
  return Ok();
}

Result<std::string> DemoBackend::ResetStamp(const User& user) {
  std::lock_guard lock(mutex_);
  auto it = users_.find(user.username);
  if (it == users_.end()) {
    return MakeError(ErrorCode::kNotFound, "No such user");
  }
  return std::to_string(it->second.generation);
}

Result<std::string> DemoBackend::NewResetStamp(const User& user) {
  std::lock_guard lock(mutex_);
  auto it = users_.find(user.username);
  if (it == users_.end()) {
    return MakeError(ErrorCode::kNotFound, "No such user");
  }
  it->second.generation = next_generation_++;
  return std::to_string(it->second.generation);
}

}  // namespace kisee::idp
