// Brute-force protection for POST /jwt/: failed logins are counted per
// username and per client address; past a threshold within a window the key
// is locked out for a while, doubling on each repeat (kisee-api.md §6 [limits]).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "kisee/core/clock.h"
#include "kisee/core/error.h"
#include "kisee/idp/settings.h"

namespace kisee::idp {

// FailureRecord is the state kept for one key ("user:<name>" or "addr:<ip>").
struct FailureRecord {
  std::int64_t window_start = 0;  // seconds since the epoch
  std::int64_t count = 0;         // failures since window_start
  std::int64_t locked_until = 0;  // 0 = not locked
  std::int64_t level = 0;         // lockouts so far (the next one doubles)

  friend bool operator==(const FailureRecord&, const FailureRecord&) = default;
};

// ApplyFailure returns `record` after one more failure at `now`, locking the
// key when `threshold` failures fell within settings.window.
FailureRecord ApplyFailure(std::optional<FailureRecord> record, std::int64_t now,
                           std::int64_t threshold, const LimitSettings& settings);

// RetryAfter returns the seconds left in a lockout at `now` (0 = not locked).
std::int64_t RetryAfter(const std::optional<FailureRecord>& record, std::int64_t now);

// FailureStore keeps FailureRecords. Implementations are thread-safe; the
// SQLite one is shared by every process using the same database file.
class FailureStore {
 public:
  using Updater = std::function<FailureRecord(std::optional<FailureRecord>)>;
  virtual ~FailureStore() = default;
  // Get returns the record of `key`, if any. Errors: kUnavailable.
  virtual Result<std::optional<FailureRecord>> Get(std::string_view key) = 0;
  // Update replaces the record of `key` by update(current) atomically.
  virtual Status Update(std::string_view key, const Updater& update) = 0;
};

// MemoryFailureStore keeps records in this process (the demo backend's).
// At most `capacity` keys: beyond that, records without a lockout in force
// are dropped first.
class MemoryFailureStore final : public FailureStore {
 public:
  MemoryFailureStore(const Clock& clock, std::size_t capacity = 100'000)
      : clock_(clock), capacity_(capacity) {}
  Result<std::optional<FailureRecord>> Get(std::string_view key) override;
  Status Update(std::string_view key, const Updater& update) override;

 private:
  void Prune();  // REQUIRES: mutex_ held

  const Clock& clock_;
  const std::size_t capacity_;
  std::mutex mutex_;
  std::map<std::string, FailureRecord, std::less<>> records_;  // guarded by mutex_
};

// LoginLimiter applies [limits] to login attempts. Thread-safe.
class LoginLimiter {
 public:
  LoginLimiter(const LimitSettings& settings, FailureStore& store, const Clock& clock)
      : settings_(settings), store_(store), clock_(clock) {}

  // Check returns the Retry-After seconds when `username` or `address` is
  // locked out, std::nullopt when the attempt may proceed. Errors: the store's.
  Result<std::optional<std::int64_t>> Check(std::string_view username, std::string_view address);

  // RecordFailure counts one failed login for both keys.
  Status RecordFailure(std::string_view username, std::string_view address);

 private:
  const LimitSettings settings_;
  FailureStore& store_;
  const Clock& clock_;
};

}  // namespace kisee::idp
