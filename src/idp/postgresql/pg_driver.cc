// The kisee-postgresql module: an SqlDriver on libpqxx, with a bounded pool
// of connections and a hard bound on every call. A module so that libpq and
// libpqxx are loaded only when the settings use PostgreSQL (idp/module.h).
//
// How "never hang longer than the timeout" is kept:
// - connecting: libpq's connect_timeout (added to the DSN when absent);
// - waiting for a free connection: a deadline on the pool's wait;
// - a statement: the server's statement_timeout, and a watchdog that shuts
//   the socket down when the server itself stops answering (a stopped or
//   partitioned server never sends the timeout error);
// - after a failed connection attempt, calls fail at once for a second
//   instead of queueing behind one connect attempt each.
// libpqxx reports failures with exceptions; none leaves this file.
#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>

#include "idp/module.h"
#include "idp/sql_driver.h"

namespace kisee::idp {
namespace {

using SteadyClock = std::chrono::steady_clock;

// How long calls fail fast after a connection attempt failed.
constexpr auto kFailFastWindow = std::chrono::milliseconds(1000);

// Watchdog shuts down the sockets of calls that outlive their deadline. A
// call arms it before blocking and disarms it after; Disarm synchronises with
// the watchdog thread, so a socket is never touched after its call ended (its
// descriptor may be reused by then).
class Watchdog {
 public:
  Watchdog() : thread_([this] { Loop(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  std::uint64_t Arm(int fd, SteadyClock::time_point deadline) {
    std::lock_guard lock(mutex_);
    const std::uint64_t id = next_id_++;
    armed_.emplace(id, Entry{fd, deadline, false});
    wake_.notify_all();
    return id;
  }

  // Disarm returns true when the deadline had passed and the socket was shut.
  bool Disarm(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    auto it = armed_.find(id);
    if (it == armed_.end()) {
      return false;
    }
    const bool fired = it->second.fired;
    armed_.erase(it);
    return fired;
  }

 private:
  struct Entry {
    int fd;
    SteadyClock::time_point deadline;
    bool fired;
  };

  void Loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      auto next = SteadyClock::time_point::max();
      const auto now = SteadyClock::now();
      for (auto& [id, entry] : armed_) {
        if (entry.fired) {
          continue;
        }
        if (entry.deadline <= now) {
          ::shutdown(entry.fd, SHUT_RDWR);
          entry.fired = true;
        } else {
          next = std::min(next, entry.deadline);
        }
      }
      if (next == SteadyClock::time_point::max()) {
        wake_.wait(lock);
      } else {
        wake_.wait_until(lock, next);
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::uint64_t, Entry> armed_;  // guarded by mutex_
  std::uint64_t next_id_ = 1;             // guarded by mutex_
  bool stopping_ = false;                 // guarded by mutex_
  std::thread thread_;                    // last: starts after the rest exists
};

// Conninfo is the DSN rewritten as key='value' pairs with kisee's defaults
// added, and a description safe to log (no password).
struct Conninfo {
  std::string text;
  std::string description;
};

std::string QuoteConninfoValue(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "'";
}

Result<Conninfo> ParseDsn(const std::string& dsn, std::int64_t timeout_ms) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
  if (options == nullptr) {
    // libpq's message may quote part of the DSN (a password, say): not shown.
    PQfreemem(error);
    return MakeError(ErrorCode::kInvalidArgument,
                     "identity_backend.options.dsn is not a libpq connection string or URI");
  }
  std::map<std::string, std::string> values;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr && o->val[0] != '\0') {
      values[o->keyword] = o->val;
    }
  }
  PQconninfoFree(options);
  if (!values.contains("connect_timeout")) {
    // libpq takes whole seconds and treats 1 as 2.
    values["connect_timeout"] =
        std::to_string(std::max<std::int64_t>(2, (timeout_ms + 999) / 1000));
  }
  if (!values.contains("application_name")) {
    values["application_name"] = "kisee";
  }
  Conninfo out;
  for (const auto& [key, value] : values) {
    out.text += fmt::format("{}={} ", key, QuoteConninfoValue(value));
  }
  auto get = [&](const char* key, const char* fallback) {
    auto it = values.find(key);
    return it == values.end() ? std::string(fallback) : it->second;
  };
  out.description = fmt::format("postgresql {}:{}/{}", get("host", get("hostaddr", "").c_str()),
                                get("port", "5432"), get("dbname", get("user", "").c_str()));
  return out;
}

// FirstLine keeps the primary message of a server error: the DETAIL lines
// that follow may quote row values.
std::string FirstLine(std::string_view text) {
  std::string_view line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  return std::string(line);
}

// Failure is a mapped exception: the error, and whether the connection must
// be dropped.
struct Failure {
  Error error;
  bool broken;
};

Failure MapException(const std::string& where) {
  try {
    throw;
  } catch (const pqxx::unique_violation& e) {
    return {Error(ErrorCode::kAlreadyExists, where + ": " + FirstLine(e.what())), false};
  } catch (const pqxx::broken_connection& e) {
    return {Error(ErrorCode::kUnavailable, where + ": " + FirstLine(e.what())), true};
  } catch (const pqxx::in_doubt_error& e) {
    return {Error(ErrorCode::kUnavailable, where + ": commit outcome unknown"), true};
  } catch (const pqxx::transaction_rollback& e) {
    return {Error(ErrorCode::kUnavailable, where + ": " + FirstLine(e.what())), false};
  } catch (const pqxx::sql_error& e) {
    const std::string state = e.sqlstate();
    // 08: connection exceptions; 57P0x: the server is shutting down or
    // starting; 53: out of resources; 57014: statement_timeout.
    const bool broken = state.starts_with("08") || state.starts_with("57P");
    const bool unavailable = broken || state.starts_with("53") || state == "57014";
    return {Error(unavailable ? ErrorCode::kUnavailable : ErrorCode::kInternal,
                  where + ": " + FirstLine(e.what())),
            broken};
  } catch (const std::exception& e) {
    return {Error(ErrorCode::kInternal, where + ": " + FirstLine(e.what())), false};
  } catch (...) {
    return {Error(ErrorCode::kInternal, where + ": unknown failure"), true};
  }
}

SqlResult Convert(const pqxx::result& r) {
  SqlResult out;
  const auto columns = r.columns();
  for (pqxx::row::size_type i = 0; i < columns; ++i) {
    out.columns.emplace_back(r.column_name(i));
  }
  for (const auto& row : r) {
    auto& values = out.rows.emplace_back();
    for (pqxx::row::size_type i = 0; i < columns; ++i) {
      const pqxx::field field = row[i];
      values.push_back(field.is_null()
                           ? std::nullopt
                           : std::optional<std::string>(std::string(field.c_str(), field.size())));
    }
  }
  out.affected = static_cast<std::int64_t>(r.affected_rows());
  return out;
}

class PgDriver;

// Lease is one pooled connection, returned on destruction (or dropped when
// it broke).
struct Connection {
  std::unique_ptr<pqxx::connection> conn;
  bool broken = false;
};

// PgSession runs statements on one connection within a transaction.
class PgSession final : public SqlSession {
 public:
  PgSession(pqxx::transaction_base& tx, Connection& conn, const std::string& description)
      : tx_(tx), conn_(conn), description_(description) {}

  Result<SqlResult> Run(std::string_view sql, const SqlParams& params) override;

 private:
  pqxx::transaction_base& tx_;
  Connection& conn_;
  const std::string& description_;
};

Result<SqlResult> Exec(pqxx::transaction_base& tx, Connection& conn, const std::string& description,
                       std::string_view sql, const SqlParams& params) {
  const std::vector<std::string> names = SqlParameterNames(sql);
  KISEE_ASSIGN_OR_RETURN(std::vector<std::string> values, BindSqlParameters(names, params));
  const std::string text = RewriteSqlParameters(sql, names, '$');
  try {
    return Convert(tx.exec_params(text, pqxx::prepare::make_dynamic_params(values)));
  } catch (...) {
    Failure failure = MapException(description);
    conn.broken = conn.broken || failure.broken;
    return std::unexpected(std::move(failure.error));
  }
}

Result<SqlResult> PgSession::Run(std::string_view sql, const SqlParams& params) {
  return Exec(tx_, conn_, description_, sql, params);
}

class PgDriver final : public SqlDriver {
 public:
  PgDriver(Conninfo conninfo, std::size_t pool_size, std::int64_t timeout_ms)
      : conninfo_(std::move(conninfo)),
        pool_size_(std::max<std::size_t>(1, pool_size)),
        timeout_(std::chrono::milliseconds(std::max<std::int64_t>(100, timeout_ms))) {}

  ~PgDriver() override {
    std::lock_guard lock(mutex_);
    idle_.clear();
  }

  Dialect dialect() const override { return Dialect::kPostgresql; }

  Result<SqlResult> Run(std::string_view sql, const SqlParams& params) override {
    return WithConnection([&](Connection& conn) -> Result<SqlResult> {
      pqxx::nontransaction tx(*conn.conn);
      return Exec(tx, conn, conninfo_.description, sql, params);
    });
  }

  Status InTransaction(const std::function<Status(SqlSession&)>& body) override {
    auto done = WithConnection([&](Connection& conn) -> Result<bool> {
      pqxx::work tx(*conn.conn);
      PgSession session(tx, conn, conninfo_.description);
      Status status = body(session);
      if (!status) {
        tx.abort();
        return std::unexpected(status.error());
      }
      tx.commit();
      return true;
    });
    if (!done) {
      return std::unexpected(done.error());
    }
    return Ok();
  }

  bool Ping() override { return Run("SELECT 1", {}).has_value(); }

  // Connect opens one connection now, to report a bad DSN or an unreachable
  // server at start.
  Status Check() {
    auto connected = WithConnection([](Connection&) -> Result<bool> { return true; });
    if (!connected) {
      return std::unexpected(connected.error());
    }
    return Ok();
  }

 private:
  // WithConnection runs `fn` on a pooled connection under the watchdog,
  // mapping exceptions, dropping the connection if it broke.
  template <typename Fn>
  auto WithConnection(Fn fn) -> decltype(fn(std::declval<Connection&>())) {
    const auto deadline = SteadyClock::now() + timeout_;
    KISEE_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Acquire(deadline));
    const std::uint64_t watch = watchdog_.Arm(conn->conn->sock(), deadline);
    decltype(fn(*conn)) result = MakeError(ErrorCode::kInternal, "not run");
    try {
      result = fn(*conn);
    } catch (...) {
      Failure failure = MapException(conninfo_.description);
      conn->broken = conn->broken || failure.broken;
      result = std::unexpected(std::move(failure.error));
    }
    if (watchdog_.Disarm(watch)) {
      conn->broken = true;
      result = MakeError(
          ErrorCode::kUnavailable,
          fmt::format("{}: no answer within {} ms", conninfo_.description, timeout_.count()));
    }
    Release(std::move(conn));
    return result;
  }

  // Usable is false for an idle connection whose socket has something to
  // read: between statements the server only speaks to say it is closing
  // the connection (a restart, an administrator's terminate).
  static bool Usable(const Connection& conn) {
    if (conn.broken || !conn.conn->is_open()) {
      return false;
    }
    pollfd p{.fd = conn.conn->sock(), .events = POLLIN, .revents = 0};
    return ::poll(&p, 1, 0) == 0;
  }

  Result<std::unique_ptr<Connection>> Acquire(SteadyClock::time_point deadline) {
    std::unique_lock lock(mutex_);
    for (;;) {
      while (!idle_.empty()) {
        std::unique_ptr<Connection> conn = std::move(idle_.back());
        idle_.pop_back();
        if (Usable(*conn)) {
          return conn;
        }
        --open_;
        lock.unlock();
        conn.reset();  // closing may write a goodbye: not under the lock
        lock.lock();
      }
      if (open_ < pool_size_) {
        break;
      }
      if (available_.wait_until(lock, deadline) == std::cv_status::timeout) {
        return MakeError(ErrorCode::kUnavailable, fmt::format("{}: all {} connections busy",
                                                              conninfo_.description, pool_size_));
      }
    }
    if (SteadyClock::now() < fail_fast_until_) {
      // last_failure_ already names the server.
      return MakeError(ErrorCode::kUnavailable, last_failure_ + " (failing fast)");
    }
    ++open_;
    lock.unlock();
    auto conn = std::make_unique<Connection>();
    try {
      conn->conn = std::make_unique<pqxx::connection>(conninfo_.text);
      // Notices (e.g. "relation already exists, skipping") would go to
      // standard error; statement_timeout is the server's half of the bound.
      pqxx::nontransaction tx(*conn->conn);
      tx.exec(fmt::format("SET client_min_messages = warning; SET statement_timeout = {}",
                          timeout_.count()));
      return conn;
    } catch (...) {
      Failure failure = MapException(conninfo_.description);
      lock.lock();
      --open_;
      fail_fast_until_ = SteadyClock::now() + kFailFastWindow;
      last_failure_ = failure.error.message();
      available_.notify_one();
      // A refused connection means the server is down or restarting: the
      // caller answers 503.
      return MakeError(ErrorCode::kUnavailable, failure.error.message());
    }
  }

  void Release(std::unique_ptr<Connection> conn) {
    if (conn->broken) {
      conn.reset();
      std::lock_guard lock(mutex_);
      --open_;
      // One broken connection usually means they all are (the server went
      // away): drop the idle ones too rather than fail on each in turn.
      while (!idle_.empty()) {
        idle_.pop_back();
        --open_;
      }
    } else {
      std::lock_guard lock(mutex_);
      idle_.push_back(std::move(conn));
    }
    available_.notify_all();
  }

  const Conninfo conninfo_;
  const std::size_t pool_size_;
  const std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mutex_
  std::size_t open_ = 0;                           // guarded by mutex_
  SteadyClock::time_point fail_fast_until_;        // guarded by mutex_
  std::string last_failure_;                       // guarded by mutex_
  Watchdog watchdog_;
};

Result<std::unique_ptr<SqlDriver>> CreateDriver(const PostgresqlDriverOptions& options) {
  KISEE_ASSIGN_OR_RETURN(Conninfo conninfo, ParseDsn(options.dsn, options.timeout_ms));
  auto driver =
      std::make_unique<PgDriver>(std::move(conninfo), options.pool_size, options.timeout_ms);
  KISEE_RETURN_IF_ERROR(driver->Check());
  return std::unique_ptr<SqlDriver>(std::move(driver));
}

}  // namespace
}  // namespace kisee::idp

extern "C" __attribute__((visibility("default"))) const kisee::idp::ModuleApi* kisee_module_api() {
  static const kisee::idp::ModuleApi api = [] {
    kisee::idp::ModuleApi a = kisee::idp::MakeModuleApi();
    a.create_sql_driver = &kisee::idp::CreateDriver;
    return a;
  }();
  return &api;
}
