// The sql backend: users in an existing database schema, read with queries
// from the settings (kisee-api.md §6): by_username, by_email, set_password,
// insert_user, with named parameters, on SQLite or PostgreSQL.
//
// Reset stamps and login-failure counters (a decision of this backend):
// - writable (insert_user or set_password given): kisee creates two small
//   side tables in the same database at start, kisee_reset_nonces and
//   kisee_login_failures (CREATE TABLE IF NOT EXISTS, under an advisory lock
//   on PostgreSQL). A reset token is bound to the password hash plus the
//   user's nonce: used (the hash changed) or superseded (a newer nonce)
//   tokens are refused by every instance, and lockouts are shared.
// - read-only: kisee writes nothing. The stamp is the password hash alone
//   (passwords cannot change through kisee anyway: PATCH answers 403) and
//   failure counters live in each process's memory.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "idp/backend.h"
#include "idp/sql_driver.h"

namespace kisee::idp {

// SqlBackend: see the file comment. Thread-safe.
class SqlBackend final : public IdentityBackend {
 public:
  // Create reads the options: driver ("postgresql" or "sqlite", required),
  // dsn (postgresql) or path (sqlite, relative to the settings file),
  // by_username (required; :username), by_email (:email), set_password
  // (:password_hash, :user_id, :username), insert_user (:username, :email,
  // :password_hash, :is_superuser), pool_size (8), timeout (seconds, 5),
  // username_min_length (3), reset_delivery ("email" or "stdout"). The
  // lookups must return the columns user_id, username and password_hash
  // (email and is_superuser optional); this is checked at start by running
  // them once. Errors: kInvalidArgument (one line) for bad options, a
  // query with an unknown parameter or missing columns; kUnavailable when
  // the database cannot be reached.
  static Result<std::unique_ptr<SqlBackend>> Create(const BackendContext& context);

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
  FailureStore& failure_store() override { return *failures_; }
  bool can_register() const override { return queries_.insert_user.has_value(); }
  bool can_change_passwords() const override { return queries_.set_password.has_value(); }

 private:
  struct Queries {
    std::string by_username;
    std::optional<std::string> by_email;
    std::optional<std::string> set_password;
    std::optional<std::string> insert_user;
  };
  struct Row {
    User user;
    std::string password_hash;
  };

  SqlBackend(const BackendContext& context, std::unique_ptr<SqlDriver> driver, Queries queries,
             std::int64_t username_min_length, bool print_resets);
  bool writable() const { return queries_.insert_user || queries_.set_password; }
  Status Prepare();
  Result<std::optional<Row>> Lookup(const std::string& query, std::string_view name,
                                    std::string_view value);

  const crypto::PasswordHasher& hasher_;
  const PasswordPolicy& policy_;
  std::ostream& out_;
  std::function<Status(const User&, std::string_view)> deliver_mail_;
  const Queries queries_;
  const std::int64_t username_min_length_;
  const bool print_resets_;
  std::unique_ptr<SqlDriver> driver_;
  std::unique_ptr<FailureStore> failures_;
};

}  // namespace kisee::idp
