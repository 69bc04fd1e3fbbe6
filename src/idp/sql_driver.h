// A small interface over the SQL databases kisee stores users in (SQLite
// and PostgreSQL), used by the `postgresql` and `sql` backends: statements
// with named parameters (":username"), results as text, transactions.
// PostgreSQL's driver lives in the kisee-postgresql module (module.h) so that
// libpq is loaded only when the settings use it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kisee/core/error.h"
#include "kisee/idp/settings.h"

namespace kisee::idp {

// SqlParams are the values of a statement's named parameters, by name
// without the colon, as text (the database converts them to the column's
// type: "0"/"1" suit both boolean and integer columns).
using SqlParams = std::map<std::string, std::string, std::less<>>;

// SqlResult is what a statement returned: column names and rows of text
// (NULL is std::nullopt; booleans are the database's text, see IsTruthy),
// and the number of rows an INSERT/UPDATE/DELETE changed.
struct SqlResult {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::int64_t affected = 0;

  // Column returns the index of `name`, or -1.
  int Column(std::string_view name) const;
};

// SqlSession runs statements on one connection (inside a transaction when
// handed out by SqlDriver::InTransaction).
class SqlSession {
 public:
  virtual ~SqlSession() = default;
  // Run executes one statement. Parameters are written ":name" in `sql`
  // (outside quotes; "::" casts are left alone) and every one must be in
  // `params`. Errors: kAlreadyExists for a unique/constraint violation,
  // kUnavailable when the database cannot be reached or the statement timed
  // out, kInvalidArgument for a missing parameter, kInternal otherwise (a
  // message without parameter values).
  virtual Result<SqlResult> Run(std::string_view sql, const SqlParams& params) = 0;
};

// SqlDriver is a pool of connections to one database. Thread-safe; every
// call may block up to the driver's timeout, never longer.
class SqlDriver {
 public:
  enum class Dialect { kSqlite, kPostgresql };

  virtual ~SqlDriver() = default;
  virtual Dialect dialect() const = 0;
  // Run executes one statement on a pooled connection, in autocommit mode.
  virtual Result<SqlResult> Run(std::string_view sql, const SqlParams& params) = 0;
  // InTransaction runs `body` in one transaction, committed when it returns
  // Ok and rolled back otherwise. SQLite takes the write lock at BEGIN; with
  // PostgreSQL use SELECT ... FOR UPDATE or advisory locks for exclusion.
  virtual Status InTransaction(const std::function<Status(SqlSession&)>& body) = 0;
  // Ping is true when the database answers a trivial query now.
  virtual bool Ping() = 0;
};

// SqlParameterNames lists the named parameters of `sql` in order of first
// appearance (skipping quoted text, "::" casts and comments). Used to check
// configured queries at start.
std::vector<std::string> SqlParameterNames(std::string_view sql);

// RewriteSqlParameters replaces every ":name" of `sql` by `marker` followed
// by n ("$1" for PostgreSQL, "?1" for SQLite), n being the 1-based index of
// the name in `names` (the result of SqlParameterNames).
std::string RewriteSqlParameters(std::string_view sql, const std::vector<std::string>& names,
                                 char marker);

// BindSqlParameters returns the values of `names` from `params`, in order.
// kInvalidArgument naming the first parameter that has no value.
Result<std::vector<std::string>> BindSqlParameters(const std::vector<std::string>& names,
                                                   const SqlParams& params);

// CreateSqliteDriver opens a pool of `pool_size` connections to the SQLite
// file `path` (created if needed). Errors: kUnavailable when it cannot be
// opened.
Result<std::unique_ptr<SqlDriver>> CreateSqliteDriver(const std::filesystem::path& path,
                                                      std::size_t pool_size, int busy_timeout_ms);

// PostgresqlDriverOptions configure the PostgreSQL driver.
struct PostgresqlDriverOptions {
  // dsn: a libpq connection string or URI. It may hold a password: never
  // logged (messages name the host and database only).
  std::string dsn;
  std::size_t pool_size = 8;
  // timeout bounds every call (waiting for a connection, connecting, each
  // statement); a database that does not answer within it is unavailable.
  std::int64_t timeout_ms = 5000;
};

// CreatePostgresqlDriver loads the kisee-postgresql module and makes a
// driver. It connects once to check the DSN. Errors: the module's load error
// (kFailedPrecondition), kInvalidArgument for a malformed DSN, kUnavailable
// when the database cannot be reached.
Result<std::unique_ptr<SqlDriver>> CreatePostgresqlDriver(const PostgresqlDriverOptions& options);

}  // namespace kisee::idp
