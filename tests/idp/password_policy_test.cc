#include "idp/password_policy.h"

#include <gtest/gtest.h>

namespace kisee::idp {
namespace {

PasswordSettings Strict() {
  PasswordSettings s;
  s.present = true;
  return s;  // min 8, max 128, reject_common
}

struct PolicyCase {
  const char* password;
  bool accepted;
  const char* reason;  // substring of the message when refused
};

class StrictPolicyTest : public testing::TestWithParam<PolicyCase> {};

TEST_P(StrictPolicyTest, AppliesLengthAndCommonList) {
  PasswordPolicy policy(Strict());
  auto status = policy.Check(GetParam().password);
  EXPECT_EQ(status.has_value(), GetParam().accepted) << GetParam().password;
  if (!status) {
    EXPECT_EQ(status.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(status.error().message().find(GetParam().reason), std::string::npos)
        << status.error().message();
    if (*GetParam().password != '\0') {
      EXPECT_EQ(status.error().message().find(GetParam().password), std::string::npos)
          << "the message must not echo the password";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, StrictPolicyTest,
    testing::Values(
        PolicyCase{"", false, "too short"}, PolicyCase{"abc", false, "too short"},
        PolicyCase{"7chars!", false, "too short"}, PolicyCase{"horse-battery", true, ""},
        PolicyCase{"password", false, "too common"}, PolicyCase{"PassWord123", false, "too common"},
        PolicyCase{"qwertyuiop", false, "too common"}, PolicyCase{"12345678", false, "too common"},
        // 8 code points, 16 bytes: lengths count characters.
        PolicyCase{"éééééééé", true, ""},
        PolicyCase{"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", false, "UTF-8"}));

TEST(PasswordPolicy, MaximumLengthAllowsAtLeast64AndRefusesMore) {
  PasswordPolicy policy(Strict());
  EXPECT_TRUE(policy.Check(std::string(64, 'x') + "y").has_value());
  EXPECT_TRUE(policy.Check(std::string(128, 'z')).has_value());
  auto too_long = policy.Check(std::string(129, 'z'));
  ASSERT_FALSE(too_long.has_value());
  EXPECT_NE(too_long.error().message().find("too long"), std::string::npos);
}

TEST(PasswordPolicy, LegacyFilesArePermissive) {
  PasswordSettings legacy;
  legacy.present = false;
  legacy.min_length = 1;
  legacy.max_length = 1024;
  legacy.reject_common = false;
  PasswordPolicy policy(legacy);
  EXPECT_TRUE(policy.Check("password").has_value());
  EXPECT_TRUE(policy.Check("x").has_value());
  EXPECT_FALSE(policy.Check("").has_value());
  EXPECT_EQ(policy.min_length(), 1);
}

TEST(CommonPasswords, ListIsShippedAndMatchesCaseInsensitively) {
  EXPECT_GT(CommonPasswordsText().size(), 1000u);
  EXPECT_TRUE(IsCommonPassword("123456"));
  EXPECT_TRUE(IsCommonPassword("LetMeIn"));
  EXPECT_FALSE(IsCommonPassword("correct horse battery staple"));
  EXPECT_FALSE(
      IsCommonPassword("# Passwords seen most often in public breach statistics, one a line,"));
}

TEST(CountCodePoints, CountsUtf8AndRejectsInvalid) {
  EXPECT_EQ(CountCodePoints(""), 0);
  EXPECT_EQ(CountCodePoints("abc"), 3);
  EXPECT_EQ(CountCodePoints("é€😀"), 3);
  EXPECT_EQ(CountCodePoints("\xc3"), -1);
  EXPECT_EQ(CountCodePoints("\x80"), -1);
}

}  // namespace
}  // namespace kisee::idp
