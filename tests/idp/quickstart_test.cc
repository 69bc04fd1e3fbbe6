#include "kisee/idp/quickstart.h"

#include <gtest/gtest.h>

#include "kisee/idp/settings.h"

namespace kisee::idp {
namespace {

TEST(Quickstart, WritesAStrictSqliteSettingsFileThatLoadsCleanly) {
  QuickstartAnswers answers{
      .host = "0.0.0.0", .port = 9001, .hostname = "https://a.example/", .debug = true};
  std::string text = RenderQuickstartSettings(
      answers, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
      "-----BEGIN PUBLIC KEY-----\nBBBB\n-----END PUBLIC KEY-----\n");
  auto s = ParseSettings(text, "/srv/kisee/settings.toml");
  ASSERT_TRUE(s.has_value()) << s.error().message() << "\n" << text;
  EXPECT_TRUE(s->warnings.empty()) << s->warnings.front();
  EXPECT_EQ(s->server.host, "0.0.0.0");
  EXPECT_EQ(s->server.port, 9001);
  EXPECT_EQ(s->server.hostname, "https://a.example");
  EXPECT_TRUE(s->server.debug);
  EXPECT_EQ(s->backend.class_name, "sqlite");
  EXPECT_EQ(s->ResolvePath(std::get<std::string>(s->backend.options.at("path"))),
            "/srv/kisee/kisee.db");
  EXPECT_TRUE(s->passwords.present);
  EXPECT_EQ(s->passwords.min_length, 8);
  EXPECT_TRUE(s->passwords.reject_common);
  EXPECT_EQ(s->jwt.private_key, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  EXPECT_EQ(s->jwt.public_key, "-----BEGIN PUBLIC KEY-----\nBBBB\n-----END PUBLIC KEY-----\n");
}

TEST(Quickstart, ValidatesAnswers) {
  EXPECT_TRUE(ValidateHost("127.0.0.1"));
  EXPECT_TRUE(ValidateHost("::1"));
  EXPECT_FALSE(ValidateHost("localhost:80"));
  EXPECT_FALSE(ValidateHost(""));
  EXPECT_EQ(*ParsePort("8140"), 8140);
  EXPECT_FALSE(ParsePort("0"));
  EXPECT_FALSE(ParsePort("65536"));
  EXPECT_FALSE(ParsePort("80a"));
  EXPECT_FALSE(ParsePort(""));
  EXPECT_TRUE(ValidateHostname("http://localhost:8140"));
  EXPECT_FALSE(ValidateHostname("localhost:8140"));
  EXPECT_FALSE(ValidateHostname("http://"));
  EXPECT_FALSE(ValidateHostname("http://a b"));
  EXPECT_TRUE(*ParseYesNo("Yes"));
  EXPECT_FALSE(*ParseYesNo("n"));
  EXPECT_TRUE(*ParseYesNo("TRUE"));
  EXPECT_FALSE(*ParseYesNo("false"));
  EXPECT_FALSE(ParseYesNo("maybe"));
}

}  // namespace
}  // namespace kisee::idp
