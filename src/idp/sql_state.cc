#include "idp/sql_state.h"

#include <charconv>

#include "kisee/core/random.h"

namespace kisee::idp {
namespace {

// A placeholder row (window_start -1) makes the row exist before it is
// locked, so that two processes counting the first failure of a key do not
// both insert; it reads as "no record".
constexpr std::int64_t kPlaceholder = -1;

std::int64_t ToInt(const std::optional<std::string>& text) {
  std::int64_t value = 0;
  if (text) {
    std::from_chars(text->data(), text->data() + text->size(), value);
  }
  return value;
}

Result<std::optional<FailureRecord>> ReadRecord(SqlSession& session, std::string_view key,
                                                bool lock) {
  std::string sql =
      "SELECT window_start, count, locked_until, level FROM kisee_login_failures WHERE key = "
      ":key";
  if (lock) {
    sql += " FOR UPDATE";
  }
  KISEE_ASSIGN_OR_RETURN(SqlResult r, session.Run(sql, {{"key", std::string(key)}}));
  if (r.rows.empty() || ToInt(r.rows[0][0]) == kPlaceholder) {
    return std::optional<FailureRecord>();
  }
  const auto& row = r.rows[0];
  return std::optional<FailureRecord>(FailureRecord{.window_start = ToInt(row[0]),
                                                    .count = ToInt(row[1]),
                                                    .locked_until = ToInt(row[2]),
                                                    .level = ToInt(row[3])});
}

// DriverSession runs statements on the driver directly (autocommit).
class DriverSession final : public SqlSession {
 public:
  explicit DriverSession(SqlDriver& driver) : driver_(driver) {}
  Result<SqlResult> Run(std::string_view sql, const SqlParams& params) override {
    return driver_.Run(sql, params);
  }

 private:
  SqlDriver& driver_;
};

}  // namespace

Result<std::optional<FailureRecord>> SqlFailureStore::Get(std::string_view key) {
  DriverSession session(driver_);
  return ReadRecord(session, key, false);
}

Status SqlFailureStore::Update(std::string_view key, const Updater& update) {
  const bool postgresql = driver_.dialect() == SqlDriver::Dialect::kPostgresql;
  const std::uint64_t count = ++updates_;
  const std::int64_t now = clock_.NowSeconds();
  return driver_.InTransaction([&](SqlSession& session) -> Status {
    KISEE_RETURN_IF_ERROR(session.Run(
        "INSERT INTO kisee_login_failures (key, window_start, count, locked_until, level) "
        "VALUES (:key, -1, 0, 0, 0) ON CONFLICT (key) DO NOTHING",
        {{"key", std::string(key)}}));
    KISEE_ASSIGN_OR_RETURN(auto current, ReadRecord(session, key, postgresql));
    const FailureRecord next = update(current);
    KISEE_RETURN_IF_ERROR(
        session.Run("UPDATE kisee_login_failures SET window_start = :window_start, count = :count, "
                    "locked_until = :locked_until, level = :level WHERE key = :key",
                    {{"key", std::string(key)},
                     {"window_start", std::to_string(next.window_start)},
                     {"count", std::to_string(next.count)},
                     {"locked_until", std::to_string(next.locked_until)},
                     {"level", std::to_string(next.level)}}));
    // Old counters are useless after a day; sweeping now and then keeps an
    // address-spraying attacker from growing the table forever.
    if (count % 256 == 0) {
      KISEE_RETURN_IF_ERROR(session.Run(
          "DELETE FROM kisee_login_failures WHERE window_start < :before AND locked_until < "
          ":before",
          {{"before", std::to_string(now - 86400)}}));
    }
    return Ok();
  });
}

Result<std::string> ReadResetNonce(SqlDriver& driver, std::string_view user_id) {
  KISEE_ASSIGN_OR_RETURN(SqlResult r,
                         driver.Run("SELECT nonce FROM kisee_reset_nonces WHERE user_id = :user_id",
                                    {{"user_id", std::string(user_id)}}));
  if (r.rows.empty() || !r.rows[0][0]) {
    return std::string();
  }
  return *r.rows[0][0];
}

Result<std::string> WriteResetNonce(SqlDriver& driver, std::string_view user_id) {
  std::string nonce = RandomId();
  KISEE_RETURN_IF_ERROR(
      driver.Run("INSERT INTO kisee_reset_nonces (user_id, nonce) VALUES (:user_id, :nonce) "
                 "ON CONFLICT (user_id) DO UPDATE SET nonce = :nonce",
                 {{"user_id", std::string(user_id)}, {"nonce", nonce}}));
  return nonce;
}

}  // namespace kisee::idp
