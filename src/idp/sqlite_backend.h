// The sqlite backend: the embedded default store. Users (unique username and
// e-mail, argon2id hashes), reset stamps and login-failure counters live in
// one SQLite file that several kisee processes may share.
#pragma once

#include <memory>

#include "idp/backend.h"
#include "idp/sqlite_db.h"

namespace kisee::idp {

// SqliteBackend: see the file comment. Thread-safe; every method blocks on
// disk (and on hashing for Identify/RegisterUser/SetPasswordForUser).
class SqliteBackend final : public IdentityBackend {
 public:
  // Create opens (or creates) the database named by the `path` option
  // (default "kisee.db", relative to the settings file), creates or migrates
  // the schema in one IMMEDIATE transaction (safe when several processes start
  // at once) and, when there is no user at all, creates `root` with a random
  // password printed once to context.out. Options: path, username_min_length
  // (default 3), busy_timeout_ms (default 5000), reset_delivery ("email", the
  // default, or "stdout" to print the demo's line, for development).
  static Result<std::unique_ptr<SqliteBackend>> Create(const BackendContext& context);

  Result<std::optional<User>> Identify(std::string_view username,
                                       std::string_view password) override;
  Status RegisterUser(std::string_view username, std::string_view password, std::string_view email,
                      bool is_superuser) override;
  Result<std::optional<User>> GetUserByEmail(std::string_view email) override;
  Result<std::optional<User>> GetUserByUsername(std::string_view username) override;
  Status SetPasswordForUser(const User& user, std::string_view password) override;
  Status SendResetPasswordChallenge(const User& user, std::string_view token) override;
  bool IsConnectionAlive() override;
  Result<std::string> ResetStamp(const User& user) override;
  Result<std::string> NewResetStamp(const User& user) override;
  FailureStore& failure_store() override { return *failures_; }

  // kSchemaVersion is the PRAGMA user_version this code creates.
  static constexpr int kSchemaVersion = 1;

 private:
  struct Row {
    User user;
    std::string password_hash;
  };

  SqliteBackend(const BackendContext& context, std::filesystem::path path, std::size_t pool_size,
                int busy_timeout_ms, std::int64_t username_min_length, bool print_resets);
  Status Migrate();
  Result<std::optional<Row>> FindBy(std::string_view column, std::string_view value);

  const crypto::PasswordHasher& hasher_;
  const PasswordPolicy& policy_;
  const Clock& clock_;
  std::ostream& out_;
  std::function<Status(const User&, std::string_view)> deliver_mail_;
  const std::int64_t username_min_length_;
  const bool print_resets_;
  sqlite::Pool pool_;
  std::unique_ptr<FailureStore> failures_;
};

}  // namespace kisee::idp
