#include "kisee/core/clock.h"

namespace kisee {
namespace {

class RealClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace

std::int64_t Clock::NowSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(Now().time_since_epoch()).count();
}

const Clock& SystemClock() {
  static const RealClock* const clock = new RealClock();
  return *clock;
}

TimePoint FakeClock::Now() const {
  return TimePoint(std::chrono::system_clock::duration(now_.load()));
}

void FakeClock::Set(TimePoint now) { now_.store(now.time_since_epoch().count()); }

void FakeClock::Advance(std::chrono::system_clock::duration by) { now_.fetch_add(by.count()); }

}  // namespace kisee
