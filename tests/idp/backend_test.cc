#include "idp/backend.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>
#include <sstream>
#include <thread>

#include "idp/backend_conformance.h"
#include "idp/sqlite_backend.h"
#include "idp/sqlite_db.h"

namespace kisee::idp {

std::string BackendOptionsForTest(const std::string&, const std::filesystem::path&) {
  return "path = 'users.db'";
}

namespace {

INSTANTIATE_TEST_SUITE_P(Builtin, BackendTest, testing::Values("demo", "sqlite"));
INSTANTIATE_TEST_SUITE_P(Sqlite, SharedStoreTest, testing::Values("sqlite"));
INSTANTIATE_TEST_SUITE_P(Sqlite, HashingStoreTest, testing::Values("sqlite"));

TEST(DemoBackend, PrintsTheExactResetLine) {
  auto settings = ParseSettings(
      "[server]\nhostname='h'\n[identity_backend]\nclass='kisee.providers.demo.DemoBackend'\n"
      "[jwt]\niss='i'\nprivate_key='k'\n",
      "s.toml");
  ASSERT_TRUE(settings);
  auto hasher = crypto::PasswordHasher::Create(kFast);
  PasswordPolicy policy(settings->passwords);
  std::ostringstream out;
  auto backend = CreateBackend({*settings, *hasher, policy, SystemClock(), out, {}});
  ASSERT_TRUE(backend) << backend.error().message();
  EXPECT_TRUE(out.str().starts_with("Admin credentials for this session is:\nusername: root\n"));
  out.str("");
  User root = **(*backend)->GetUserByUsername("root");
  EXPECT_EQ(root.email, "root@example.com");
  ASSERT_TRUE((*backend)->SendResetPasswordChallenge(root, "TOKEN.abc.def"));
  EXPECT_EQ(out.str(), "Password reset challenge for user root is TOKEN.abc.def\n");
  // Legacy policy: permissive.
  EXPECT_TRUE((*backend)->RegisterUser("bob", "pw", "bob@example.com", false));
}

TEST(CreateBackend, RejectsUnknownClasses) {
  auto settings = ParseSettings(
      "[server]\nhostname='h'\n[identity_backend]\nclass='kisee.providers.ldap.Foo'\n"
      "[jwt]\niss='i'\nprivate_key='k'\n",
      "s.toml");
  ASSERT_TRUE(settings);
  auto hasher = crypto::PasswordHasher::Create(kFast);
  PasswordPolicy policy(settings->passwords);
  std::ostringstream out;
  auto backend = CreateBackend({*settings, *hasher, policy, SystemClock(), out, {}});
  ASSERT_FALSE(backend.has_value());
  EXPECT_NE(backend.error().message().find("unknown backend"), std::string::npos);
}

class SqliteBackendTest : public BackendTest {};

TEST_P(SqliteBackendTest, UpgradesHashesWhenParametersChange) {
  ASSERT_TRUE(backend_->RegisterUser("alice", "wonderland-42", "alice@example.com", false));
  backend_.reset();
  auto stronger = crypto::PasswordHasher::Create({.memory_kib = 128, .iterations = 2});
  ASSERT_TRUE(stronger);
  hasher_ = *stronger;
  backend_ = Make(out_);
  ASSERT_TRUE(backend_->Identify("alice", "wonderland-42")->has_value());

  auto conn = sqlite::Connection::Open(dir_ / "users.db", 1000);
  ASSERT_TRUE(conn);
  auto stmt = (*conn)->Prepare("SELECT password_hash FROM users WHERE username = 'alice'");
  ASSERT_TRUE(stmt);
  ASSERT_TRUE(*(*stmt)->Step());
  EXPECT_TRUE((*stmt)->ColumnText(0).starts_with("$argon2id$v=19$m=128,t=2,p=1$"));
}

TEST_P(SqliteBackendTest, VerifiesImportedLegacyHashesAndUpgradesThem) {
  backend_.reset();
  {
    auto conn = sqlite::Connection::Open(dir_ / "users.db", 1000);
    ASSERT_TRUE(conn);
    ASSERT_TRUE((*conn)->Execute(
        "INSERT INTO users (username, email, password_hash, created_at) VALUES ('legacy', "
        "'legacy@example.com', '$6$kiseesalt$FIyvWmIeuv.iGaZqie8U4bSShsWa9EOQxIYz6t/"
        "CCrOI99fRBfO7GsvRko6YlD7A87SmQ1Qo.lCW9tCJ7tTle/', 0)"));
  }
  backend_ = Make(out_);
  EXPECT_FALSE(backend_->Identify("legacy", "wrong horse")->has_value());
  ASSERT_TRUE(backend_->Identify("legacy", "correct horse")->has_value());
  auto conn = sqlite::Connection::Open(dir_ / "users.db", 1000);
  auto stmt = (*conn)->Prepare("SELECT password_hash FROM users WHERE username = 'legacy'");
  ASSERT_TRUE(*(*stmt)->Step());
  EXPECT_TRUE((*stmt)->ColumnText(0).starts_with("$argon2id$"));
  stmt->reset();
  EXPECT_TRUE(backend_->Identify("legacy", "correct horse")->has_value());
}

TEST_P(SqliteBackendTest, ConcurrentStartsCreateOneRoot) {
  backend_.reset();
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  std::ostringstream outs[4];
  std::unique_ptr<IdentityBackend> backends[4];
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { backends[i] = Make(outs[i]); });
  }
  for (auto& t : threads) t.join();
  int printed = 0;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(backends[i]);
    printed += outs[i].str().find("username: root") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(printed, 1);
}

TEST_P(SqliteBackendTest, RefusesUsernamesThatBreakUrls) {
  for (const char* name : {"a/b", "a b", "a?b", "a\nb"}) {
    auto r = backend_->RegisterUser(name, "wonderland-42", std::string("x") + "@e.com", false);
    ASSERT_FALSE(r.has_value()) << name;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST_P(SqliteBackendTest, ReportsAnUnreachableStoreAsUnavailable) {
  backend_.reset();
  settings_.backend.options["path"] = std::string("/nonexistent-dir/kisee.db");
  BackendContext context{settings_, hasher_, policy_, SystemClock(), out_, {}};
  auto backend = CreateBackend(context);
  ASSERT_FALSE(backend.has_value());
  EXPECT_EQ(backend.error().code(), ErrorCode::kUnavailable);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, SqliteBackendTest, testing::Values("sqlite"));

}  // namespace
}  // namespace kisee::idp
