#include "idp/limits.h"

#include <algorithm>
#include <string>

namespace kisee::idp {
namespace {

std::string UserKey(std::string_view username) { return "user:" + std::string(username); }
std::string AddressKey(std::string_view address) { return "addr:" + std::string(address); }

}  // namespace

FailureRecord ApplyFailure(std::optional<FailureRecord> record, std::int64_t now,
                           std::int64_t threshold, const LimitSettings& settings) {
  FailureRecord r = record.value_or(FailureRecord{.window_start = now});
  // A quiet period as long as the window after the last lockout forgives the
  // past: the next lockout starts again at the base duration.
  if (r.locked_until != 0 && now >= r.locked_until + settings.window) {
    r.level = 0;
    r.locked_until = 0;
  }
  if (now - r.window_start >= settings.window) {
    r.window_start = now;
    r.count = 0;
  }
  r.count += 1;
  if (r.count >= threshold) {
    std::int64_t duration = settings.lockout;
    for (std::int64_t i = 0; i < r.level && duration < settings.max_lockout; ++i) {
      duration *= 2;
    }
    duration = std::min(duration, settings.max_lockout);
    r.locked_until = now + duration;
    r.level += 1;
    r.count = 0;
    r.window_start = now;
  }
  return r;
}

std::int64_t RetryAfter(const std::optional<FailureRecord>& record, std::int64_t now) {
  if (!record || record->locked_until <= now) {
    return 0;
  }
  return record->locked_until - now;
}

Result<std::optional<FailureRecord>> MemoryFailureStore::Get(std::string_view key) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(key);
  if (it == records_.end()) {
    return std::optional<FailureRecord>();
  }
  return std::optional<FailureRecord>(it->second);
}

Status MemoryFailureStore::Update(std::string_view key, const Updater& update) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(key);
  std::optional<FailureRecord> current;
  if (it != records_.end()) {
    current = it->second;
  }
  FailureRecord next = update(current);
  if (it != records_.end()) {
    it->second = next;
  } else {
    if (records_.size() >= capacity_) {
      Prune();
    }
    records_.emplace(std::string(key), next);
  }
  return Ok();
}

void MemoryFailureStore::Prune() {
  // An attacker spraying usernames must not grow memory without bound; the
  // records that matter most are the lockouts in force.
  const std::int64_t now = clock_.NowSeconds();
  std::erase_if(records_, [now](const auto& item) { return item.second.locked_until <= now; });
  while (records_.size() >= capacity_) {
    records_.erase(records_.begin());
  }
}

Result<std::optional<std::int64_t>> LoginLimiter::Check(std::string_view username,
                                                        std::string_view address) {
  const std::int64_t now = clock_.NowSeconds();
  KISEE_ASSIGN_OR_RETURN(auto user, store_.Get(UserKey(username)));
  KISEE_ASSIGN_OR_RETURN(auto addr, store_.Get(AddressKey(address)));
  std::int64_t wait = std::max(RetryAfter(user, now), RetryAfter(addr, now));
  if (wait > 0) {
    return std::optional<std::int64_t>(wait);
  }
  return std::optional<std::int64_t>();
}

Status LoginLimiter::RecordFailure(std::string_view username, std::string_view address) {
  const std::int64_t now = clock_.NowSeconds();
  const LimitSettings& s = settings_;
  KISEE_RETURN_IF_ERROR(store_.Update(UserKey(username), [&](std::optional<FailureRecord> r) {
    return ApplyFailure(r, now, s.user_failures, s);
  }));
  return store_.Update(AddressKey(address), [&](std::optional<FailureRecord> r) {
    return ApplyFailure(r, now, s.address_failures, s);
  });
}

}  // namespace kisee::idp
