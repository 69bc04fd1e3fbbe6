#include "idp/sql_backend.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <sstream>

#include "idp/backend.h"
#include "idp/sql_driver.h"
#include "idp/sqlite_db.h"

namespace kisee::idp {
namespace {

constexpr crypto::Argon2Params kFast{.memory_kib = 64, .iterations = 1};
// sha512-crypt of "correct horse" (an imported legacy hash).
constexpr std::string_view kLegacyHash =
    "$6$kiseesalt$FIyvWmIeuv.iGaZqie8U4bSShsWa9EOQxIYz6t/"
    "CCrOI99fRBfO7GsvRko6YlD7A87SmQ1Qo.lCW9tCJ7tTle/";

TEST(SqlParameters, NamesSkipQuotesCastsAndComments) {
  EXPECT_EQ(SqlParameterNames("SELECT id::text AS user_id, ':nope' AS q, \":quoted\" FROM t "
                              "WHERE login = :username OR mail = :email -- :comment\n"
                              "AND x = /* :block */ :username"),
            (std::vector<std::string>{"username", "email"}));
  EXPECT_EQ(SqlParameterNames("SELECT 'it''s :not' FROM t WHERE a = :a_1"),
            (std::vector<std::string>{"a_1"}));
  EXPECT_EQ(SqlParameterNames("SELECT a[1:2] FROM t"), std::vector<std::string>{});
}

TEST(SqlParameters, RewriteNumbersEachNameOnce) {
  const std::string sql =
      "UPDATE t SET pw = :password_hash WHERE id = :user_id OR login = "
      ":username AND pw <> :password_hash AND c = 'x:y'";
  auto names = SqlParameterNames(sql);
  EXPECT_EQ(RewriteSqlParameters(sql, names, '$'),
            "UPDATE t SET pw = $1 WHERE id = $2 OR login = $3 AND pw <> $1 AND c = 'x:y'");
  EXPECT_EQ(RewriteSqlParameters("SELECT :a, :b", {"a", "b"}, '?'), "SELECT ?1, ?2");
  auto missing = BindSqlParameters(names, {{"password_hash", "h"}, {"user_id", "1"}});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message(), "unknown query parameter :username");
}

// An existing application's schema: numeric ids, its own column names.
class SqlBackendTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kisee-sql-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto conn = sqlite::Connection::Open(dir_ / "app.db", 1000);
    ASSERT_TRUE(conn);
    ASSERT_TRUE((*conn)->Execute(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, mail TEXT, pw "
        "TEXT NOT NULL, admin INTEGER NOT NULL DEFAULT 0);"
        "INSERT INTO people (id, login, mail, pw, admin) VALUES (41, 'legacy', "
        "'legacy@example.com', '" +
        std::string(kLegacyHash) + "', 1);"));
  }
  void TearDown() override {
    backend_.reset();
    std::filesystem::remove_all(dir_);
  }

  Result<std::unique_ptr<IdentityBackend>> Make(std::string extra_options) {
    auto settings = ParseSettings(
        "[server]\nhostname='http://h'\n[identity_backend]\nclass='sql'\n"
        "[identity_backend.options]\ndriver='sqlite'\npath='app.db'\n"
        "by_username=\"SELECT id AS user_id, login AS username, mail AS email, pw AS "
        "password_hash, admin AS is_superuser FROM people WHERE login = :username\"\n"
        "by_email=\"SELECT id AS user_id, login AS username, mail AS email, pw AS password_hash "
        "FROM people WHERE mail = :email\"\n" +
            extra_options + "[passwords]\n[jwt]\niss='i'\nprivate_key='k'\n",
        dir_ / "settings.toml");
    EXPECT_TRUE(settings.has_value()) << settings.error().message();
    settings_ = *settings;
    return CreateBackend({settings_, hasher_, policy_, SystemClock(), out_, {}});
  }

  static constexpr const char* kWritable =
      "set_password=\"UPDATE people SET pw = :password_hash WHERE id = :user_id\"\n"
      "insert_user=\"INSERT INTO people (login, mail, pw, admin) VALUES (:username, :email, "
      ":password_hash, :is_superuser)\"\n";

  std::string StoredHash(std::string_view login) {
    auto conn = sqlite::Connection::Open(dir_ / "app.db", 1000);
    auto stmt = (*conn)->Prepare("SELECT pw FROM people WHERE login = ?1");
    (*stmt)->Bind(1, login);
    EXPECT_TRUE(*(*stmt)->Step());
    return (*stmt)->ColumnText(0);
  }

  std::filesystem::path dir_;
  Settings settings_;
  crypto::PasswordHasher hasher_ = *crypto::PasswordHasher::Create(kFast);
  PasswordPolicy policy_{PasswordSettings{.present = true}};
  std::ostringstream out_;
  std::unique_ptr<IdentityBackend> backend_;
};

TEST_F(SqlBackendTest, ReadOnlyLogsInWithoutWritingAnything) {
  auto backend = Make("");
  ASSERT_TRUE(backend) << backend.error().message();
  backend_ = std::move(*backend);
  EXPECT_FALSE(backend_->can_register());
  EXPECT_FALSE(backend_->can_change_passwords());
  auto user = backend_->Identify("legacy", "correct horse");
  ASSERT_TRUE(user && user->has_value());
  EXPECT_EQ((*user)->user_id, "41") << "user_id is the query's column";
  EXPECT_EQ((*user)->username, "legacy");
  EXPECT_EQ((*user)->email, "legacy@example.com");
  EXPECT_TRUE((*user)->is_superuser);
  EXPECT_FALSE(backend_->Identify("legacy", "wrong horse")->has_value());
  EXPECT_FALSE(backend_->Identify("legacy", "")->has_value());
  EXPECT_FALSE(backend_->Identify("nobody", "correct horse")->has_value());
  EXPECT_EQ(StoredHash("legacy"), kLegacyHash) << "read-only: no upgrade";
  auto refused = backend_->RegisterUser("alice", "wonderland-42", "a@example.com", false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_FALSE(backend_->SetPasswordForUser(**user, "wonderland-42"));
  EXPECT_EQ(*backend_->ResetStamp(**user), kLegacyHash);
  // No side table was created.
  auto conn = sqlite::Connection::Open(dir_ / "app.db", 1000);
  auto stmt = (*conn)->Prepare("SELECT count(*) FROM sqlite_master WHERE name LIKE 'kisee_%'");
  ASSERT_TRUE(*(*stmt)->Step());
  EXPECT_EQ((*stmt)->ColumnInt(0), 0);
}

TEST_F(SqlBackendTest, AnEmptyPasswordCostsAVerificationLikeAnUnknownUser) {
  // Slow enough that one verification dwarfs the lookup.
  hasher_ = *crypto::PasswordHasher::Create({.memory_kib = 8192, .iterations = 2});
  auto backend = Make("");
  ASSERT_TRUE(backend) << backend.error().message();
  backend_ = std::move(*backend);
  auto fastest = [&](std::string_view login) {
    auto best = std::chrono::steady_clock::duration::max();
    for (int i = 0; i < 3; ++i) {
      const auto start = std::chrono::steady_clock::now();
      EXPECT_FALSE(backend_->Identify(login, "")->has_value());
      best = std::min(best, std::chrono::steady_clock::now() - start);
    }
    return best;
  };
  const auto unknown = fastest("nobody");
  const auto known = fastest("legacy");
  EXPECT_GT(known * 3, unknown) << "an empty password must not tell that legacy exists";
}

TEST_F(SqlBackendTest, WritableRegistersUpgradesAndSharesStampsAndCounters) {
  auto backend = Make(kWritable);
  ASSERT_TRUE(backend) << backend.error().message();
  backend_ = std::move(*backend);
  EXPECT_TRUE(backend_->can_register());
  EXPECT_TRUE(backend_->can_change_passwords());
  // The imported hash verifies and is upgraded to argon2id.
  ASSERT_TRUE(backend_->Identify("legacy", "correct horse")->has_value());
  EXPECT_TRUE(StoredHash("legacy").starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
  EXPECT_TRUE(backend_->Identify("legacy", "correct horse")->has_value());

  ASSERT_TRUE(backend_->RegisterUser("alice", "wonderland-42", "alice@example.com", false));
  EXPECT_EQ(backend_->RegisterUser("alice", "wonderland-42", "b@example.com", false).error().code(),
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(backend_->RegisterUser("alicia", "wonderland-42", "alice@example.com", false)
                .error()
                .message(),
            "User already exist");
  EXPECT_EQ(
      backend_->RegisterUser("al", "wonderland-42", "al@example.com", false).error().message(),
      "Username too short");
  User alice = **backend_->GetUserByEmail("alice@example.com");
  EXPECT_EQ(alice.username, "alice");
  EXPECT_NE(alice.user_id, "alice") << "the id column, not the name";

  auto stamp = backend_->NewResetStamp(alice);
  ASSERT_TRUE(stamp) << stamp.error().message();
  EXPECT_EQ(*backend_->ResetStamp(alice), *stamp);
  auto newer = backend_->NewResetStamp(alice);
  EXPECT_NE(*newer, *stamp) << "a newer token supersedes";
  ASSERT_TRUE(backend_->SetPasswordForUser(alice, "looking-glass-7"));
  EXPECT_NE(*backend_->ResetStamp(alice), *newer) << "a used token is refused";
  EXPECT_TRUE(backend_->Identify("alice", "looking-glass-7")->has_value());

  // A second instance on the same database sees the same stamps and counters.
  std::ostringstream other_out;
  auto other = CreateBackend({settings_, hasher_, policy_, SystemClock(), other_out, {}});
  ASSERT_TRUE(other);
  EXPECT_EQ(*(*other)->ResetStamp(alice), *backend_->ResetStamp(alice));
  ASSERT_TRUE(backend_->failure_store().Update(
      "user:alice", [](auto) { return FailureRecord{.window_start = 5, .count = 3}; }));
  auto record = (*other)->failure_store().Get("user:alice");
  ASSERT_TRUE(record && record->has_value());
  EXPECT_EQ((*record)->count, 3);
  EXPECT_FALSE(*(*other)->failure_store().Get("user:nobody"));
}

TEST_F(SqlBackendTest, BadQueriesAreStartUpErrors) {
  auto unknown = Make("set_password=\"UPDATE people SET pw = :password WHERE id = :user_id\"\n");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(unknown.error().message().find("unknown parameter :password"), std::string::npos)
      << unknown.error().message();

  auto settings = ParseSettings(
      "[server]\nhostname='http://h'\n[identity_backend]\nclass='sql'\n"
      "[identity_backend.options]\ndriver='sqlite'\npath='app.db'\n"
      "by_username=\"SELECT login AS username, pw AS password_hash FROM people WHERE login = "
      ":username\"\n[jwt]\niss='i'\nprivate_key='k'\n",
      dir_ / "settings.toml");
  ASSERT_TRUE(settings);
  auto columns = CreateBackend({*settings, hasher_, policy_, SystemClock(), out_, {}});
  ASSERT_FALSE(columns);
  EXPECT_NE(columns.error().message().find("must return a column named user_id"), std::string::npos)
      << columns.error().message();

  settings->backend.options["driver"] = std::string("oracle");
  auto driver = CreateBackend({*settings, hasher_, policy_, SystemClock(), out_, {}});
  ASSERT_FALSE(driver);
  EXPECT_NE(driver.error().message().find("driver must be"), std::string::npos);
}

}  // namespace
}  // namespace kisee::idp
