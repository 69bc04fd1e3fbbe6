#include "idp/sql_driver.h"

#include <fmt/format.h>

#include "idp/module.h"
#include "idp/sqlite_db.h"

namespace kisee::idp {
namespace {

bool IsNameStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// ScanSql calls on_text for every run of SQL text and on_param for every
// ":name" outside quotes and comments. One scanner serves both the listing
// and the rewriting, so they cannot disagree.
template <typename OnText, typename OnParam>
void ScanSql(std::string_view sql, OnText on_text, OnParam on_param) {
  std::size_t i = 0;
  std::size_t text_start = 0;
  auto skip_until = [&](std::string_view end) {
    std::size_t found = sql.find(end, i);
    i = found == std::string_view::npos ? sql.size() : found + end.size();
  };
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      // Quoted text or identifier; a doubled quote is an escaped quote and
      // simply reopens the quoting on the next pass.
      ++i;
      skip_until(std::string_view(&c, 1));
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      skip_until("\n");
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      i += 2;
      skip_until("*/");
    } else if (c == ':' && i + 1 < sql.size() && sql[i + 1] == ':') {
      i += 2;  // a PostgreSQL cast
    } else if (c == ':' && i + 1 < sql.size() && IsNameStart(sql[i + 1])) {
      on_text(sql.substr(text_start, i - text_start));
      std::size_t end = i + 1;
      while (end < sql.size() && IsNameChar(sql[end])) {
        ++end;
      }
      on_param(sql.substr(i + 1, end - i - 1));
      i = end;
      text_start = end;
    } else {
      ++i;
    }
  }
  on_text(sql.substr(text_start));
}

// SqliteSession runs statements on one leased SQLite connection.
class SqliteSession final : public SqlSession {
 public:
  explicit SqliteSession(sqlite::Connection& conn) : conn_(conn) {}

  Result<SqlResult> Run(std::string_view sql, const SqlParams& params) override {
    const std::vector<std::string> names = SqlParameterNames(sql);
    KISEE_ASSIGN_OR_RETURN(std::vector<std::string> values, BindSqlParameters(names, params));
    KISEE_ASSIGN_OR_RETURN(auto stmt, conn_.Prepare(RewriteSqlParameters(sql, names, '?')));
    for (std::size_t i = 0; i < values.size(); ++i) {
      stmt->Bind(static_cast<int>(i + 1), values[i]);
    }
    SqlResult result;
    for (int i = 0; i < stmt->ColumnCount(); ++i) {
      result.columns.push_back(stmt->ColumnName(i));
    }
    for (;;) {
      KISEE_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) {
        break;
      }
      auto& out = result.rows.emplace_back();
      for (int i = 0; i < static_cast<int>(result.columns.size()); ++i) {
        out.push_back(stmt->ColumnIsNull(i) ? std::nullopt
                                            : std::optional<std::string>(stmt->ColumnText(i)));
      }
    }
    result.affected = conn_.changes();
    return result;
  }

 private:
  sqlite::Connection& conn_;
};

class SqliteDriver final : public SqlDriver {
 public:
  SqliteDriver(std::filesystem::path path, std::size_t pool_size, int busy_timeout_ms)
      : pool_(std::move(path), pool_size, busy_timeout_ms) {}

  Dialect dialect() const override { return Dialect::kSqlite; }

  Result<SqlResult> Run(std::string_view sql, const SqlParams& params) override {
    KISEE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    SqliteSession session(*conn);
    return session.Run(sql, params);
  }

  Status InTransaction(const std::function<Status(SqlSession&)>& body) override {
    KISEE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    KISEE_ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::Begin(*conn));
    SqliteSession session(*conn);
    KISEE_RETURN_IF_ERROR(body(session));
    return tx.Commit();
  }

  bool Ping() override {
    auto conn = pool_.Acquire();
    if (!conn) {
      return false;
    }
    auto stmt = (*conn)->Prepare("SELECT 1");
    return stmt && (*stmt)->Step().has_value();
  }

 private:
  sqlite::Pool pool_;
};

}  // namespace

int SqlResult::Column(std::string_view name) const {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

std::vector<std::string> SqlParameterNames(std::string_view sql) {
  std::vector<std::string> names;
  ScanSql(
      sql, [](std::string_view) {},
      [&](std::string_view name) {
        if (std::find(names.begin(), names.end(), name) == names.end()) {
          names.emplace_back(name);
        }
      });
  return names;
}

std::string RewriteSqlParameters(std::string_view sql, const std::vector<std::string>& names,
                                 char marker) {
  std::string out;
  out.reserve(sql.size());
  ScanSql(
      sql, [&](std::string_view text) { out += text; },
      [&](std::string_view name) {
        auto it = std::find(names.begin(), names.end(), name);
        out += marker;
        out += std::to_string(it - names.begin() + 1);
      });
  return out;
}

Result<std::vector<std::string>> BindSqlParameters(const std::vector<std::string>& names,
                                                   const SqlParams& params) {
  std::vector<std::string> values;
  values.reserve(names.size());
  for (const std::string& name : names) {
    auto it = params.find(name);
    if (it == params.end()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("unknown query parameter :{}", name));
    }
    values.push_back(it->second);
  }
  return values;
}

Result<std::unique_ptr<SqlDriver>> CreateSqliteDriver(const std::filesystem::path& path,
                                                      std::size_t pool_size, int busy_timeout_ms) {
  auto driver = std::make_unique<SqliteDriver>(path, pool_size, busy_timeout_ms);
  // Open one connection now: a path that cannot be opened is a start-up
  // error, not a surprise at the first login.
  if (!driver->Ping()) {
    return MakeError(ErrorCode::kUnavailable, fmt::format("sqlite: cannot open {}", path.string()));
  }
  return std::unique_ptr<SqlDriver>(std::move(driver));
}

Result<std::unique_ptr<SqlDriver>> CreatePostgresqlDriver(const PostgresqlDriverOptions& options) {
  KISEE_ASSIGN_OR_RETURN(const ModuleApi* api, LoadModule("postgresql"));
  if (api->create_sql_driver == nullptr) {
    return MakeError(ErrorCode::kFailedPrecondition, "module kisee-postgresql has no SQL driver");
  }
  return api->create_sql_driver(options);
}

}  // namespace kisee::idp
