// Time, injected: code that checks expiry takes a Clock so that tests can
// move time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace kisee {

using TimePoint = std::chrono::system_clock::time_point;

// Clock is the source of wall-clock time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;

  // NowSeconds returns Now() as whole seconds since the Unix epoch.
  std::int64_t NowSeconds() const;
};

// SystemClock returns the process-wide real clock (never destroyed).
const Clock& SystemClock();

// FakeClock is a settable clock for tests. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
  TimePoint Now() const override;
  void Set(TimePoint now);
  void Advance(std::chrono::system_clock::duration by);

 private:
  std::atomic<std::chrono::system_clock::rep> now_;
};

}  // namespace kisee
