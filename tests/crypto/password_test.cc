#include "kisee/crypto/password.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>

namespace kisee::crypto {
namespace {

// Small parameters keep the suite fast where the cost is not under test.
constexpr Argon2Params kFast{.memory_kib = 64, .iterations = 1};

TEST(HashPassword, ProducesPhcStringWithTheConfiguredParameters) {
  auto hash = HashPassword("hunter22", Argon2Params{.memory_kib = 128, .iterations = 3});
  ASSERT_TRUE(hash.has_value()) << hash.error().message();
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=128,t=3,p=1$")) << *hash;
  EXPECT_EQ(DetectHashFormat(*hash), HashFormat::kArgon2id);
}

TEST(HashPassword, DefaultsAreOwaspMinimum) {
  Argon2Params defaults;
  EXPECT_EQ(defaults.memory_kib, 19456u);
  EXPECT_EQ(defaults.iterations, 2u);
  auto hash = HashPassword("hunter22", defaults);
  ASSERT_TRUE(hash.has_value());
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << *hash;
  EXPECT_TRUE(VerifyPassword("hunter22", *hash));
}

TEST(HashPassword, SaltsEveryHash) {
  auto a = HashPassword("same", kFast);
  auto b = HashPassword("same", kFast);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
}

TEST(HashPassword, RejectsParametersLibsodiumRefuses) {
  EXPECT_FALSE(HashPassword("x", Argon2Params{.memory_kib = 4, .iterations = 1}).has_value());
  auto zero = HashPassword("x", Argon2Params{.memory_kib = 64, .iterations = 0});
  ASSERT_FALSE(zero.has_value());
  EXPECT_EQ(zero.error().code(), ErrorCode::kInvalidArgument);
}

TEST(VerifyPassword, AcceptsTheRightPasswordOnly) {
  auto hash = HashPassword("correct horse", kFast);
  ASSERT_TRUE(hash);
  EXPECT_TRUE(VerifyPassword("correct horse", *hash));
  EXPECT_FALSE(VerifyPassword("correct horsE", *hash));
  EXPECT_FALSE(VerifyPassword("", *hash));
  EXPECT_FALSE(VerifyPassword(std::string("correct horse\0x", 15), *hash));
}

struct LegacyCase {
  const char* name;
  const char* encoded;
  HashFormat format;
};

// Made with openssl passwd -6 and libxcrypt's crypt_gensalt for the password
// "correct horse".
const LegacyCase kLegacy[] = {
    {"sha512crypt",
     "$6$kiseesalt$FIyvWmIeuv.iGaZqie8U4bSShsWa9EOQxIYz6t/CCrOI99fRBfO7GsvRko6YlD7A87SmQ1Qo."
     "lCW9tCJ7tTle/",
     HashFormat::kSha512Crypt},
    {"bcrypt_2b", "$2b$12$8V/4YEwi0QTBNxo3MX1THuNAwypqtQ/oaE6c1les0opBnR/7S4ARe",
     HashFormat::kBcrypt},
    {"bcrypt_2y", "$2y$05$QeXgtR.a2jUP8jFWATrfS.7F09PyTZAxajJRT8rALr5qpPZTSy3Sy",
     HashFormat::kBcrypt},
    {"yescrypt", "$y$j9T$ZIw9i.RbdvwjUlweEPh8z0$a6JDNYFnwFIOsajNFOaprTqpvyA3sD3PuZJJpy.FDs4",
     HashFormat::kYescrypt},
};

class LegacyHashTest : public testing::TestWithParam<LegacyCase> {};

TEST_P(LegacyHashTest, VerifiesThroughLibcryptAndNeedsRehash) {
  const LegacyCase& c = GetParam();
  EXPECT_EQ(DetectHashFormat(c.encoded), c.format);
  EXPECT_TRUE(VerifyPassword("correct horse", c.encoded));
  EXPECT_FALSE(VerifyPassword("correct horsf", c.encoded));
  EXPECT_FALSE(VerifyPassword("", c.encoded));
  EXPECT_TRUE(NeedsRehash(c.encoded, Argon2Params{}));
  // A truncated hash never matches anything.
  std::string truncated(c.encoded);
  truncated.resize(truncated.size() - 5);
  EXPECT_FALSE(VerifyPassword("correct horse", truncated));
}

INSTANTIATE_TEST_SUITE_P(Formats, LegacyHashTest, testing::ValuesIn(kLegacy),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(VerifyPassword, NeverMatchesUnknownOrMalformedHashes) {
  for (const char* encoded : {"", "plaintext", "$1$abc$def", "$argon2id$", "$argon2id$v=19$m=x",
                              "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA", "*0", "$6$"}) {
    EXPECT_FALSE(VerifyPassword("plaintext", encoded)) << encoded;
    EXPECT_FALSE(VerifyPassword("", encoded)) << encoded;
  }
}

TEST(NeedsRehash, OnlyWhenParametersDiffer) {
  auto hash = HashPassword("pw", kFast);
  ASSERT_TRUE(hash);
  EXPECT_FALSE(NeedsRehash(*hash, kFast));
  EXPECT_TRUE(NeedsRehash(*hash, Argon2Params{.memory_kib = 128, .iterations = 1}));
  EXPECT_TRUE(NeedsRehash(*hash, Argon2Params{.memory_kib = 64, .iterations = 2}));
  EXPECT_TRUE(NeedsRehash("$argon2id$v=19$m=64,t=1,p=2$c2FsdHNhbHQ$aGFzaA", kFast));
  EXPECT_TRUE(NeedsRehash("garbage", kFast));
}

TEST(PasswordHasher, DummyVerifyCostsAboutAsMuchAsARealOne) {
  const Argon2Params params{.memory_kib = 4096, .iterations = 2};
  auto hasher = PasswordHasher::Create(params);
  ASSERT_TRUE(hasher) << hasher.error().message();
  auto real = hasher->Hash("secret-password");
  ASSERT_TRUE(real);
  EXPECT_TRUE(hasher->Verify("secret-password", *real));
  EXPECT_FALSE(hasher->VerifyDummy("secret-password"));

  // Compare the minimum of several runs: minima are robust to a loaded machine.
  using Clock = std::chrono::steady_clock;
  auto fastest = [](auto&& fn) {
    auto best = Clock::duration::max();
    for (int i = 0; i < 7; ++i) {
      auto start = Clock::now();
      fn();
      best = std::min(best, Clock::now() - start);
    }
    return std::chrono::duration<double>(best).count();
  };
  double wrong = fastest([&] { hasher->Verify("wrong-password", *real); });
  double dummy = fastest([&] { hasher->VerifyDummy("wrong-password"); });
  EXPECT_GT(dummy, wrong * 0.5);
  EXPECT_LT(dummy, wrong * 2.0);
}

TEST(HashingPool, RunsJobsAndReportsAFullQueue) {
  HashingPool pool(1, 1);
  EXPECT_EQ(pool.thread_count(), 1u);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(pool.Submit([&] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();
  // The one worker is busy; one job may wait; the next is refused.
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.Submit([&] { ran++; }));
  auto refused = pool.Submit([&] { ran++; });
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kResourceExhausted);
  release.set_value();
  pool.Shutdown();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_FALSE(pool.Submit([] {}).has_value());
}

TEST(HashingPool, DefaultsToOneThreadPerCore) {
  HashingPool pool(0, 0);
  EXPECT_EQ(pool.thread_count(), DefaultHashingThreads());
  EXPECT_GE(DefaultHashingThreads(), 1u);
}

}  // namespace
}  // namespace kisee::crypto
