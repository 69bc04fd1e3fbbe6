#include "kisee/jwt/jwk.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kisee/core/bytes.h"
#include "kisee/core/clock.h"
#include "kisee/crypto/keys.h"
#include "kisee/jwt/jwt.h"

namespace kisee::jwt {
namespace {

using crypto::KeyType;
using crypto::PrivateKey;
using Json = nlohmann::ordered_json;

// RFC 7515 Appendix A.3.1 public key.
constexpr std::string_view kRfcX = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
constexpr std::string_view kRfcY = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

VerificationKey RfcP256Key() {
  auto pub = crypto::PublicKey::FromAffine(KeyType::kSecp256r1, *Base64UrlDecode(kRfcX),
                                           *Base64UrlDecode(kRfcY));
  EXPECT_TRUE(pub.has_value());
  auto key = VerificationKey::Create("rfc", *pub, JwsAlgorithm::kEs256);
  EXPECT_TRUE(key.has_value());
  return *key;
}

VerificationKey Generated(KeyType type, std::string kid,
                          Secp256k1Label label = Secp256k1Label::kEs256) {
  auto key = PrivateKey::Generate(type);
  EXPECT_TRUE(key.has_value());
  auto vk = VerificationKey::ForKey(std::move(kid), key->public_key(), label);
  EXPECT_TRUE(vk.has_value());
  return *vk;
}

ErrorCode ParseCode(const Json& jwk) {
  auto result = ParseJwk(jwk);
  EXPECT_FALSE(result.has_value()) << jwk.dump();
  return result.has_value() ? ErrorCode::kInternal : result.error().code();
}

TEST(Jwk, P256MembersInOrder) {
  EXPECT_EQ(ToJwk(RfcP256Key()).dump(), std::string(R"({"kty":"EC","crv":"P-256","x":")") +
                                            std::string(kRfcX) + R"(","y":")" + std::string(kRfcY) +
                                            R"(","kid":"rfc","alg":"ES256","use":"sig"})");
}

TEST(Jwk, Ed25519IsAnOkpKeyWithoutY) {
  auto pub = crypto::PublicKey::FromRaw(
      KeyType::kEd25519, *Base64UrlDecode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"));
  ASSERT_TRUE(pub.has_value());
  auto key = VerificationKey::ForKey("ed", *pub);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(
      ToJwk(*key).dump(),
      R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"ed","alg":"EdDSA","use":"sig"})");
}

TEST(Jwk, Secp256k1UsesTheRfc8812CurveNameAndThePinnedLabel) {
  const Json compat = ToJwk(Generated(KeyType::kSecp256k1, "k1"));
  EXPECT_EQ(compat["kty"], "EC");
  EXPECT_EQ(compat["crv"], "secp256k1");
  EXPECT_EQ(compat["alg"], "ES256");
  EXPECT_EQ(Base64UrlDecode(compat["x"].get<std::string>())->size(), 32u);
  EXPECT_EQ(Base64UrlDecode(compat["y"].get<std::string>())->size(), 32u);
  const Json standard = ToJwk(Generated(KeyType::kSecp256k1, "k1", Secp256k1Label::kEs256K));
  EXPECT_EQ(standard["alg"], "ES256K");
}

TEST(Jwk, CoordinatesKeepLeadingZeros) {
  // About one key in 128 has a coordinate below 2^248; generate until one
  // does, so that the full-width rule (RFC 7518 §6.2.1.2) is exercised.
  for (int attempt = 0; attempt < 5000; ++attempt) {
    const VerificationKey key = Generated(KeyType::kSecp256r1, "k");
    const crypto::AffinePoint point = key.public_key().ToAffine();
    if (point.x[0] != 0 && point.y[0] != 0) {
      continue;
    }
    const Json jwk = ToJwk(key);
    EXPECT_EQ(Base64UrlDecode(jwk["x"].get<std::string>())->size(), 32u);
    EXPECT_EQ(Base64UrlDecode(jwk["y"].get<std::string>())->size(), 32u);
    auto back = ParseJwk(jwk);
    ASSERT_TRUE(back.has_value()) << back.error().message();
    EXPECT_TRUE(back->public_key() == key.public_key());
    return;
  }
  FAIL() << "no key with a leading zero byte in 5000 tries";
}

TEST(Jwks, RoundTripsEverySupportedKey) {
  const std::vector<VerificationKey> keys = {
      Generated(KeyType::kSecp256r1, "p256"),
      Generated(KeyType::kSecp256k1, "k1-compat"),
      Generated(KeyType::kSecp256k1, "k1", Secp256k1Label::kEs256K),
      Generated(KeyType::kEd25519, "ed25519"),
      Generated(KeyType::kEd448, "ed448"),
  };
  const std::string document = ToJwksJson(keys);
  EXPECT_TRUE(document.starts_with(R"({"keys":[{"kty":"EC","crv":"P-256",)"));
  auto parsed = ParseJwks(document);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  ASSERT_EQ(parsed->size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ((*parsed)[i].kid(), keys[i].kid());
    EXPECT_EQ((*parsed)[i].algorithm(), keys[i].algorithm());
    EXPECT_TRUE((*parsed)[i].public_key() == keys[i].public_key());
  }
}

TEST(Jwks, KeysReadFromJwksVerifyTokens) {
  auto private_key = PrivateKey::Generate(KeyType::kSecp256k1);
  ASSERT_TRUE(private_key.has_value());
  auto signer = JwtSigner::Create(*private_key, "kisee-1");
  ASSERT_TRUE(signer.has_value());
  Json claims = Json::object();
  claims["sub"] = "alice";
  claims["exp"] = 2'000'000'000;
  auto token = signer->SignAndEncode(claims);
  ASSERT_TRUE(token.has_value());

  const VerificationKey published[] = {signer->verification_key()};
  auto keys = ParseJwks(ToJwksJson(published));
  ASSERT_TRUE(keys.has_value()) << keys.error().message();
  auto verifier = JwtVerifier::Create(*keys);
  FakeClock clock(TimePoint(std::chrono::seconds(1'900'000'000)));
  auto validator = JwtValidatorBuilder().SetClock(clock).Build();
  ASSERT_TRUE(verifier.has_value() && validator.has_value());
  auto verified = verifier->VerifyAndDecode(*token, *validator);
  ASSERT_TRUE(verified.has_value()) << verified.error().message();
  EXPECT_EQ(verified->Subject(), "alice");
}

TEST(Jwk, Secp256k1WithoutAlgIsEs256K) {
  Json jwk = ToJwk(Generated(KeyType::kSecp256k1, "k1"));
  jwk.erase("alg");
  auto key = ParseJwk(jwk);
  ASSERT_TRUE(key.has_value()) << key.error().message();
  EXPECT_EQ(key->algorithm(), JwsAlgorithm::kEs256K);
  jwk = ToJwk(RfcP256Key());
  jwk.erase("alg");
  key = ParseJwk(jwk);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->algorithm(), JwsAlgorithm::kEs256);
}

TEST(Jwk, RefusesPrivateKeys) {
  Json jwk = ToJwk(RfcP256Key());
  jwk["d"] = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
  EXPECT_EQ(ParseCode(jwk), ErrorCode::kInvalidArgument);
  Json set = Json::object();
  set["keys"] = Json::array({jwk});
  EXPECT_FALSE(ParseJwks(set.dump()).has_value());
}

TEST(Jwk, RefusesMissingOrMalformedMembers) {
  const Json good = ToJwk(RfcP256Key());
  for (const char* member : {"kty", "kid", "x", "y"}) {
    Json jwk = good;
    jwk.erase(member);
    EXPECT_EQ(ParseCode(jwk), ErrorCode::kInvalidArgument) << member;
  }
  Json bad_x = good;
  bad_x["x"] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU=";  // padded
  EXPECT_EQ(ParseCode(bad_x), ErrorCode::kInvalidArgument);
  Json short_x = good;
  short_x["x"] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVE";
  EXPECT_EQ(ParseCode(short_x), ErrorCode::kInvalidArgument);
  Json off_curve = good;
  off_curve["y"] = std::string(kRfcX);
  EXPECT_EQ(ParseCode(off_curve), ErrorCode::kInvalidArgument);
  Json numeric_kid = good;
  numeric_kid["kid"] = 7;
  EXPECT_EQ(ParseCode(numeric_kid), ErrorCode::kInvalidArgument);
  Json wrong_alg = good;
  wrong_alg["alg"] = "EdDSA";
  EXPECT_EQ(ParseCode(wrong_alg), ErrorCode::kInvalidArgument);
  Json okp_with_y = ToJwk(Generated(KeyType::kEd25519, "ed"));
  okp_with_y["y"] = std::string(kRfcY);
  EXPECT_EQ(ParseCode(okp_with_y), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseCode(Json::array()), ErrorCode::kInvalidArgument);
}

TEST(Jwks, SkipsKeysThisLibraryDoesNotVerifyWith) {
  Json set = Json::object();
  set["keys"] = Json::array();
  set["keys"].push_back(Json::parse(R"({"kty":"RSA","n":"AQAB","e":"AQAB","kid":"rsa"})"));
  set["keys"].push_back(
      Json::parse(R"({"kty":"EC","crv":"P-384","x":"AA","y":"AA","kid":"p384"})"));
  Json encryption = ToJwk(RfcP256Key());
  encryption["use"] = "enc";
  encryption["kid"] = "enc";
  set["keys"].push_back(encryption);
  set["keys"].push_back(ToJwk(RfcP256Key()));
  auto keys = ParseJwks(set.dump());
  ASSERT_TRUE(keys.has_value()) << keys.error().message();
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ(keys->front().kid(), "rfc");
}

TEST(Jwks, RefusesDocumentsThatAreNotAKeySet) {
  for (std::string_view document :
       {"", "[]", "{}", R"({"keys":{}})", R"({"keys":[1]})", "{\"keys\":[]", "not json"}) {
    auto keys = ParseJwks(document);
    ASSERT_FALSE(keys.has_value()) << document;
    EXPECT_EQ(keys.error().code(), ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace kisee::jwt
