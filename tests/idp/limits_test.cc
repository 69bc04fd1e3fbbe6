#include "idp/limits.h"

#include <gtest/gtest.h>

namespace kisee::idp {
namespace {

using std::chrono::seconds;

class LimiterTest : public testing::Test {
 protected:
  LimiterTest() : clock_(TimePoint(seconds(1'700'000'000))), store_(clock_) {
    settings_.user_failures = 3;
    settings_.address_failures = 10;
    settings_.window = 900;
    settings_.lockout = 60;
    settings_.max_lockout = 200;
  }

  std::optional<std::int64_t> Check(std::string_view user, std::string_view addr = "10.0.0.1") {
    LoginLimiter limiter(settings_, store_, clock_);
    auto r = limiter.Check(user, addr);
    EXPECT_TRUE(r.has_value());
    return *r;
  }
  void Fail(std::string_view user, std::string_view addr = "10.0.0.1") {
    LoginLimiter limiter(settings_, store_, clock_);
    ASSERT_TRUE(limiter.RecordFailure(user, addr).has_value());
  }

  LimitSettings settings_;
  FakeClock clock_;
  MemoryFailureStore store_;
};

TEST_F(LimiterTest, LocksAUsernameAfterTheThresholdWithRetryAfter) {
  Fail("alice");
  Fail("alice");
  EXPECT_FALSE(Check("alice").has_value());
  Fail("alice");
  auto wait = Check("alice");
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, 60);
  clock_.Advance(seconds(45));
  EXPECT_EQ(Check("alice").value_or(0), 15);
  // Other users from other addresses are not affected.
  EXPECT_FALSE(Check("bob", "10.0.0.2").has_value());
  clock_.Advance(seconds(15));
  EXPECT_FALSE(Check("alice").has_value());
}

TEST_F(LimiterTest, LockoutDoublesOnEachRepeatUpToTheMaximum) {
  std::vector<std::int64_t> waits;
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 3; ++i) {
      Fail("alice", "10.0.0." + std::to_string(round * 3 + i));
    }
    auto wait = Check("alice", "10.9.9.9");
    ASSERT_TRUE(wait.has_value());
    waits.push_back(*wait);
    clock_.Advance(seconds(*wait));
  }
  EXPECT_EQ(waits, (std::vector<std::int64_t>{60, 120, 200, 200}));
}

TEST_F(LimiterTest, FailuresOutsideTheWindowDoNotAddUp) {
  Fail("alice");
  Fail("alice");
  clock_.Advance(seconds(901));
  Fail("alice");
  EXPECT_FALSE(Check("alice").has_value());
}

TEST_F(LimiterTest, AQuietWindowAfterALockoutResetsTheDoubling) {
  for (int i = 0; i < 3; ++i) Fail("alice", "a" + std::to_string(i));
  EXPECT_EQ(Check("alice", "z").value_or(0), 60);
  clock_.Advance(seconds(60 + 900));
  for (int i = 0; i < 3; ++i) Fail("alice", "b" + std::to_string(i));
  EXPECT_EQ(Check("alice", "z").value_or(0), 60);
}

TEST_F(LimiterTest, LocksAnAddressSprayingUsernames) {
  for (int i = 0; i < 10; ++i) {
    Fail("user" + std::to_string(i), "192.0.2.7");
  }
  auto wait = Check("someone-new", "192.0.2.7");
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, 60);
  EXPECT_FALSE(Check("someone-new", "192.0.2.8").has_value());
}

TEST(MemoryFailureStore, StaysBoundedKeepingLockoutsInForce) {
  FakeClock clock(TimePoint(seconds(1000)));
  MemoryFailureStore store(clock, 4);
  ASSERT_TRUE(store.Update("locked", [](auto) { return FailureRecord{.locked_until = 5000}; }));
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        store.Update("k" + std::to_string(i), [](auto) { return FailureRecord{.count = 1}; }));
  }
  auto locked = store.Get("locked");
  ASSERT_TRUE(locked.has_value());
  ASSERT_TRUE(locked->has_value());
  EXPECT_EQ((*locked)->locked_until, 5000);
  auto early = store.Get("k0");
  ASSERT_TRUE(early.has_value());
  EXPECT_FALSE(early->has_value());
}

}  // namespace
}  // namespace kisee::idp
