#include "idp/documents.h"

#include <gtest/gtest.h>

namespace kisee::idp {
namespace {

struct NegotiationCase {
  std::optional<std::string_view> accept;
  Format expected;
};

class NegotiationTest : public testing::TestWithParam<NegotiationCase> {};

TEST_P(NegotiationTest, FollowsTheContractTable) {
  EXPECT_EQ(Negotiate(GetParam().accept), GetParam().expected)
      << GetParam().accept.value_or("(none)");
}

INSTANTIATE_TEST_SUITE_P(
    Table, NegotiationTest,
    testing::Values(
        // kisee-api.md §2.2, row by row.
        NegotiationCase{std::nullopt, Format::kCoreApi}, NegotiationCase{"*/*", Format::kCoreApi},
        NegotiationCase{"application/vnd.coreapi+json", Format::kCoreApi},
        NegotiationCase{"application/json; charset=utf-8", Format::kCoreApi},
        NegotiationCase{"application/json", Format::kJson},
        NegotiationCase{"application/json, application/coreapi+json", Format::kCoreApi},
        NegotiationCase{"application/coreapi+json;q=0.5, application/json", Format::kJson},
        // And the rules behind it.
        NegotiationCase{"", Format::kCoreApi}, NegotiationCase{"   ", Format::kCoreApi},
        NegotiationCase{"APPLICATION/JSON", Format::kJson},
        NegotiationCase{"application/json;q=0", Format::kCoreApi},
        NegotiationCase{"application/json;q=0.9, application/coreapi+json;q=0.9", Format::kCoreApi},
        NegotiationCase{"application/coreapi+json;q=0.1, application/json;q=0.2", Format::kJson},
        NegotiationCase{"*;q=0.5, application/json", Format::kJson},
        NegotiationCase{"text/html, application/json;q=0.8", Format::kJson},
        NegotiationCase{"application/json;q=bogus", Format::kCoreApi},
        NegotiationCase{",,,;;;", Format::kCoreApi}));

TEST(AbsoluteUrl, JoinsLikeAUrlJoin) {
  EXPECT_EQ(AbsoluteUrl("https://h.example", "/jwt/"), "https://h.example/jwt/");
  EXPECT_EQ(AbsoluteUrl("https://h.example/base/x", "/jwt/"), "https://h.example/jwt/");
  EXPECT_EQ(AbsoluteUrl("https://h.example/base/x", "jwt/"), "https://h.example/base/jwt/");
  EXPECT_EQ(AbsoluteUrl("https://h.example", "http://other/x"), "http://other/x");
}

TEST(Documents, JwtDocumentRendersBothWays) {
  const std::string base = "https://fakekiseehostname.melty.com";
  Json core = Render(JwtDocument(base, {"T"}), Format::kCoreApi, base);
  EXPECT_EQ(core.dump(),
            R"({"_type":"document","_meta":{"url":"https://fakekiseehostname.melty.com/jwt/",)"
            R"("title":"JSON Web Tokens"},"tokens":["T"],"add_token":{"_type":"link",)"
            R"("url":"https://fakekiseehostname.melty.com/jwt/","action":"post",)"
            R"("title":"Create a new JWT","description":"POSTing to this endpoint create JWT )"
            R"(tokens.","fields":[{"name":"username","required":true,"schema":{"type":)"
            R"("string"}},{"name":"password","required":true,"schema":{"type":"string",)"
            R"("format":"password"}}]}})");
  Json plain = Render(JwtDocument(base, {}), Format::kJson, base);
  EXPECT_EQ(plain.dump(),
            R"({"tokens":[],"add_token":"https://fakekiseehostname.melty.com/jwt/"})");
}

TEST(Documents, UsersDocumentReflectsPolicyAndRegistration) {
  Json open = Render(UsersDocument("http://h", true, 8), Format::kCoreApi, "http://h");
  EXPECT_EQ(open["register_user"]["fields"][1]["schema"]["minLength"], 8);
  EXPECT_EQ(open["patch"]["url"], "http://h/users/{user_id}");
  EXPECT_EQ(open["patch"]["fields"], Json::array());
  Json closed = Render(UsersDocument("http://h", false, 8), Format::kJson, "http://h");
  EXPECT_EQ(closed.dump(), R"({"users":[],"patch":"http://h/users/{user_id}"})");
}

TEST(Documents, RecoveryDocuments) {
  Json anon = Render(RecoveriesAnonymousDocument("http://h"), Format::kCoreApi, "http://h");
  EXPECT_FALSE(anon["reset_password"].contains("title"));
  EXPECT_EQ(anon["reset_password"]["fields"][0].dump(),
            R"({"name":"username","schema":{"type":"string"}})");
  Json recover =
      Render(RecoveriesRecoverDocument("http://h", "alice", 5), Format::kJson, "http://h");
  EXPECT_EQ(recover.dump(), R"({"recover":"http://h/users/alice/"})");
}

TEST(Documents, JsonHomeListsTheResources) {
  Json home = JsonHome("http://h");
  EXPECT_EQ(home["resources"]["jwt"]["href"], "http://h/jwt/");
  EXPECT_EQ(home["resources"]["users"]["hints"]["allow"].dump(), R"(["GET","POST","PATCH"])");
  EXPECT_EQ(home["resources"]["password_recoveries"]["href"], "http://h/password_recoveries/");
  EXPECT_EQ(home["api"]["title"], "Identification Provider");
}

TEST(IsValidEmail, MatchesTheContractPattern) {
  for (const char* ok : {"a@b.c", "root@example.com", "a@b.c.", "x y@z.w", "@@a.b"}) {
    EXPECT_TRUE(IsValidEmail(ok)) << ok;
  }
  for (const char* bad : {"", "a@b", "@b.c", "a@.c", "a@b.", "ab.c", "a\n@b.c", "a@b\n.c"}) {
    EXPECT_FALSE(IsValidEmail(bad)) << bad;
  }
}

TEST(CheckJsonDepth, RefusesDeepNestingOnly) {
  EXPECT_TRUE(CheckJsonDepth(R"({"a": [[["]]]]]]]"]]]})", 4));
  EXPECT_FALSE(CheckJsonDepth(std::string(100, '['), 64));
  EXPECT_TRUE(CheckJsonDepth(std::string(64, '['), 64));
}

}  // namespace
}  // namespace kisee::idp
