#include "kisee/crypto/digest.h"

#include <gtest/gtest.h>

#include <string>

#include "crypto/test_util.h"

namespace kisee::crypto {
namespace {

using testing::Hex;

std::string HexOf(const Sha256Digest& digest) { return HexEncode(digest); }

TEST(Sha256, KnownVectors) {
  // FIPS 180-2 examples.
  EXPECT_EQ(HexOf(Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexOf(Sha256({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

struct HmacCase {
  const char* name;
  Bytes key;
  std::string data;
  const char* mac_hex;
};

class HmacSha256Vectors : public ::testing::TestWithParam<HmacCase> {};

TEST_P(HmacSha256Vectors, MatchRfc4231) {
  const HmacCase& c = GetParam();
  EXPECT_EQ(HexOf(HmacSha256(c.key, AsBytes(c.data))), c.mac_hex);
  EXPECT_TRUE(VerifyHmacSha256(c.key, AsBytes(c.data), Hex(c.mac_hex)));
}

INSTANTIATE_TEST_SUITE_P(
    Rfc4231, HmacSha256Vectors,
    ::testing::Values(HmacCase{"case1", Bytes(20, 0x0b), "Hi There",
                               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
                      HmacCase{"case2", ToBytes("Jefe"), "what do ya want for nothing?",
                               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
                      // A key longer than the block is hashed first.
                      HmacCase{"case6", Bytes(131, 0xaa),
                               "Test Using Larger Than Block-Size Key - Hash Key First",
                               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(HmacSha256, VerifyRefusesOtherMacs) {
  const Bytes key = ToBytes("key");
  const Sha256Digest mac = HmacSha256(key, AsBytes("message"));
  EXPECT_TRUE(VerifyHmacSha256(key, AsBytes("message"), mac));
  EXPECT_FALSE(VerifyHmacSha256(key, AsBytes("messagf"), mac));
  EXPECT_FALSE(VerifyHmacSha256(ToBytes("kez"), AsBytes("message"), mac));
  EXPECT_FALSE(VerifyHmacSha256(key, AsBytes("message"), ByteView(mac).first(16)));
  EXPECT_FALSE(VerifyHmacSha256(key, AsBytes("message"), {}));
}

}  // namespace
}  // namespace kisee::crypto
