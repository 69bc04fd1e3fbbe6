#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "kisee/core/clock.h"
#include "kisee/core/error.h"
#include "kisee/core/random.h"
#include "kisee/core/secret.h"
#include "kisee/core/worker_pool.h"

namespace kisee {
namespace {

Result<int> ParsePositive(int v) {
  if (v <= 0) return MakeError(ErrorCode::kInvalidArgument, "not positive");
  return v;
}

Result<int> Doubled(int v) {
  KISEE_ASSIGN_OR_RETURN(int x, ParsePositive(v));
  return 2 * x;
}

Status Check(int v) {
  KISEE_RETURN_IF_ERROR(ParsePositive(v));
  return Ok();
}

TEST(Error, PropagationHelpersReturnTheFirstError) {
  EXPECT_EQ(*Doubled(21), 42);
  auto bad = Doubled(-1);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message(), "not positive");
  EXPECT_TRUE(Check(1).has_value());
  EXPECT_FALSE(Check(0).has_value());
  EXPECT_EQ(bad.error().WithContext("reading x").message(), "reading x: not positive");
}

TEST(Random, IdsUseTheAlphabetAndDoNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = RandomId();
    ASSERT_EQ(id.size(), 22u);
    for (char c : id) ASSERT_NE(kIdAlphabet.find(c), std::string_view::npos);
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(Random, UniformCoversTheRange) {
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 2000; ++i) {
    auto v = RandomUniform(7);
    ASSERT_LT(v, 7u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 7u);
}

TEST(Secret, ComparesAndMoves) {
  SecretBytes a(std::string_view("hunter2"));
  SecretBytes b = a.Clone();
  EXPECT_TRUE(ConstantTimeEquals(a.view(), b.view()));
  SecretBytes c(std::move(b));
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move): moved-from is wiped and empty
  EXPECT_EQ(c.chars(), "hunter2");
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("hunter2"), "hunter3"));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("hunter2"), "hunter22"));
  EXPECT_TRUE(ConstantTimeEquals(std::string_view(""), ""));
}

TEST(Clock, FakeClockMovesOnlyWhenTold) {
  FakeClock clock(TimePoint(std::chrono::seconds(1000)));
  EXPECT_EQ(clock.NowSeconds(), 1000);
  clock.Advance(std::chrono::seconds(5));
  EXPECT_EQ(clock.NowSeconds(), 1005);
  clock.Set(TimePoint(std::chrono::seconds(7)));
  EXPECT_EQ(clock.NowSeconds(), 7);
  EXPECT_GT(SystemClock().NowSeconds(), 1700000000);
}

TEST(WorkerPool, RefusesBeyondCapacityAndDrainsOnShutdown) {
  WorkerPool pool(1, 2);
  std::atomic<bool> release{false};
  std::atomic<int> done{0};
  auto blocker = [&] {
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ++done;
  };
  ASSERT_TRUE(pool.TrySubmit(blocker));
  // Wait until the single worker holds the blocker, so the queue is empty.
  while (pool.queued() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(pool.TrySubmit([&] { ++done; }));
  EXPECT_TRUE(pool.TrySubmit([&] { ++done; }));
  EXPECT_FALSE(pool.TrySubmit([&] { ++done; }));  // queue full
  release = true;
  pool.Shutdown();
  EXPECT_EQ(done, 3);
  EXPECT_FALSE(pool.TrySubmit([&] { ++done; }));  // stopped
}

}  // namespace
}  // namespace kisee
