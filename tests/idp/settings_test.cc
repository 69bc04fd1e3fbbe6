#include "kisee/idp/settings.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace kisee::idp {
namespace {

const std::filesystem::path kData = std::filesystem::path(KISEE_SOURCE_DIR) / "tests/idp/data";

constexpr std::string_view kMinimal = R"(
[server]
hostname = "http://localhost:8140/"
[identity_backend]
class = "demo"
[jwt]
iss = "example.com"
private_key = "PEM"
)";

TEST(Settings, LoadsTheOriginalTestFileUnchanged) {
  auto s = LoadSettings(kData / "original_settings.toml");
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->server.host, "0.0.0.0");
  EXPECT_EQ(s->server.hostname, "https://fakekiseehostname.melty.com");
  EXPECT_EQ(s->server.port, 8140);
  EXPECT_EQ(s->backend.class_name, "demo");  // kisee.providers.demo.DemoBackend
  EXPECT_TRUE(s->email.present);
  EXPECT_EQ(s->email.host, "localhost");
  EXPECT_EQ(s->email.port, 25);
  EXPECT_EQ(s->email.sender, "sender@example.com");
  EXPECT_EQ(s->email.reset_url,
            "https://fakekiseehostname.melty.com/password_recoveries/?token={token}");
  EXPECT_EQ(s->jwt.iss, "example.com");
  EXPECT_TRUE(s->jwt.private_key.find("BEGIN EC PRIVATE KEY") != std::string::npos);
  EXPECT_TRUE(s->jwt.public_key.find("BEGIN PUBLIC KEY") != std::string::npos);
  EXPECT_EQ(s->jwt.lifetime, 3600);
  EXPECT_EQ(s->jwt.reset_lifetime, 3600);
  EXPECT_EQ(s->jwt.algorithm, "ES256");
  // No [passwords]: permissive, with a warning; no unknown-key warning.
  EXPECT_FALSE(s->passwords.present);
  EXPECT_EQ(s->passwords.min_length, 1);
  EXPECT_FALSE(s->passwords.reject_common);
  ASSERT_EQ(s->warnings.size(), 1u);
  EXPECT_NE(s->warnings[0].find("[passwords]"), std::string::npos);
  EXPECT_EQ(s->directory, kData);
}

TEST(Settings, ReadsTheOriginalExampleWithOptionsDebugAndSentry) {
  auto s = ParseSettings(R"(
SENTRY_DSN = "https://key@sentry.example.com/1"
[server]
host = "0.0.0.0"
hostname = "http://localhost:8140"
port = 8140
debug = true

[identity_backend]
  class = "kisee.providers.demo.DemoBackend"
  [identity_backend.options]
    username_min_length = 3

[email]
  host = "localhost"
  sender = "sender@example.com"

[jwt]
  iss = "example.com"
  private_key = '''-----BEGIN EC PRIVATE KEY----- ...'''
  public_key = '''-----BEGIN PUBLIC KEY----- ...'''
)",
                         "/etc/kisee/settings.toml");
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_TRUE(s->server.debug);
  EXPECT_EQ(std::get<std::int64_t>(s->backend.options.at("username_min_length")), 3);
  for (const auto& w : s->warnings) {
    EXPECT_EQ(w.find("SENTRY_DSN"), std::string::npos) << w;
  }
  EXPECT_EQ(s->ResolvePath("kisee.db"), "/etc/kisee/kisee.db");
  EXPECT_EQ(s->ResolvePath("/var/lib/kisee.db"), "/var/lib/kisee.db");
}

TEST(Settings, ReadsOurSectionsWithTheirFixedNames) {
  auto s = ParseSettings(R"(
[server]
hostname = "https://auth.example.com/"
host = "127.0.0.1"
port = 9000
workers = 3
registration = false
cors_origins = ["https://app.example.com"]
[identity_backend]
class = "sqlite"
[identity_backend.options]
path = "users.db"
[passwords]
memory_kib = 65536
iterations = 3
min_length = 10
max_length = 64
reject_common = false
[jwt]
iss = "auth"
private_key = "PEM"
previous_keys = ["OLD1", "OLD2"]
lifetime = 600
reset_lifetime = 900
algorithm = "ES256K"
[limits]
user_failures = 3
address_failures = 50
window = 60
lockout = 10
max_lockout = 100
)",
                         "settings.toml");
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->server.hostname, "https://auth.example.com");
  EXPECT_EQ(s->server.port, 9000);
  EXPECT_EQ(s->server.workers, 3u);
  EXPECT_FALSE(s->server.registration);
  EXPECT_EQ(s->server.cors_origins, std::vector<std::string>{"https://app.example.com"});
  EXPECT_EQ(s->backend.class_name, "sqlite");
  EXPECT_EQ(std::get<std::string>(s->backend.options.at("path")), "users.db");
  EXPECT_TRUE(s->passwords.present);
  EXPECT_EQ(s->passwords.memory_kib, 65536u);
  EXPECT_EQ(s->passwords.iterations, 3u);
  EXPECT_EQ(s->passwords.min_length, 10);
  EXPECT_EQ(s->passwords.max_length, 64);
  EXPECT_FALSE(s->passwords.reject_common);
  EXPECT_EQ(s->jwt.previous_keys.size(), 2u);
  EXPECT_EQ(s->jwt.lifetime, 600);
  EXPECT_EQ(s->jwt.reset_lifetime, 900);
  EXPECT_EQ(s->jwt.algorithm, "ES256K");
  EXPECT_EQ(s->limits.user_failures, 3);
  EXPECT_EQ(s->limits.address_failures, 50);
  EXPECT_EQ(s->limits.window, 60);
  EXPECT_EQ(s->limits.lockout, 10);
  EXPECT_EQ(s->limits.max_lockout, 100);
  EXPECT_TRUE(s->warnings.empty());
  EXPECT_EQ(s->ResolvePath("kisee.db"), "./kisee.db");
}

TEST(Settings, DefaultsMatchTheContract) {
  auto s = ParseSettings(std::string(kMinimal) + "[passwords]\n", "s.toml");
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->server.host, "127.0.0.1");
  EXPECT_EQ(s->server.hostname, "http://localhost:8140");
  EXPECT_TRUE(s->server.registration);
  EXPECT_FALSE(s->email.present);
  EXPECT_EQ(s->passwords.memory_kib, 19456u);
  EXPECT_EQ(s->passwords.iterations, 2u);
  EXPECT_EQ(s->passwords.min_length, 8);
  EXPECT_EQ(s->passwords.max_length, 128);
  EXPECT_TRUE(s->passwords.reject_common);
  EXPECT_EQ(s->limits.user_failures, 5);
  EXPECT_EQ(s->limits.address_failures, 100);
  EXPECT_EQ(s->limits.window, 900);
  EXPECT_EQ(s->limits.lockout, 60);
  EXPECT_EQ(s->limits.max_lockout, 3600);
  EXPECT_TRUE(s->warnings.empty());
}

TEST(Settings, WarnsAboutUnknownKeysWithoutFailing) {
  auto s = ParseSettings(
      std::string(kMinimal) + "colour = 1\n[passwords]\nfrobnicate = true\n[jwt2]\nx = 1\n",
      "s.toml");
  ASSERT_TRUE(s.has_value()) << s.error().message();
  std::string all;
  for (const auto& w : s->warnings) {
    all += w + "\n";
  }
  EXPECT_NE(all.find("passwords.frobnicate"), std::string::npos) << all;
  EXPECT_NE(all.find("jwt2"), std::string::npos) << all;
  EXPECT_NE(all.find("colour"), std::string::npos) << all;
}

TEST(Settings, WarnsAboutUnknownOptionsOfBuiltInBackends) {
  struct Case {
    std::string backend;              // the [identity_backend] section
    std::vector<std::string> warned;  // option names
  };
  const std::vector<Case> cases = {
      {"class = 'kisee.providers.demo.DemoBackend'\n[identity_backend.options]\n"
       "username_min_length = 3\nusername_min_lenght = 4\n",
       {"username_min_lenght"}},
      {"class = 'sqlite'\n[identity_backend.options]\npath = 'k.db'\n"
       "username_min_length = 3\nbusy_timeout_ms = 100\nreset_delivery = 'stdout'\n"
       "dsn = 'x'\n",
       {"dsn"}},
      {"class = 'postgresql'\n[identity_backend.options]\ndsn = 'x'\npool_size = 2\n"
       "timeout = 1\nusername_min_length = 3\nreset_delivery = 'email'\npath = 'p'\n",
       {"path"}},
      {"class = 'sql'\n[identity_backend.options]\ndriver = 'sqlite'\npath = 'u.db'\n"
       "dsn = 'x'\npool_size = 2\ntimeout = 1\nusername_min_length = 3\n"
       "reset_delivery = 'email'\nby_username = 'q'\nby_email = 'q'\nset_password = 'q'\n"
       "insert_user = 'q'\nby_login = 'q'\n",
       {"by_login"}},
      {"class = 'ldap'\n[identity_backend.options]\nuri = 'ldap://h'\nbase_dn = 'b'\n"
       "user_filter = 'f'\nemail_filter = 'f'\nusername_attribute = 'uid'\n"
       "email_attribute = 'mail'\nbind_dn = 'd'\nbind_password = 'p'\nstarttls = true\n"
       "ca_file = 'c'\ntimeout = 1\npool_size = 1\nwritable = true\n"
       "reset_delivery = 'email'\nbind_pw = 'p'\n",
       {"bind_pw"}},
      // A plugin reads its options itself: nothing is known to be unknown.
      {"class = 'plugin:/x.so'\n[identity_backend.options]\nanything = 1\n", {}},
  };
  for (const Case& c : cases) {
    auto s = ParseSettings("[server]\nhostname = 'h'\n[identity_backend]\n" + c.backend +
                               "[passwords]\n[jwt]\niss = 'i'\nprivate_key = 'PEM'\n",
                           "s.toml");
    ASSERT_TRUE(s.has_value()) << s.error().message();
    std::vector<std::string> expected;
    for (const std::string& name : c.warned) {
      expected.push_back("unknown setting identity_backend.options." + name + " (ignored)");
    }
    EXPECT_EQ(s->warnings, expected) << c.backend;
  }
}

struct ErrorCase {
  const char* name;
  std::string text;
  const char* expected;  // a substring of the one-line message
};

class SettingsErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(SettingsErrorTest, IsOneClearLine) {
  auto s = ParseSettings(GetParam().text, "bad.toml");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  const std::string& message = s.error().message();
  EXPECT_NE(message.find(GetParam().expected), std::string::npos) << message;
  EXPECT_NE(message.find("bad.toml"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

std::string Without(std::string_view line) {
  std::string text(kMinimal);
  text.erase(text.find(line), line.size());
  return text;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SettingsErrorTest,
    testing::Values(
        ErrorCase{"syntax", "[server\nhostname=", "bad.toml:1"},
        ErrorCase{"no_hostname", Without("hostname = \"http://localhost:8140/\"\n"),
                  "missing required setting server.hostname"},
        ErrorCase{"no_class", Without("class = \"demo\"\n"),
                  "missing required setting identity_backend.class"},
        ErrorCase{"no_iss", Without("iss = \"example.com\"\n"), "missing required setting jwt.iss"},
        ErrorCase{"no_private_key", Without("private_key = \"PEM\"\n"),
                  "missing required setting jwt.private_key"},
        ErrorCase{"no_jwt", "[server]\nhostname='h'\n[identity_backend]\nclass='demo'\n",
                  "missing required setting jwt.iss"},
        ErrorCase{"port_type", std::string(kMinimal) + "[limits]\nwindow = \"long\"\n",
                  "limits.window must be an integer"},
        ErrorCase{"port_range", "[server]\nport = 70000\n" + std::string(kMinimal).substr(10),
                  "server.port must be between 0 and 65535"},
        ErrorCase{"bool_type", std::string(kMinimal) + "[passwords]\nreject_common = \"yes\"\n",
                  "passwords.reject_common must be true or false"},
        ErrorCase{"lengths", std::string(kMinimal) + "[passwords]\nmin_length=20\nmax_length=10\n",
                  "passwords.max_length"},
        ErrorCase{"table_type", "email = 3\n" + std::string(kMinimal), "email must be a table"},
        ErrorCase{"security", std::string(kMinimal) + "[email]\nsecurity = \"ssl\"\n",
                  "email.security"}),
    [](const auto& info) { return std::string(info.param.name); });

// jwt.* keys must follow the [jwt] table: appended after kMinimal they do.
TEST(Settings, RejectsABadAlgorithmLabelAndNonStringKeyLists) {
  auto a = ParseSettings(std::string(kMinimal) + "algorithm = \"HS256\"\n", "bad.toml");
  ASSERT_FALSE(a.has_value());
  EXPECT_NE(a.error().message().find("jwt.algorithm"), std::string::npos);
  auto b = ParseSettings(std::string(kMinimal) + "previous_keys = [1, 2]\n", "bad.toml");
  ASSERT_FALSE(b.has_value());
  EXPECT_NE(b.error().message().find("jwt.previous_keys must be an array of strings"),
            std::string::npos);
}

TEST(LocateSettings, UsesTheExplicitPathElseTheLookupOrder) {
  auto given = LocateSettings(std::filesystem::path("/some/where.toml"));
  ASSERT_TRUE(given);
  EXPECT_EQ(*given, "/some/where.toml");

  auto dir =
      std::filesystem::temp_directory_path() / ("kisee-locate-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "home");
  std::filesystem::create_directories(dir / "cwd");
  const auto old_cwd = std::filesystem::current_path();
  const char* old_home = std::getenv("HOME");
  std::string saved_home = old_home != nullptr ? old_home : "";
  ::setenv("HOME", (dir / "home").c_str(), 1);
  std::filesystem::current_path(dir / "cwd");

  if (!std::filesystem::exists("/etc/settings.toml")) {
    auto none = LocateSettings(std::nullopt);
    ASSERT_FALSE(none.has_value());
    EXPECT_EQ(none.error().message(), "Failed to locate the settings.toml file.");
  }
  std::ofstream(dir / "home" / "settings.toml") << "x";
  auto home = LocateSettings(std::nullopt);
  ASSERT_TRUE(home);
  EXPECT_EQ(*home, dir / "home" / "settings.toml");
  std::ofstream(dir / "cwd" / "settings.toml") << "x";
  auto cwd = LocateSettings(std::nullopt);
  ASSERT_TRUE(cwd);
  EXPECT_EQ(*cwd, "settings.toml");

  std::filesystem::current_path(old_cwd);
  ::setenv("HOME", saved_home.c_str(), 1);
  std::filesystem::remove_all(dir);
}

TEST(LoadSettings, ReportsAMissingFile) {
  auto s = LoadSettings("/nonexistent/settings.toml");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace kisee::idp
