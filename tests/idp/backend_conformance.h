// The behaviour every user store shares, as parametrised tests: included by
// the test binaries of each store (backend_test.cc: demo and sqlite;
// postgresql_backend_test.cc: postgresql against a real server), which
// define BackendOptionsForTest and instantiate the suites.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>

#include "idp/backend.h"

namespace kisee::idp {

// BackendOptionsForTest returns the [identity_backend.options] TOML lines
// that give `backend_class` a fresh, empty store for the current test
// (`dir` is a fresh directory). Defined by each test binary.
std::string BackendOptionsForTest(const std::string& backend_class,
                                  const std::filesystem::path& dir);

constexpr crypto::Argon2Params kFast{.memory_kib = 64, .iterations = 1};

// Fixture builds a backend of the given class on a fresh temporary store.
class BackendTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kisee-backend-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    settings_ = MakeSettings(GetParam());
    if (HasFatalFailure()) {
      return;
    }
    backend_ = Make(out_);
    ASSERT_NE(backend_, nullptr) << "the backend could not be created";
  }
  void TearDown() override {
    backend_.reset();
    std::filesystem::remove_all(dir_);
  }

  Settings MakeSettings(const std::string& cls) {
    auto s = ParseSettings("[server]\nhostname='http://h'\n[identity_backend]\nclass='" + cls +
                               "'\n[identity_backend.options]\nusername_min_length = 3\n" +
                               BackendOptionsForTest(cls, dir_) +
                               "\n"
                               "[passwords]\n[jwt]\niss='i'\nprivate_key='k'\n",
                           dir_ / "settings.toml");
    EXPECT_TRUE(s.has_value());
    return *s;
  }

  std::unique_ptr<IdentityBackend> Make(std::ostream& out) {
    BackendContext context{.settings = settings_,
                           .hasher = hasher_,
                           .policy = policy_,
                           .clock = SystemClock(),
                           .out = out,
                           .deliver_mail = {}};
    auto backend = CreateBackend(context);
    EXPECT_TRUE(backend.has_value()) << backend.error().message();
    return backend ? std::move(*backend) : nullptr;
  }

  // RootPassword reads the password printed at start.
  std::string RootPassword() {
    std::smatch m;
    std::string text = out_.str();
    EXPECT_TRUE(std::regex_search(text, m, std::regex("username: root\npassword: (\\S+)\n")))
        << text;
    return m.size() > 1 ? m[1].str() : "";
  }

  std::filesystem::path dir_;
  Settings settings_;
  crypto::PasswordHasher hasher_ = *crypto::PasswordHasher::Create(kFast);
  PasswordPolicy policy_{PasswordSettings{.present = true}};
  std::ostringstream out_;
  std::unique_ptr<IdentityBackend> backend_;
};

TEST_P(BackendTest, PrintsAdminCredentialsAndRootLogsIn) {
  ASSERT_TRUE(backend_);
  std::string password = RootPassword();
  EXPECT_GE(password.size(), 8u);
  auto user = backend_->Identify("root", password);
  ASSERT_TRUE(user.has_value());
  ASSERT_TRUE(user->has_value());
  EXPECT_EQ((*user)->user_id, "root");
  EXPECT_TRUE((*user)->is_superuser);
  EXPECT_FALSE(backend_->Identify("root", password + "x")->has_value());
  EXPECT_FALSE(backend_->Identify("root", "")->has_value());
  EXPECT_FALSE(backend_->Identify("nobody", password)->has_value());
  EXPECT_TRUE(backend_->IsConnectionAlive());
}

TEST_P(BackendTest, RegistersWithUniqueNamesAndPolicy) {
  ASSERT_TRUE(backend_->RegisterUser("alice", "wonderland-42", "alice@example.com", false));
  auto dup = backend_->RegisterUser("alice", "another-pass-9", "other@example.com", false);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(dup.error().message(), "User already exist");

  auto short_name = backend_->RegisterUser("al", "wonderland-42", "al@example.com", false);
  ASSERT_FALSE(short_name.has_value());
  EXPECT_EQ(short_name.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(short_name.error().message(), "Username too short");
  // The minimum (3) counts characters: "éa" is 3 bytes but 2 characters.
  const std::string e_acute = "\xc3\xa9";
  auto short_utf8 = backend_->RegisterUser(e_acute + "a", "wonderland-42", "ea@example.com", false);
  ASSERT_FALSE(short_utf8.has_value());
  EXPECT_EQ(short_utf8.error().message(), "Username too short");
  EXPECT_TRUE(backend_->RegisterUser(e_acute + "ab", "wonderland-42", "eab@example.com", false));

  auto weak = backend_->RegisterUser("bobby", "password", "bob@example.com", false);
  ASSERT_FALSE(weak.has_value());
  EXPECT_EQ(weak.error().code(), ErrorCode::kInvalidArgument);

  auto alice = backend_->Identify("alice", "wonderland-42");
  ASSERT_TRUE(alice && alice->has_value());
  EXPECT_EQ((*alice)->user_id, "alice");
  EXPECT_EQ((*alice)->email, "alice@example.com");
  EXPECT_FALSE((*alice)->is_superuser);

  auto by_email = backend_->GetUserByEmail("alice@example.com");
  ASSERT_TRUE(by_email && by_email->has_value());
  EXPECT_EQ((*by_email)->username, "alice");
  auto by_name = backend_->GetUserByUsername("alice");
  ASSERT_TRUE(by_name && by_name->has_value());
  EXPECT_FALSE(backend_->GetUserByUsername("carol")->has_value());
  EXPECT_FALSE(backend_->GetUserByEmail("carol@example.com")->has_value());
}

TEST_P(BackendTest, PasswordChangeAndResetStamps) {
  ASSERT_TRUE(backend_->RegisterUser("alice", "wonderland-42", "alice@example.com", false));
  User alice = **backend_->GetUserByUsername("alice");
  auto first = backend_->NewResetStamp(alice);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*backend_->ResetStamp(alice), *first);
  // A newer reset token supersedes the older one.
  auto second = backend_->NewResetStamp(alice);
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(*first, *second);
  EXPECT_EQ(*backend_->ResetStamp(alice), *second);

  EXPECT_FALSE(backend_->SetPasswordForUser(alice, "short").has_value());
  ASSERT_TRUE(backend_->SetPasswordForUser(alice, "through-the-looking-glass"));
  // Changing the password changes the stamp: the reset token is used up.
  EXPECT_NE(*backend_->ResetStamp(alice), *second);
  EXPECT_FALSE(backend_->Identify("alice", "wonderland-42")->has_value());
  EXPECT_TRUE(backend_->Identify("alice", "through-the-looking-glass")->has_value());

  User ghost{.user_id = "ghost", .username = "ghost"};
  EXPECT_EQ(backend_->ResetStamp(ghost).error().code(), ErrorCode::kNotFound);
}

TEST_P(BackendTest, FailureStoreKeepsRecords) {
  FailureStore& store = backend_->failure_store();
  ASSERT_TRUE(store.Update("user:x", [](std::optional<FailureRecord> r) {
    EXPECT_FALSE(r.has_value());
    return FailureRecord{.window_start = 10, .count = 2, .locked_until = 99, .level = 1};
  }));
  auto got = store.Get("user:x");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(**got, (FailureRecord{.window_start = 10, .count = 2, .locked_until = 99, .level = 1}));
}

// HashingStoreTest: stores that keep password hashes (all but demo, which
// compares plaintext).
class HashingStoreTest : public BackendTest {};

TEST_P(HashingStoreTest, EmptyPasswordsCostAVerificationLikeUnknownUsers) {
  // A hasher slow enough that one verification dwarfs a store lookup; a
  // second instance on the same store uses it.
  auto slow = crypto::PasswordHasher::Create({.memory_kib = 8192, .iterations = 2});
  ASSERT_TRUE(slow.has_value());
  std::ostringstream out;
  BackendContext context{.settings = settings_,
                         .hasher = *slow,
                         .policy = policy_,
                         .clock = SystemClock(),
                         .out = out,
                         .deliver_mail = {}};
  auto backend = CreateBackend(context);
  ASSERT_TRUE(backend.has_value()) << backend.error().message();
  auto fastest = [&](std::string_view username) {
    auto best = std::chrono::steady_clock::duration::max();
    for (int i = 0; i < 3; ++i) {
      const auto start = std::chrono::steady_clock::now();
      auto user = (*backend)->Identify(username, "");
      best = std::min(best, std::chrono::steady_clock::now() - start);
      EXPECT_TRUE(user.has_value() && !user->has_value());
    }
    return best;
  };
  const auto unknown = fastest("nobody-here");
  const auto known = fastest("root");
  // Both spend one verification; without it "root" answers in a lookup.
  EXPECT_GT(known * 3, unknown) << "an empty password must not tell that root exists";
}

// SharedStoreTest: stores that several processes share.
class SharedStoreTest : public BackendTest {};

TEST_P(SharedStoreTest, TwoInstancesShareUsersStampsAndCounters) {
  std::ostringstream second_out;
  auto other = Make(second_out);
  ASSERT_TRUE(other);
  // Only the first start creates root and prints its password.
  EXPECT_EQ(second_out.str(), "");
  ASSERT_TRUE(backend_->RegisterUser("alice", "wonderland-42", "alice@example.com", false));
  EXPECT_TRUE(other->Identify("alice", "wonderland-42")->has_value());
  auto dup = other->RegisterUser("alicia", "wonderland-42", "ALICE@example.com", false);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code(), ErrorCode::kAlreadyExists);

  User alice = **other->GetUserByUsername("alice");
  auto stamp = backend_->NewResetStamp(alice);
  ASSERT_TRUE(stamp);
  EXPECT_EQ(*other->ResetStamp(alice), *stamp);
  ASSERT_TRUE(other->SetPasswordForUser(alice, "new-password-77"));
  EXPECT_NE(*backend_->ResetStamp(alice), *stamp);

  ASSERT_TRUE(
      backend_->failure_store().Update("addr:1", [](auto) { return FailureRecord{.count = 4}; }));
  EXPECT_EQ((*other->failure_store().Get("addr:1"))->count, 4);
}

}  // namespace kisee::idp
