// The postgresql backend: users, reset stamps and login-failure counters in
// one PostgreSQL database, so that several kisee instances behind a load
// balancer behave as one (architecture.md, "Scaling out"). Same semantics as
// the sqlite backend. The client library is loaded on demand (the
// kisee-postgresql module, see module.h).
#pragma once

#include <memory>

#include "idp/backend.h"
#include "idp/sql_driver.h"
#include "idp/sql_state.h"

namespace kisee::idp {

// PostgresqlBackend: see the file comment. Thread-safe; every method blocks
// at most the configured timeout on the database (plus hashing).
class PostgresqlBackend final : public IdentityBackend {
 public:
  // Create connects, creates or migrates the schema (tables kisee_users,
  // kisee_login_failures, kisee_schema) in one transaction under an advisory
  // lock (safe when several instances start at once) and, when there is no
  // user at all, creates `root` with a random password printed once to
  // context.out. Options: dsn (required; libpq string or URI), pool_size
  // (default 8), timeout (seconds, default 5), username_min_length (3),
  // reset_delivery ("email" or "stdout"). Errors: kInvalidArgument for bad
  // options, kUnavailable when the database cannot be reached, the module's
  // load error.
  static Result<std::unique_ptr<PostgresqlBackend>> Create(const BackendContext& context);

  // CreateWithDriver is Create on an existing driver (tests).
  static Result<std::unique_ptr<PostgresqlBackend>> CreateWithDriver(
      const BackendContext& context, std::unique_ptr<SqlDriver> driver);

  Result<std::optional<User>> Identify(std::string_view username,
                                       std::string_view password) override;
  Status RegisterUser(std::string_view username, std::string_view password, std::string_view email,
                      bool is_superuser) override;
  Result<std::optional<User>> GetUserByEmail(std::string_view email) override;
  Result<std::optional<User>> GetUserByUsername(std::string_view username) override;
  Status SetPasswordForUser(const User& user, std::string_view password) override;
  Status SendResetPasswordChallenge(const User& user, std::string_view token) override;
  bool IsConnectionAlive() override { return driver_->Ping(); }
  Result<std::string> ResetStamp(const User& user) override;
  Result<std::string> NewResetStamp(const User& user) override;
  FailureStore& failure_store() override { return failures_; }

  // kSchemaVersion is the version in kisee_schema this code creates.
  static constexpr int kSchemaVersion = 1;

 private:
  struct Row {
    User user;
    std::string password_hash;
  };

  PostgresqlBackend(const BackendContext& context, std::unique_ptr<SqlDriver> driver,
                    std::int64_t username_min_length, bool print_resets);
  Status Migrate();
  Result<std::optional<Row>> FindBy(std::string_view where, std::string_view value);

  const crypto::PasswordHasher& hasher_;
  const PasswordPolicy& policy_;
  const Clock& clock_;
  std::ostream& out_;
  std::function<Status(const User&, std::string_view)> deliver_mail_;
  const std::int64_t username_min_length_;
  const bool print_resets_;
  std::unique_ptr<SqlDriver> driver_;
  SqlFailureStore failures_;
};

}  // namespace kisee::idp
