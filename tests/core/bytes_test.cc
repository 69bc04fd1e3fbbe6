#include "kisee/core/bytes.h"

#include <gtest/gtest.h>

namespace kisee {
namespace {

struct Base64Case {
  std::string_view plain;
  std::string_view url_unpadded;
  std::string_view standard_padded;
};

// RFC 4648 §10 vectors plus bytes that differ between the alphabets.
const Base64Case kCases[] = {
    {"", "", ""},
    {"f", "Zg", "Zg=="},
    {"fo", "Zm8", "Zm8="},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg", "Zm9vYg=="},
    {"fooba", "Zm9vYmE", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
    {"\xfb\xff\xbf", "-_-_", "+/+/"},
};

TEST(Base64, EncodesRfc4648Vectors) {
  for (const auto& c : kCases) {
    EXPECT_EQ(Base64UrlEncode(AsBytes(c.plain)), c.url_unpadded);
    EXPECT_EQ(Base64Encode(AsBytes(c.plain), {Base64Alphabet::kStandard, Base64Padding::kRequired}),
              c.standard_padded);
  }
}

TEST(Base64, DecodesRfc4648Vectors) {
  for (const auto& c : kCases) {
    auto url = Base64UrlDecode(c.url_unpadded);
    ASSERT_TRUE(url.has_value()) << c.url_unpadded;
    EXPECT_EQ(ToString(*url), c.plain);
    auto std =
        Base64Decode(c.standard_padded, {Base64Alphabet::kStandard, Base64Padding::kRequired});
    ASSERT_TRUE(std.has_value()) << c.standard_padded;
    EXPECT_EQ(ToString(*std), c.plain);
  }
}

TEST(Base64, RejectsMalformedInput) {
  const Base64Options url{Base64Alphabet::kUrl, Base64Padding::kForbidden};
  const Base64Options padded{Base64Alphabet::kUrl, Base64Padding::kRequired};
  EXPECT_FALSE(Base64Decode("Zg==", url).has_value());       // padding forbidden
  EXPECT_FALSE(Base64Decode("Zg", padded).has_value());      // padding required
  EXPECT_FALSE(Base64Decode("Zm9v YmFy", url).has_value());  // whitespace
  EXPECT_FALSE(Base64Decode("Zm9v\n", url).has_value());
  EXPECT_FALSE(Base64Decode("Z", url).has_value());     // impossible length
  EXPECT_FALSE(Base64Decode("+/+/", url).has_value());  // other alphabet
  EXPECT_FALSE(Base64Decode("Zh", url).has_value());    // non-zero trailing bits
  EXPECT_FALSE(Base64Decode("Z===", padded).has_value());
  EXPECT_FALSE(Base64Decode("Zg=a", padded).has_value());
}

TEST(Base64, OptionalPaddingAndBothAlphabets) {
  const Base64Options lenient{Base64Alphabet::kUrl, Base64Padding::kOptional, true};
  EXPECT_EQ(ToString(*Base64Decode("Zg==", lenient)), "f");
  EXPECT_EQ(ToString(*Base64Decode("Zg", lenient)), "f");
  EXPECT_EQ(ToString(*Base64Decode("+/+/", lenient)), "\xfb\xff\xbf");
  EXPECT_EQ(ToString(*Base64Decode("-_-_", lenient)), "\xfb\xff\xbf");
  EXPECT_FALSE(Base64Decode("Zg=", lenient).has_value());
}

TEST(Hex, RoundTripsAndRejectsBadDigits) {
  const Bytes data = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(HexEncode(data), "0001abff");
  EXPECT_EQ(*HexDecode("0001ABff"), data);
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_FALSE(HexDecode("zz").has_value());
}

}  // namespace
}  // namespace kisee
