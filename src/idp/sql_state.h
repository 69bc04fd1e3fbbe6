// State kisee keeps in an SQL database beside the users, shared by every
// instance on that database: login-failure counters and reset nonces. Used
// by the `postgresql` backend and by a writable `sql` backend.
#pragma once

#include <atomic>
#include <string>

#include "idp/limits.h"
#include "idp/sql_driver.h"
#include "kisee/core/clock.h"

namespace kisee::idp {

// kFailureTableDdl creates kisee_login_failures (same SQL for SQLite and
// PostgreSQL).
inline constexpr std::string_view kFailureTableDdl =
    "CREATE TABLE IF NOT EXISTS kisee_login_failures ("
    "key TEXT PRIMARY KEY NOT NULL, window_start BIGINT NOT NULL, count BIGINT NOT NULL, "
    "locked_until BIGINT NOT NULL, level BIGINT NOT NULL)";

// kResetNonceTableDdl creates kisee_reset_nonces: one random nonce per
// user_id, changed when a reset token is issued (supersedes older tokens).
inline constexpr std::string_view kResetNonceTableDdl =
    "CREATE TABLE IF NOT EXISTS kisee_reset_nonces ("
    "user_id TEXT PRIMARY KEY NOT NULL, nonce TEXT NOT NULL)";

// SqlFailureStore keeps FailureRecords in kisee_login_failures. Update is
// atomic across processes (row lock on PostgreSQL, the write lock on
// SQLite). Thread-safe.
class SqlFailureStore final : public FailureStore {
 public:
  // `driver` is borrowed and must outlive the store.
  SqlFailureStore(SqlDriver& driver, const Clock& clock) : driver_(driver), clock_(clock) {}

  Result<std::optional<FailureRecord>> Get(std::string_view key) override;
  Status Update(std::string_view key, const Updater& update) override;

 private:
  SqlDriver& driver_;
  const Clock& clock_;
  std::atomic<std::uint64_t> updates_{0};
};

// ReadResetNonce returns the nonce of `user_id` in kisee_reset_nonces ("" when
// none was issued).
Result<std::string> ReadResetNonce(SqlDriver& driver, std::string_view user_id);

// WriteResetNonce stores a fresh random nonce for `user_id` and returns it.
Result<std::string> WriteResetNonce(SqlDriver& driver, std::string_view user_id);

}  // namespace kisee::idp
