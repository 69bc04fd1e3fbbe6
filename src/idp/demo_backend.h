// The demo backend: users in memory, `root` with a random password printed
// at start, reset tokens printed on standard output (kisee-api.md §6).
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "idp/backend.h"
#include "kisee/core/secret.h"

namespace kisee::idp {

// DemoBackend keeps everything in this process; nothing survives a restart.
// Thread-safe.
class DemoBackend final : public IdentityBackend {
 public:
  // Create prints the admin credentials to context.out. Options:
  // username_min_length (default 3).
  static Result<std::unique_ptr<DemoBackend>> Create(const BackendContext& context);

  Result<std::optional<User>> Identify(std::string_view username,
                                       std::string_view password) override;
  Status RegisterUser(std::string_view username, std::string_view password, std::string_view email,
                      bool is_superuser) override;
  Result<std::optional<User>> GetUserByEmail(std::string_view email) override;
  Result<std::optional<User>> GetUserByUsername(std::string_view username) override;
  Status SetPasswordForUser(const User& user, std::string_view password) override;
  Status SendResetPasswordChallenge(const User& user, std::string_view token) override;
  bool IsConnectionAlive() override { return true; }
  Result<std::string> ResetStamp(const User& user) override;
  Result<std::string> NewResetStamp(const User& user) override;
  FailureStore& failure_store() override { return failures_; }

 private:
  struct Entry {
    User user;
    SecretBytes password;
    std::uint64_t generation = 0;  // bumped on password change and new reset token
  };

  DemoBackend(const BackendContext& context, std::int64_t username_min_length);

  const PasswordPolicy& policy_;
  std::ostream& out_;
  const std::int64_t username_min_length_;
  MemoryFailureStore failures_;
  std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> users_;  // guarded by mutex_
  std::uint64_t next_generation_ = 1;                // guarded by mutex_
};

}  // namespace kisee::idp
