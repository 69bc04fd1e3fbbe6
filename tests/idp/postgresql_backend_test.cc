// The store conformance suites (backend_conformance.h) on the postgresql
// backend, against the PostgreSQL server that tests/e2e/run_with_postgres.py
// starts for this binary (its URI in KISEE_TEST_POSTGRES_DSN). Every test
// gets a database of its own, created through the backend's own driver
// (which also exercises loading the kisee-postgresql module).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>

#include "idp/backend_conformance.h"
#include "idp/sql_driver.h"

namespace kisee::idp {

std::string BackendOptionsForTest(const std::string&, const std::filesystem::path&) {
  const char* base = std::getenv("KISEE_TEST_POSTGRES_DSN");
  if (base == nullptr) {
    ADD_FAILURE() << "KISEE_TEST_POSTGRES_DSN is not set: run through run_with_postgres.py";
    return "";
  }
  static std::atomic<int> counter{0};
  const std::string db = "conformance_" + std::to_string(++counter);
  auto admin = CreatePostgresqlDriver({.dsn = base, .pool_size = 1, .timeout_ms = 10'000});
  if (!admin) {
    ADD_FAILURE() << admin.error().message();
    return "";
  }
  auto created = (*admin)->Run("CREATE DATABASE " + db, {});
  EXPECT_TRUE(created) << created.error().message();
  std::string dsn = base;
  dsn = dsn.substr(0, dsn.rfind('/') + 1) + db;
  return "dsn = '" + dsn + "'\ntimeout = 5\npool_size = 4";
}

namespace {

INSTANTIATE_TEST_SUITE_P(Postgresql, BackendTest, testing::Values("postgresql"));
INSTANTIATE_TEST_SUITE_P(Postgresql, SharedStoreTest, testing::Values("postgresql"));
INSTANTIATE_TEST_SUITE_P(Postgresql, HashingStoreTest, testing::Values("postgresql"));

// A statement that fails for a reason other than availability is an
// internal error, mapped, never an exception.
TEST(PostgresqlDriver, MapsErrorsWithoutThrowing) {
  const char* dsn = std::getenv("KISEE_TEST_POSTGRES_DSN");
  ASSERT_NE(dsn, nullptr) << "run through run_with_postgres.py";
  auto driver = CreatePostgresqlDriver({.dsn = dsn, .pool_size = 2, .timeout_ms = 5000});
  ASSERT_TRUE(driver) << driver.error().message();
  auto syntax = (*driver)->Run("SELEC 1", {});
  ASSERT_FALSE(syntax);
  EXPECT_EQ(syntax.error().code(), ErrorCode::kInternal);
  ASSERT_TRUE((*driver)->Run("CREATE TEMP TABLE t (k TEXT PRIMARY KEY)", {}));
  auto missing = (*driver)->Run("SELECT :nope", {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kInvalidArgument);
  // The transaction is rolled back when its body fails.
  auto failed = (*driver)->InTransaction([](SqlSession& session) -> Status {
    KISEE_RETURN_IF_ERROR(session.Run("CREATE TABLE rolled_back (x INT)", {}));
    return MakeError(ErrorCode::kInternal, "changed my mind");
  });
  ASSERT_FALSE(failed);
  auto gone = (*driver)->Run("SELECT count(*) FROM pg_tables WHERE tablename = 'rolled_back'", {});
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->rows.at(0).at(0), "0");
  // Text parameters, casts left alone, a unique violation as kAlreadyExists.
  ASSERT_TRUE((*driver)->Run("CREATE TABLE uniq (k TEXT PRIMARY KEY, n INTEGER)", {}));
  ASSERT_TRUE((*driver)->Run("INSERT INTO uniq VALUES (:k, CAST(:n AS INTEGER))",
                             {{"k", "a"}, {"n", "7"}}));
  auto dup = (*driver)->Run("INSERT INTO uniq VALUES (:k, 1)", {{"k", "a"}});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), ErrorCode::kAlreadyExists);
  auto read =
      (*driver)->Run("SELECT n::text AS n, NULL AS nothing FROM uniq WHERE k = :k", {{"k", "a"}});
  ASSERT_TRUE(read);
  EXPECT_EQ(read->columns, (std::vector<std::string>{"n", "nothing"}));
  EXPECT_EQ(read->rows.at(0).at(0), "7");
  EXPECT_FALSE(read->rows.at(0).at(1).has_value());
}

TEST(PostgresqlDriver, AnUnreachableServerIsUnavailableAtOnce) {
  auto driver =
      CreatePostgresqlDriver({.dsn = "postgresql://kisee@127.0.0.1:1/none", .timeout_ms = 2000});
  ASSERT_FALSE(driver);
  EXPECT_EQ(driver.error().code(), ErrorCode::kUnavailable);
  auto malformed = CreatePostgresqlDriver({.dsn = "host='unterminated password=hunter2"});
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(malformed.error().message().find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace kisee::idp
