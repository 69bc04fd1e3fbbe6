#include "idp/postgresql_backend.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "idp/backend_util.h"
#include "kisee/core/random.h"
#include "kisee/core/secret.h"

namespace kisee::idp {
namespace {

constexpr std::string_view kAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

// Any constant will do, as long as it is kisee's: every instance takes this
// advisory lock before looking at the schema.
constexpr std::string_view kSchemaLock = "SELECT pg_advisory_xact_lock(7315412902461133)";

constexpr std::string_view kSchemaV1[] = {
    "CREATE TABLE IF NOT EXISTS kisee_schema (version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS kisee_users ("
    "username TEXT PRIMARY KEY NOT NULL, email TEXT NOT NULL, password_hash TEXT NOT NULL, "
    "is_superuser BOOLEAN NOT NULL DEFAULT FALSE, reset_nonce TEXT NOT NULL DEFAULT '', "
    "created_at BIGINT NOT NULL)",
    // E-mail addresses are unique whatever their case, as in the sqlite store.
    "CREATE UNIQUE INDEX IF NOT EXISTS kisee_users_email_key ON kisee_users (lower(email))",
    kFailureTableDdl,
};

constexpr std::string_view kUserColumns = "username, email, password_hash, is_superuser";

}  // namespace

Result<std::unique_ptr<PostgresqlBackend>> PostgresqlBackend::Create(
    const BackendContext& context) {
  const Options& options = context.settings.backend.options;
  KISEE_ASSIGN_OR_RETURN(std::string dsn, StringOption(options, "dsn", ""));
  if (dsn.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "missing required setting identity_backend.options.dsn");
  }
  KISEE_ASSIGN_OR_RETURN(std::int64_t pool_size, IntOption(options, "pool_size", 8));
  KISEE_ASSIGN_OR_RETURN(std::int64_t timeout, IntOption(options, "timeout", 5));
  if (pool_size < 1 || timeout < 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "identity_backend.options.pool_size and timeout must be at least 1");
  }
  KISEE_ASSIGN_OR_RETURN(auto driver,
                         CreatePostgresqlDriver({.dsn = dsn,
                                                 .pool_size = static_cast<std::size_t>(pool_size),
                                                 .timeout_ms = timeout * 1000}));
  return CreateWithDriver(context, std::move(driver));
}

Result<std::unique_ptr<PostgresqlBackend>> PostgresqlBackend::CreateWithDriver(
    const BackendContext& context, std::unique_ptr<SqlDriver> driver) {
  const Options& options = context.settings.backend.options;
  KISEE_ASSIGN_OR_RETURN(std::int64_t min_length, IntOption(options, "username_min_length", 3));
  KISEE_ASSIGN_OR_RETURN(std::string delivery, StringOption(options, "reset_delivery", "email"));
  if (delivery != "email" && delivery != "stdout") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "identity_backend.options.reset_delivery must be \"email\" or \"stdout\"");
  }
  std::unique_ptr<PostgresqlBackend> backend(
      new PostgresqlBackend(context, std::move(driver), min_length, delivery == "stdout"));
  KISEE_RETURN_IF_ERROR(backend->Migrate());
  if (!backend->print_resets_ && !context.deliver_mail) {
    spdlog::warn(
        "postgresql backend: no [email] section, password-reset tokens cannot be delivered");
  }
  return backend;
}

PostgresqlBackend::PostgresqlBackend(const BackendContext& context,
                                     std::unique_ptr<SqlDriver> driver,
                                     std::int64_t username_min_length, bool print_resets)
    : hasher_(context.hasher),
      policy_(context.policy),
      clock_(context.clock),
      out_(context.out),
      deliver_mail_(context.deliver_mail),
      username_min_length_(username_min_length),
      print_resets_(print_resets),
      driver_(std::move(driver)),
      failures_(*driver_, context.clock) {}

Status PostgresqlBackend::Migrate() {
  std::optional<SecretBytes> root_password;
  KISEE_RETURN_IF_ERROR(driver_->InTransaction([&](SqlSession& session) -> Status {
    // Instances starting together queue here; the first creates the schema
    // and root, the others then find both.
    KISEE_RETURN_IF_ERROR(session.Run(kSchemaLock, {}));
    for (std::string_view ddl : kSchemaV1) {
      KISEE_RETURN_IF_ERROR(session.Run(ddl, {}));
    }
    KISEE_ASSIGN_OR_RETURN(SqlResult version,
                           session.Run("SELECT max(version) FROM kisee_schema", {}));
    const std::optional<std::string> current =
        version.rows.empty() || version.rows[0].empty() ? std::nullopt : version.rows[0][0];
    if (!current) {
      KISEE_RETURN_IF_ERROR(session.Run("INSERT INTO kisee_schema (version) VALUES (:version)",
                                        {{"version", std::to_string(kSchemaVersion)}}));
    } else if (*current != std::to_string(kSchemaVersion)) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       fmt::format("postgresql: the database schema (version {}) is not the one "
                                   "this kisee knows (version {})",
                                   *current, kSchemaVersion));
    }
    KISEE_ASSIGN_OR_RETURN(SqlResult any, session.Run("SELECT 1 FROM kisee_users LIMIT 1", {}));
    if (any.rows.empty()) {
      SecretBytes password(RandomString(20, kAlnum));
      KISEE_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(password.chars()));
      KISEE_RETURN_IF_ERROR(session.Run(
          "INSERT INTO kisee_users (username, email, password_hash, is_superuser, created_at) "
          "VALUES ('root', 'root@localhost', :hash, TRUE, :now)",
          {{"hash", hash}, {"now", std::to_string(clock_.NowSeconds())}}));
      root_password = std::move(password);
    }
    return Ok();
  }));
  if (root_password) {
    PrintAdminCredentials(out_, root_password->chars());
  }
  return Ok();
}

Result<std::optional<PostgresqlBackend::Row>> PostgresqlBackend::FindBy(std::string_view where,
                                                                        std::string_view value) {
  KISEE_ASSIGN_OR_RETURN(
      SqlResult r,
      driver_->Run(fmt::format("SELECT {} FROM kisee_users WHERE {}", kUserColumns, where),
                   {{"value", std::string(value)}}));
  if (r.rows.empty()) {
    return std::optional<Row>();
  }
  const auto& row = r.rows[0];
  Row out{.user = {.user_id = row[0].value_or(""),
                   .username = row[0].value_or(""),
                   .email = row[1].value_or(""),
                   .is_superuser = IsTruthy(row[3].value_or(""))},
          .password_hash = row[2].value_or("")};
  return std::optional<Row>(std::move(out));
}

Result<std::optional<User>> PostgresqlBackend::Identify(std::string_view username,
                                                        std::string_view password) {
  KISEE_ASSIGN_OR_RETURN(auto row, FindBy("username = :value", username));
  // An unknown user and an empty password (always wrong) cost one
  // verification, like a wrong password: the time says nothing of who exists.
  if (!row || password.empty()) {
    hasher_.VerifyDummy(password);
    return std::optional<User>();
  }
  if (!hasher_.Verify(password, row->password_hash)) {
    return std::optional<User>();
  }
  if (hasher_.NeedsRehash(row->password_hash)) {
    if (auto upgraded = hasher_.Hash(password); upgraded) {
      // Only replace the hash we verified: a concurrent password change wins.
      auto done = driver_->Run(
          "UPDATE kisee_users SET password_hash = :new WHERE username = :username AND "
          "password_hash = :old",
          {{"new", *upgraded}, {"username", std::string(username)}, {"old", row->password_hash}});
      if (!done) {
        spdlog::warn("postgresql backend: could not upgrade a password hash: {}",
                     done.error().message());
      }
    }
  }
  return std::optional<User>(std::move(row->user));
}

Status PostgresqlBackend::RegisterUser(std::string_view username, std::string_view password,
                                       std::string_view email, bool is_superuser) {
  KISEE_RETURN_IF_ERROR(CheckUsername(username, username_min_length_));
  KISEE_RETURN_IF_ERROR(policy_.Check(password));
  KISEE_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(password));
  auto done = driver_->Run(
      "INSERT INTO kisee_users (username, email, password_hash, is_superuser, created_at) "
      "VALUES (:username, :email, :hash, :superuser, :now)",
      {{"username", std::string(username)},
       {"email", std::string(email)},
       {"hash", hash},
       {"superuser", is_superuser ? "1" : "0"},
       {"now", std::to_string(clock_.NowSeconds())}});
  if (!done) {
    if (done.error().code() == ErrorCode::kAlreadyExists) {
      return MakeError(ErrorCode::kAlreadyExists, "User already exist");
    }
    return std::unexpected(done.error());
  }
  return Ok();
}

Result<std::optional<User>> PostgresqlBackend::GetUserByEmail(std::string_view email) {
  KISEE_ASSIGN_OR_RETURN(auto row, FindBy("lower(email) = lower(:value)", email));
  if (!row) {
    return std::optional<User>();
  }
  return std::optional<User>(std::move(row->user));
}

Result<std::optional<User>> PostgresqlBackend::GetUserByUsername(std::string_view username) {
  KISEE_ASSIGN_OR_RETURN(auto row, FindBy("username = :value", username));
  if (!row) {
    return std::optional<User>();
  }
  return std::optional<User>(std::move(row->user));
}

Status PostgresqlBackend::SetPasswordForUser(const User& user, std::string_view password) {
  KISEE_RETURN_IF_ERROR(policy_.Check(password));
  KISEE_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(password));
  KISEE_ASSIGN_OR_RETURN(
      SqlResult r, driver_->Run("UPDATE kisee_users SET password_hash = :hash, reset_nonce = '' "
                                "WHERE username = :username",
                                {{"hash", hash}, {"username", user.username}}));
  if (r.affected == 0) {
    return MakeError(ErrorCode::kNotFound, "No such user");
  }
  return Ok();
}

Status PostgresqlBackend::SendResetPasswordChallenge(const User& user, std::string_view token) {
  if (print_resets_) {
    PrintResetLine(out_, user, token);
    return Ok();
  }
  return MailResetToken(deliver_mail_, user, token);
}

Result<std::string> PostgresqlBackend::ResetStamp(const User& user) {
  KISEE_ASSIGN_OR_RETURN(SqlResult r,
                         driver_->Run("SELECT password_hash || '|' || reset_nonce FROM kisee_users "
                                      "WHERE username = :username",
                                      {{"username", user.username}}));
  if (r.rows.empty()) {
    return MakeError(ErrorCode::kNotFound, "No such user");
  }
  return r.rows[0][0].value_or("");
}

Result<std::string> PostgresqlBackend::NewResetStamp(const User& user) {
  KISEE_ASSIGN_OR_RETURN(
      SqlResult r,
      driver_->Run("UPDATE kisee_users SET reset_nonce = :nonce WHERE username = :username "
                   "RETURNING password_hash || '|' || reset_nonce",
                   {{"nonce", RandomId()}, {"username", user.username}}));
  if (r.rows.empty()) {
    return MakeError(ErrorCode::kNotFound, "No such user");
  }
  return r.rows[0][0].value_or("");
}

}  // namespace kisee::idp
