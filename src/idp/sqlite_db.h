// A thin RAII layer over the SQLite C API used by the sqlite backend: a
// small pool of connections and prepared statements whose failures become
// kisee::Error values (no exceptions, no raw return codes above this file).
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kisee/core/error.h"

namespace kisee::idp::sqlite {

// Statement is one prepared statement on a borrowed connection.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Bind* bind the 1-based parameter `index`; the text is copied.
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, std::int64_t value);

  // Step returns true when a row is available, false when done. Errors:
  // kAlreadyExists for a constraint violation, kUnavailable otherwise.
  Result<bool> Step();

  std::string ColumnText(int column) const;
  std::int64_t ColumnInt(int column) const;
  // ColumnIsNull is true when the current row's `column` is NULL.
  bool ColumnIsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  // ColumnCount and ColumnName describe the result columns (known once
  // prepared, before any Step).
  int ColumnCount() const { return sqlite3_column_count(stmt_); }
  std::string ColumnName(int column) const {
    const char* name = sqlite3_column_name(stmt_, column);
    return name == nullptr ? std::string() : std::string(name);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_error_ = SQLITE_OK;
};

// Connection is one open database handle. Not thread-safe: a connection is
// used by one thread at a time (the Pool hands them out).
class Connection {
 public:
  // Open opens (creating if needed) `path` with the given busy timeout.
  static Result<std::unique_ptr<Connection>> Open(const std::filesystem::path& path,
                                                  int busy_timeout_ms);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Prepare compiles `sql`. Errors: kUnavailable.
  Result<std::unique_ptr<Statement>> Prepare(std::string_view sql);
  // Execute runs one or more statements that return no rows.
  Status Execute(std::string_view sql);
  // changes is the number of rows the last statement modified.
  int changes() const { return sqlite3_changes(db_); }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// Pool lends connections to threads; at most `size` exist. Thread-safe.
class Pool {
 public:
  Pool(std::filesystem::path path, std::size_t size, int busy_timeout_ms)
      : path_(std::move(path)), size_(size), busy_timeout_ms_(busy_timeout_ms) {}

  // Lease is a borrowed connection, returned to the pool when destroyed.
  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept = default;
    ~Lease();
    Connection* operator->() { return conn_.get(); }
    Connection& operator*() { return *conn_; }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  // Acquire waits for a free connection (opening one lazily). Errors:
  // kUnavailable when the database cannot be opened.
  Result<Lease> Acquire();

 private:
  void Release(std::unique_ptr<Connection> conn);

  const std::filesystem::path path_;
  const std::size_t size_;
  const int busy_timeout_ms_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mutex_
  std::size_t open_ = 0;                           // guarded by mutex_
};

// Transaction runs BEGIN IMMEDIATE (taking the write lock at once, so two
// processes serialise instead of deadlocking on upgrade) and rolls back on
// destruction unless committed.
class Transaction {
 public:
  static Result<Transaction> Begin(Connection& conn);
  Transaction(Transaction&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Connection* conn) : conn_(conn) {}
  Connection* conn_;
};

}  // namespace kisee::idp::sqlite
