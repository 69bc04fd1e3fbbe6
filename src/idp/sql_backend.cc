#include "idp/sql_backend.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>

#include "idp/backend_util.h"
#include "idp/sql_state.h"

namespace kisee::idp {
namespace {

constexpr std::string_view kSideTableLock = "SELECT pg_advisory_xact_lock(7315412902461134)";

// CheckQuery refuses a configured query that uses a parameter kisee does not
// supply: better a start-up error than a 503 at the first login.
Status CheckQuery(std::string_view option, std::string_view sql,
                  std::initializer_list<std::string_view> allowed) {
  for (const std::string& name : SqlParameterNames(sql)) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string list;
      for (std::string_view a : allowed) {
        list += fmt::format("{}:{}", list.empty() ? "" : ", ", a);
      }
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("identity_backend.options.{}: unknown parameter :{} (known: {})",
                                   option, name, list));
    }
  }
  return Ok();
}

}  // namespace

Result<std::unique_ptr<SqlBackend>> SqlBackend::Create(const BackendContext& context) {
  const Options& options = context.settings.backend.options;
  KISEE_ASSIGN_OR_RETURN(std::string driver_name, StringOption(options, "driver", ""));
  KISEE_ASSIGN_OR_RETURN(std::int64_t pool_size, IntOption(options, "pool_size", 8));
  KISEE_ASSIGN_OR_RETURN(std::int64_t timeout, IntOption(options, "timeout", 5));
  KISEE_ASSIGN_OR_RETURN(std::int64_t min_length, IntOption(options, "username_min_length", 3));
  KISEE_ASSIGN_OR_RETURN(std::string delivery, StringOption(options, "reset_delivery", "email"));
  if (delivery != "email" && delivery != "stdout") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "identity_backend.options.reset_delivery must be \"email\" or \"stdout\"");
  }
  if (pool_size < 1 || timeout < 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "identity_backend.options.pool_size and timeout must be at least 1");
  }
  Queries queries;
  KISEE_ASSIGN_OR_RETURN(queries.by_username, StringOption(options, "by_username", ""));
  if (queries.by_username.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "missing required setting identity_backend.options.by_username");
  }
  KISEE_ASSIGN_OR_RETURN(queries.by_email, OptionalStringOption(options, "by_email"));
  KISEE_ASSIGN_OR_RETURN(queries.set_password, OptionalStringOption(options, "set_password"));
  KISEE_ASSIGN_OR_RETURN(queries.insert_user, OptionalStringOption(options, "insert_user"));
  KISEE_RETURN_IF_ERROR(CheckQuery("by_username", queries.by_username, {"username"}));
  if (queries.by_email) {
    KISEE_RETURN_IF_ERROR(CheckQuery("by_email", *queries.by_email, {"email"}));
  }
  if (queries.set_password) {
    KISEE_RETURN_IF_ERROR(CheckQuery("set_password", *queries.set_password,
                                     {"password_hash", "user_id", "username"}));
  }
  if (queries.insert_user) {
    KISEE_RETURN_IF_ERROR(CheckQuery("insert_user", *queries.insert_user,
                                     {"username", "email", "password_hash", "is_superuser"}));
  }

  std::unique_ptr<SqlDriver> driver;
  if (driver_name == "sqlite") {
    KISEE_ASSIGN_OR_RETURN(std::string path, StringOption(options, "path", ""));
    if (path.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "missing required setting identity_backend.options.path (driver sqlite)");
    }
    KISEE_ASSIGN_OR_RETURN(driver, CreateSqliteDriver(context.settings.ResolvePath(path),
                                                      static_cast<std::size_t>(pool_size),
                                                      static_cast<int>(timeout * 1000)));
  } else if (driver_name == "postgresql") {
    KISEE_ASSIGN_OR_RETURN(std::string dsn, StringOption(options, "dsn", ""));
    if (dsn.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "missing required setting identity_backend.options.dsn (driver postgresql)");
    }
    KISEE_ASSIGN_OR_RETURN(driver,
                           CreatePostgresqlDriver({.dsn = dsn,
                                                   .pool_size = static_cast<std::size_t>(pool_size),
                                                   .timeout_ms = timeout * 1000}));
  } else {
    return MakeError(ErrorCode::kInvalidArgument,
                     "identity_backend.options.driver must be \"postgresql\" or \"sqlite\"");
  }
  std::unique_ptr<SqlBackend> backend(new SqlBackend(context, std::move(driver), std::move(queries),
                                                     min_length, delivery == "stdout"));
  KISEE_RETURN_IF_ERROR(backend->Prepare());
  if (backend->can_change_passwords() && !backend->print_resets_ && !context.deliver_mail) {
    spdlog::warn("sql backend: no [email] section, password-reset tokens cannot be delivered");
  }
  return backend;
}

SqlBackend::SqlBackend(const BackendContext& context, std::unique_ptr<SqlDriver> driver,
                       Queries queries, std::int64_t username_min_length, bool print_resets)
    : hasher_(context.hasher),
      policy_(context.policy),
      out_(context.out),
      deliver_mail_(context.deliver_mail),
      queries_(std::move(queries)),
      username_min_length_(username_min_length),
      print_resets_(print_resets),
      driver_(std::move(driver)) {
  if (writable()) {
    failures_ = std::make_unique<SqlFailureStore>(*driver_, context.clock);
  } else {
    failures_ = std::make_unique<MemoryFailureStore>(context.clock);
  }
}

Status SqlBackend::Prepare() {
  // The lookups run once with a name nobody has: their result columns are
  // known even without a row, and a syntax error shows now.
  const std::string nobody = "\x01kisee-column-check";
  for (const auto& [option, query, param] :
       {std::tuple<std::string_view, const std::optional<std::string>*, std::string_view>{
            "by_username", nullptr, "username"},
        {"by_email", &queries_.by_email, "email"}}) {
    const std::string& sql = query == nullptr ? queries_.by_username : **query;
    if (query != nullptr && !*query) {
      continue;
    }
    auto r = driver_->Run(sql, {{std::string(param), nobody}});
    if (!r) {
      return std::unexpected(
          r.error().WithContext(fmt::format("identity_backend.options.{}", option)));
    }
    for (const char* column : {"user_id", "username", "password_hash"}) {
      if (r->Column(column) < 0) {
        return MakeError(ErrorCode::kInvalidArgument,
                         fmt::format("identity_backend.options.{} must return a column named {} "
                                     "(use AS {})",
                                     option, column, column));
      }
    }
  }
  if (!writable()) {
    return Ok();
  }
  return driver_->InTransaction([&](SqlSession& session) -> Status {
    if (driver_->dialect() == SqlDriver::Dialect::kPostgresql) {
      KISEE_RETURN_IF_ERROR(session.Run(kSideTableLock, {}));
    }
    KISEE_RETURN_IF_ERROR(session.Run(kFailureTableDdl, {}));
    KISEE_RETURN_IF_ERROR(session.Run(kResetNonceTableDdl, {}));
    return Ok();
  });
}

Result<std::optional<SqlBackend::Row>> SqlBackend::Lookup(const std::string& query,
                                                          std::string_view name,
                                                          std::string_view value) {
  KISEE_ASSIGN_OR_RETURN(SqlResult r,
                         driver_->Run(query, {{std::string(name), std::string(value)}}));
  if (r.rows.empty()) {
    return std::optional<Row>();
  }
  if (r.rows.size() > 1) {
    // An ambiguous lookup must not pick someone: nobody matches.
    spdlog::warn("sql backend: the {} lookup returned {} rows; treated as no user", name,
                 r.rows.size());
    return std::optional<Row>();
  }
  auto text = [&](const char* column) -> std::string {
    const int i = r.Column(column);
    return i < 0 ? std::string() : r.rows[0][i].value_or("");
  };
  Row row{.user = {.user_id = text("user_id"),
                   .username = text("username"),
                   .email = text("email"),
                   .is_superuser = IsTruthy(text("is_superuser"))},
          .password_hash = text("password_hash")};
  if (row.user.user_id.empty() || row.user.username.empty()) {
    spdlog::warn("sql backend: the {} lookup returned an empty user_id or username", name);
    return std::optional<Row>();
  }
  return std::optional<Row>(std::move(row));
}

Result<std::optional<User>> SqlBackend::Identify(std::string_view username,
                                                 std::string_view password) {
  KISEE_ASSIGN_OR_RETURN(auto row, Lookup(queries_.by_username, "username", username));
  // An unknown user and an empty password (always wrong) cost one
  // verification, like a wrong password: the time says nothing of who exists.
  if (!row || password.empty()) {
    hasher_.VerifyDummy(password);
    return std::optional<User>();
  }
  if (!hasher_.Verify(password, row->password_hash)) {
    return std::optional<User>();
  }
  if (queries_.set_password && hasher_.NeedsRehash(row->password_hash)) {
    // Imported bcrypt / sha512-crypt / yescrypt hashes and older argon2id
    // parameters become today's argon2id.
    if (auto upgraded = hasher_.Hash(password); upgraded) {
      auto done = driver_->Run(*queries_.set_password, {{"password_hash", *upgraded},
                                                        {"user_id", row->user.user_id},
                                                        {"username", row->user.username}});
      if (!done) {
        spdlog::warn("sql backend: could not upgrade a password hash: {}", done.error().message());
      }
    }
  }
  return std::optional<User>(std::move(row->user));
}

Status SqlBackend::RegisterUser(std::string_view username, std::string_view password,
                                std::string_view email, bool is_superuser) {
  if (!queries_.insert_user) {
    return MakeError(ErrorCode::kPermissionDenied, "Registration is not available.");
  }
  KISEE_RETURN_IF_ERROR(CheckUsername(username, username_min_length_));
  KISEE_RETURN_IF_ERROR(policy_.Check(password));
  // The schema may have no unique constraints: look first. (A constraint,
  // when there is one, still catches the race below.)
  KISEE_ASSIGN_OR_RETURN(auto by_name, Lookup(queries_.by_username, "username", username));
  if (by_name) {
    return MakeError(ErrorCode::kAlreadyExists, "User already exist");
  }
  if (queries_.by_email) {
    KISEE_ASSIGN_OR_RETURN(auto by_email, Lookup(*queries_.by_email, "email", email));
    if (by_email) {
      return MakeError(ErrorCode::kAlreadyExists, "User already exist");
    }
  }
  KISEE_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(password));
  auto done = driver_->Run(*queries_.insert_user, {{"username", std::string(username)},
                                                   {"email", std::string(email)},
                                                   {"password_hash", hash},
                                                   {"is_superuser", is_superuser ? "1" : "0"}});
  if (!done) {
    if (done.error().code() == ErrorCode::kAlreadyExists) {
      return MakeError(ErrorCode::kAlreadyExists, "User already exist");
    }
    return std::unexpected(done.error());
  }
  return Ok();
}

Result<std::optional<User>> SqlBackend::GetUserByEmail(std::string_view email) {
  if (!queries_.by_email) {
    return std::optional<User>();
  }
  KISEE_ASSIGN_OR_RETURN(auto row, Lookup(*queries_.by_email, "email", email));
  if (!row) {
    return std::optional<User>();
  }
  return std::optional<User>(std::move(row->user));
}

Result<std::optional<User>> SqlBackend::GetUserByUsername(std::string_view username) {
  KISEE_ASSIGN_OR_RETURN(auto row, Lookup(queries_.by_username, "username", username));
  if (!row) {
    return std::optional<User>();
  }
  return std::optional<User>(std::move(row->user));
}

Status SqlBackend::SetPasswordForUser(const User& user, std::string_view password) {
  if (!queries_.set_password) {
    return MakeError(ErrorCode::kPermissionDenied, "Password changes are not available.");
  }
  KISEE_RETURN_IF_ERROR(policy_.Check(password));
  KISEE_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(password));
  KISEE_ASSIGN_OR_RETURN(SqlResult r,
                         driver_->Run(*queries_.set_password, {{"password_hash", hash},
                                                               {"user_id", user.user_id},
                                                               {"username", user.username}}));
  if (r.affected == 0) {
    return MakeError(ErrorCode::kNotFound, "No such user");
  }
  return Ok();
}

Status SqlBackend::SendResetPasswordChallenge(const User& user, std::string_view token) {
  if (print_resets_) {
    PrintResetLine(out_, user, token);
    return Ok();
  }
  return MailResetToken(deliver_mail_, user, token);
}

Result<std::string> SqlBackend::ResetStamp(const User& user) {
  KISEE_ASSIGN_OR_RETURN(auto row, Lookup(queries_.by_username, "username", user.username));
  if (!row) {
    return MakeError(ErrorCode::kNotFound, "No such user");
  }
  if (!writable()) {
    return row->password_hash;
  }
  KISEE_ASSIGN_OR_RETURN(std::string nonce, ReadResetNonce(*driver_, row->user.user_id));
  return row->password_hash + "|" + nonce;
}

Result<std::string> SqlBackend::NewResetStamp(const User& user) {
  KISEE_ASSIGN_OR_RETURN(auto row, Lookup(queries_.by_username, "username", user.username));
  if (!row) {
    return MakeError(ErrorCode::kNotFound, "No such user");
  }
  if (!writable()) {
    return row->password_hash;
  }
  KISEE_ASSIGN_OR_RETURN(std::string nonce, WriteResetNonce(*driver_, row->user.user_id));
  return row->password_hash + "|" + nonce;
}

}  // namespace kisee::idp
