#include "idp/sqlite_backend.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <mutex>

#include "idp/backend_util.h"
#include "kisee/core/random.h"
#include "kisee/core/secret.h"

namespace kisee::idp {
namespace {

constexpr std::string_view kAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS users (
  username      TEXT PRIMARY KEY NOT NULL,
  email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash TEXT NOT NULL,
  is_superuser  INTEGER NOT NULL DEFAULT 0,
  reset_nonce   TEXT NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
  key          TEXT PRIMARY KEY NOT NULL,
  window_start INTEGER NOT NULL,
  count        INTEGER NOT NULL,
  locked_until INTEGER NOT NULL,
  level        INTEGER NOT NULL
);
PRAGMA user_version = 1;
)sql";

// SqliteFailureStore keeps the login-failure counters in the database, so
// every process sharing the file sees the same lockouts.
class SqliteFailureStore final : public FailureStore {
 public:
  SqliteFailureStore(sqlite::Pool& pool, const Clock& clock) : pool_(pool), clock_(clock) {}

  Result<std::optional<FailureRecord>> Get(std::string_view key) override {
    KISEE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    return Read(*conn, key);
  }

  Status Update(std::string_view key, const Updater& update) override {
    KISEE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    KISEE_ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::Begin(*conn));
    KISEE_ASSIGN_OR_RETURN(auto current, Read(*conn, key));
    FailureRecord next = update(current);
    KISEE_ASSIGN_OR_RETURN(auto stmt,
                           conn->Prepare("INSERT INTO login_failures (key, window_start, count, "
                                         "locked_until, level) VALUES (?1, ?2, ?3, ?4, ?5) "
                                         "ON CONFLICT(key) DO UPDATE SET window_start = ?2, "
                                         "count = ?3, locked_until = ?4, level = ?5"));
    stmt->Bind(1, key).Bind(2, next.window_start).Bind(3, next.count);
    stmt->Bind(4, next.locked_until).Bind(5, next.level);
    KISEE_RETURN_IF_ERROR(stmt->Step());
    // Old counters are useless after a day; sweeping now and then keeps an
    // address-spraying attacker from growing the table forever.
    if (++updates_ % 256 == 0) {
      KISEE_ASSIGN_OR_RETURN(auto sweep, conn->Prepare("DELETE FROM login_failures WHERE "
                                                       "window_start < ?1 AND locked_until < ?1"));
      sweep->Bind(1, clock_.NowSeconds() - 86400);
      KISEE_RETURN_IF_ERROR(sweep->Step());
    }
    return tx.Commit();
  }

 private:
  static Result<std::optional<FailureRecord>> Read(sqlite::Connection& conn, std::string_view key) {
    KISEE_ASSIGN_OR_RETURN(auto stmt,
                           conn.Prepare("SELECT window_start, count, locked_until, level "
                                        "FROM login_failures WHERE key = ?1"));
    stmt->Bind(1, key);
    KISEE_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) {
      return std::optional<FailureRecord>();
    }
    return std::optional<FailureRecord>(FailureRecord{.window_start = stmt->ColumnInt(0),
                                                      .count = stmt->ColumnInt(1),
                                                      .locked_until = stmt->ColumnInt(2),
                                                      .level = stmt->ColumnInt(3)});
  }

  sqlite::Pool& pool_;
  const Clock& clock_;
  std::atomic<std::uint64_t> updates_{0};
};

}  // namespace

Result<std::unique_ptr<SqliteBackend>> SqliteBackend::Create(const BackendContext& context) {
  const Options& options = context.settings.backend.options;
  KISEE_ASSIGN_OR_RETURN(std::string path, StringOption(options, "path", "kisee.db"));
  KISEE_ASSIGN_OR_RETURN(std::int64_t min_length, IntOption(options, "username_min_length", 3));
  KISEE_ASSIGN_OR_RETURN(std::int64_t busy, IntOption(options, "busy_timeout_ms", 5000));
  KISEE_ASSIGN_OR_RETURN(std::string delivery, StringOption(options, "reset_delivery", "email"));
  if (delivery != "email" && delivery != "stdout") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "identity_backend.options.reset_delivery must be \"email\" or \"stdout\"");
  }
  // One connection per hashing thread plus a few for the I/O-side reads.
  const std::size_t pool_size = crypto::DefaultHashingThreads() + 4;
  std::unique_ptr<SqliteBackend> backend(
      new SqliteBackend(context, context.settings.ResolvePath(path), pool_size,
                        static_cast<int>(busy), min_length, delivery == "stdout"));
  KISEE_RETURN_IF_ERROR(backend->Migrate());
  if (!backend->print_resets_ && !context.deliver_mail) {
    spdlog::warn("sqlite backend: no [email] section, password-reset tokens cannot be delivered");
  }
  return backend;
}

SqliteBackend::SqliteBackend(const BackendContext& context, std::filesystem::path path,
                             std::size_t pool_size, int busy_timeout_ms,
                             std::int64_t username_min_length, bool print_resets)
    : hasher_(context.hasher),
      policy_(context.policy),
      clock_(context.clock),
      out_(context.out),
      deliver_mail_(context.deliver_mail),
      username_min_length_(username_min_length),
      print_resets_(print_resets),
      pool_(std::move(path), pool_size, busy_timeout_ms),
      failures_(std::make_unique<SqliteFailureStore>(pool_, context.clock)) {}

Status SqliteBackend::Migrate() {
  KISEE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  // IMMEDIATE takes the write lock first: a second process starting at the
  // same moment waits here (busy timeout) and then finds the schema made.
  KISEE_ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::Begin(*conn));
  KISEE_ASSIGN_OR_RETURN(auto version_stmt, conn->Prepare("PRAGMA user_version"));
  KISEE_ASSIGN_OR_RETURN(bool has_version, version_stmt->Step());
  const std::int64_t version = has_version ? version_stmt->ColumnInt(0) : 0;
  version_stmt.reset();
  if (version > kSchemaVersion) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     fmt::format("sqlite: the database schema (version {}) is newer than this "
                                 "kisee (version {})",
                                 version, kSchemaVersion));
  }
  if (version < 1) {
    KISEE_RETURN_IF_ERROR(conn->Execute(kSchemaV1));
  }
  // The first start of an empty store creates the administrator.
  KISEE_ASSIGN_OR_RETURN(auto count, conn->Prepare("SELECT COUNT(*) FROM users"));
  KISEE_RETURN_IF_ERROR(count->Step());
  std::optional<SecretBytes> root_password;
  if (count->ColumnInt(0) == 0) {
    SecretBytes password(RandomString(20, kAlnum));
    KISEE_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(password.chars()));
    KISEE_ASSIGN_OR_RETURN(auto insert,
                           conn->Prepare("INSERT INTO users (username, email, password_hash, "
                                         "is_superuser, created_at) VALUES ('root', "
                                         "'root@localhost', ?1, 1, ?2)"));
    insert->Bind(1, hash).Bind(2, clock_.NowSeconds());
    KISEE_RETURN_IF_ERROR(insert->Step());
    root_password = std::move(password);
  }
  count.reset();
  KISEE_RETURN_IF_ERROR(tx.Commit());
  if (root_password) {
    PrintAdminCredentials(out_, root_password->chars());
  }
  return Ok();
}

Result<std::optional<SqliteBackend::Row>> SqliteBackend::FindBy(std::string_view column,
                                                                std::string_view value) {
  KISEE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  KISEE_ASSIGN_OR_RETURN(auto stmt,
                         conn->Prepare(fmt::format("SELECT username, email, password_hash, "
                                                   "is_superuser FROM users WHERE {} = ?1",
                                                   column)));
  stmt->Bind(1, value);
  KISEE_ASSIGN_OR_RETURN(bool found, stmt->Step());
  if (!found) {
    return std::optional<Row>();
  }
  Row row{.user = {.user_id = stmt->ColumnText(0),
                   .username = stmt->ColumnText(0),
                   .email = stmt->ColumnText(1),
                   .is_superuser = stmt->ColumnInt(3) != 0},
          .password_hash = stmt->ColumnText(2)};
  return std::optional<Row>(std::move(row));
}

Result<std::optional<User>> SqliteBackend::Identify(std::string_view username,
                                                    std::string_view password) {
  // The connection is released before hashing: a 15 ms hash must not hold
  // one of the few connections.
  KISEE_ASSIGN_OR_RETURN(auto row, FindBy("username", username));
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
    auto upgraded = hasher_.Hash(password);
    if (upgraded) {
      // Only replace the hash we verified: a concurrent password change wins.
      auto conn = pool_.Acquire();
      if (conn) {
        auto stmt = (*conn)->Prepare(
            "UPDATE users SET password_hash = ?1 WHERE username = ?2 AND password_hash = ?3");
        if (stmt) {
          (*stmt)->Bind(1, *upgraded).Bind(2, username).Bind(3, row->password_hash);
          if (auto done = (*stmt)->Step(); !done) {
            spdlog::warn("sqlite backend: could not upgrade a password hash: {}",
                         done.error().message());
          }
        }
      }
    }
  }
  return std::optional<User>(std::move(row->user));
}

Status SqliteBackend::RegisterUser(std::string_view username, std::string_view password,
                                   std::string_view email, bool is_superuser) {
  KISEE_RETURN_IF_ERROR(CheckUsername(username, username_min_length_));
  KISEE_RETURN_IF_ERROR(policy_.Check(password));
  KISEE_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(password));
  KISEE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  KISEE_ASSIGN_OR_RETURN(auto stmt,
                         conn->Prepare("INSERT INTO users (username, email, password_hash, "
                                       "is_superuser, created_at) VALUES (?1, ?2, ?3, ?4, ?5)"));
  stmt->Bind(1, username).Bind(2, email).Bind(3, hash);
  stmt->Bind(4, std::int64_t{is_superuser ? 1 : 0}).Bind(5, clock_.NowSeconds());
  auto done = stmt->Step();
  if (!done) {
    if (done.error().code() == ErrorCode::kAlreadyExists) {
      return MakeError(ErrorCode::kAlreadyExists, "User already exist");
    }
    return std::unexpected(done.error());
  }
  return Ok();
}

Result<std::optional<User>> SqliteBackend::GetUserByEmail(std::string_view email) {
  KISEE_ASSIGN_OR_RETURN(auto row, FindBy("email", email));
  if (!row) {
    return std::optional<User>();
  }
  return std::optional<User>(std::move(row->user));
}

Result<std::optional<User>> SqliteBackend::GetUserByUsername(std::string_view username) {
  KISEE_ASSIGN_OR_RETURN(auto row, FindBy("username", username));
  if (!row) {
    return std::optional<User>();
  }
  return std::optional<User>(std::move(row->user));
}

Status SqliteBackend::SetPasswordForUser(const User& user, std::string_view password) {
  KISEE_RETURN_IF_ERROR(policy_.Check(password));
  KISEE_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(password));
  KISEE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  KISEE_ASSIGN_OR_RETURN(auto stmt, conn->Prepare("UPDATE users SET password_hash = ?1, "
                                                  "reset_nonce = '' WHERE username = ?2"));
  stmt->Bind(1, hash).Bind(2, user.username);
  KISEE_RETURN_IF_ERROR(stmt->Step());
  if (conn->changes() == 0) {
    return MakeError(ErrorCode::kNotFound, "No such user");
  }
  return Ok();
}

Status SqliteBackend::SendResetPasswordChallenge(const User& user, std::string_view token) {
  if (print_resets_) {
    PrintResetLine(out_, user, token);
    return Ok();
  }
  return MailResetToken(deliver_mail_, user, token);
}

bool SqliteBackend::IsConnectionAlive() {
  auto conn = pool_.Acquire();
  if (!conn) {
    return false;
  }
  auto stmt = (*conn)->Prepare("SELECT 1 FROM users LIMIT 1");
  return stmt && (*stmt)->Step().has_value();
}

Result<std::string> SqliteBackend::ResetStamp(const User& user) {
  KISEE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  KISEE_ASSIGN_OR_RETURN(auto stmt, conn->Prepare("SELECT password_hash || '|' || reset_nonce "
                                                  "FROM users WHERE username = ?1"));
  stmt->Bind(1, user.username);
  KISEE_ASSIGN_OR_RETURN(bool found, stmt->Step());
  if (!found) {
    return MakeError(ErrorCode::kNotFound, "No such user");
  }
  return stmt->ColumnText(0);
}

Result<std::string> SqliteBackend::NewResetStamp(const User& user) {
  KISEE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  KISEE_ASSIGN_OR_RETURN(auto stmt,
                         conn->Prepare("UPDATE users SET reset_nonce = ?1 WHERE username = ?2 "
                                       "RETURNING password_hash || '|' || reset_nonce"));
  stmt->Bind(1, RandomId()).Bind(2, user.username);
  KISEE_ASSIGN_OR_RETURN(bool found, stmt->Step());
  if (!found) {
    return MakeError(ErrorCode::kNotFound, "No such user");
  }
  std::string stamp = stmt->ColumnText(0);
  // RETURNING rows are produced before the change is final: finish the step.
  KISEE_RETURN_IF_ERROR(stmt->Step());
  return stamp;
}

}  // namespace kisee::idp
