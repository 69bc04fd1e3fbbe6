#include "kisee/jwt/jwt.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kisee/core/bytes.h"
#include "kisee/core/clock.h"
#include "kisee/crypto/digest.h"
#include "kisee/crypto/keys.h"

namespace kisee::jwt {
namespace {

using crypto::KeyType;
using crypto::PrivateKey;
using Json = nlohmann::ordered_json;

constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::string_view kKid = "key-1";
constexpr std::string_view kIssuer = "example.com";

TimePoint At(std::int64_t seconds) { return TimePoint(std::chrono::seconds(seconds)); }

PrivateKey Generate(KeyType type) {
  auto key = PrivateKey::Generate(type);
  EXPECT_TRUE(key.has_value());
  return *key;
}

Json LoginClaims(std::int64_t now = kNow) {
  Json claims = Json::object();
  claims["iss"] = kIssuer;
  claims["sub"] = "alice";
  claims["exp"] = now + 3600;
  claims["jti"] = "2b4c6d8f2b4c6d8f2b4c6d";
  claims["iat"] = now;
  return claims;
}

std::string Part(std::string_view token, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) {
    start = token.find('.', start) + 1;
  }
  return std::string(token.substr(start, token.find('.', start) - start));
}

std::string DecodedPart(std::string_view token, int index) {
  auto bytes = Base64UrlDecode(Part(token, index));
  EXPECT_TRUE(bytes.has_value());
  return ToString(bytes.value_or(Bytes{}));
}

// Forge signs arbitrary header and payload segments (already base64url) with
// `key`, the way an attacker holding some key, or a buggy issuer, would.
std::string ForgeSegments(const PrivateKey& key, std::string_view header_b64,
                          std::string_view payload_b64) {
  std::string input = std::string(header_b64) + "." + std::string(payload_b64);
  auto sig = key.Sign(AsBytes(input));
  EXPECT_TRUE(sig.has_value());
  return input + "." + Base64UrlEncode(sig.value_or(Bytes{}));
}

std::string Forge(const PrivateKey& key, std::string_view header_json,
                  std::string_view payload_json) {
  return ForgeSegments(key, Base64UrlEncode(AsBytes(header_json)),
                       Base64UrlEncode(AsBytes(payload_json)));
}

std::string Es256Header(std::string_view kid = kKid) {
  return R"({"typ":"JWT","alg":"ES256","kid":")" + std::string(kid) + R"("})";
}

class JwtTest : public ::testing::Test {
 protected:
  JwtTest() : clock_(At(kNow)), key_(Generate(KeyType::kSecp256r1)) {}

  JwtSigner Signer(const PrivateKey& key, std::string_view kid = kKid,
                   Secp256k1Label label = Secp256k1Label::kEs256) {
    auto signer = JwtSigner::Create(key, std::string(kid), label);
    EXPECT_TRUE(signer.has_value()) << signer.error().message();
    return *signer;
  }

  JwtVerifier VerifierFor(std::vector<VerificationKey> keys) {
    auto verifier = JwtVerifier::Create(std::move(keys));
    EXPECT_TRUE(verifier.has_value()) << verifier.error().message();
    return *verifier;
  }

  JwtVerifier Verifier() { return VerifierFor({Signer(key_).verification_key()}); }

  JwtValidator Validator(JwtValidatorBuilder builder = JwtValidatorBuilder()) {
    builder.SetClock(clock_);
    auto validator = builder.Build();
    EXPECT_TRUE(validator.has_value()) << validator.error().message();
    return *validator;
  }

  std::string Sign(const Json& claims) {
    auto token = Signer(key_).SignAndEncode(claims);
    EXPECT_TRUE(token.has_value()) << token.error().message();
    return token.value_or("");
  }

  // Code returns the error code of verifying `token` with the default
  // verifier and validator (kInternal if it unexpectedly verified).
  ErrorCode Code(std::string_view token) {
    auto result = Verifier().VerifyAndDecode(token, Validator());
    EXPECT_FALSE(result.has_value()) << "token verified: " << token;
    return result.has_value() ? ErrorCode::kInternal : result.error().code();
  }

  FakeClock clock_;
  PrivateKey key_;
};

// --- Signing -----------------------------------------------------------------------

TEST_F(JwtTest, HeaderIsExactlyTypAlgKid) {
  const std::string token = Sign(LoginClaims());
  EXPECT_EQ(DecodedPart(token, 0), R"({"typ":"JWT","alg":"ES256","kid":"key-1"})");
}

TEST_F(JwtTest, ClaimsKeepTheirOrder) {
  const std::string token = Sign(LoginClaims());
  EXPECT_EQ(
      DecodedPart(token, 1),
      R"({"iss":"example.com","sub":"alice","exp":1700003600,"jti":"2b4c6d8f2b4c6d8f2b4c6d","iat":1700000000})");
}

TEST_F(JwtTest, SignatureIsRawRsBase64UrlWithoutPadding) {
  const std::string token = Sign(LoginClaims());
  EXPECT_EQ(token.find('='), std::string::npos);
  EXPECT_EQ(DecodedPart(token, 2).size(), 64u);
  const std::string input = Part(token, 0) + "." + Part(token, 1);
  auto sig = Base64UrlDecode(Part(token, 2));
  ASSERT_TRUE(sig.has_value());
  EXPECT_TRUE(key_.public_key().Verify(AsBytes(input), *sig).has_value());
}

struct AlgCase {
  const char* name;
  KeyType type;
  Secp256k1Label label;
  const char* alg;  // nullptr: the key cannot sign JWTs
};

class SignerAlgorithm : public ::testing::TestWithParam<AlgCase> {};

TEST_P(SignerAlgorithm, ComesFromTheKey) {
  const AlgCase& c = GetParam();
  auto signer = JwtSigner::Create(Generate(c.type), "k", c.label);
  if (c.alg == nullptr) {
    ASSERT_FALSE(signer.has_value());
    EXPECT_EQ(signer.error().code(), ErrorCode::kInvalidArgument);
    return;
  }
  ASSERT_TRUE(signer.has_value()) << signer.error().message();
  EXPECT_EQ(JwsAlgorithmName(signer->algorithm()), c.alg);
  auto token = signer->SignAndEncode(LoginClaims());
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(DecodedPart(*token, 0),
            std::string(R"({"typ":"JWT","alg":")") + c.alg + R"(","kid":"k"})");
  // And the token verifies with the signer's own verification key.
  FakeClock clock(At(kNow));
  auto verifier = JwtVerifier::Create({signer->verification_key()});
  auto validator = JwtValidatorBuilder().SetClock(clock).Build();
  ASSERT_TRUE(verifier.has_value() && validator.has_value());
  auto verified = verifier->VerifyAndDecode(*token, *validator);
  ASSERT_TRUE(verified.has_value()) << verified.error().message();
  EXPECT_EQ(verified->claims(), LoginClaims());
}

INSTANTIATE_TEST_SUITE_P(
    KeyTypes, SignerAlgorithm,
    ::testing::Values(
        AlgCase{"p256", KeyType::kSecp256r1, Secp256k1Label::kEs256, "ES256"},
        AlgCase{"secp256k1_default", KeyType::kSecp256k1, Secp256k1Label::kEs256, "ES256"},
        AlgCase{"secp256k1_es256k", KeyType::kSecp256k1, Secp256k1Label::kEs256K, "ES256K"},
        AlgCase{"ed25519", KeyType::kEd25519, Secp256k1Label::kEs256, "EdDSA"},
        AlgCase{"ed448", KeyType::kEd448, Secp256k1Label::kEs256, "EdDSA"},
        AlgCase{"p384", KeyType::kSecp384r1, Secp256k1Label::kEs256, nullptr},
        AlgCase{"p521", KeyType::kSecp521r1, Secp256k1Label::kEs256, nullptr}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(JwtTest, SignerRefusesBadKids) {
  EXPECT_FALSE(JwtSigner::Create(key_, "").has_value());
  EXPECT_FALSE(JwtSigner::Create(key_, std::string(kMaxKidSize + 1, 'k')).has_value());
  EXPECT_FALSE(JwtSigner::Create(key_, "\xff\xfe").has_value());
}

TEST_F(JwtTest, SignerRefusesClaimsThatAreNotAnObjectOrNotUtf8) {
  const JwtSigner signer = Signer(key_);
  for (const Json& claims : {Json::array({1, 2}), Json("text"), Json(42), Json()}) {
    auto token = signer.SignAndEncode(claims);
    ASSERT_FALSE(token.has_value()) << claims.dump();
    EXPECT_EQ(token.error().code(), ErrorCode::kInvalidArgument);
  }
  Json bad_utf8 = Json::object();
  bad_utf8["sub"] = "\xc3\x28";
  auto token = signer.SignAndEncode(bad_utf8);
  ASSERT_FALSE(token.has_value());
  EXPECT_EQ(token.error().code(), ErrorCode::kInvalidArgument);
}

// --- Verifying: the happy path ---------------------------------------------------------

TEST_F(JwtTest, VerifiesAndExposesClaims) {
  auto verified = Verifier().VerifyAndDecode(Sign(LoginClaims()), Validator());
  ASSERT_TRUE(verified.has_value()) << verified.error().message();
  EXPECT_EQ(verified->kid(), kKid);
  EXPECT_EQ(verified->algorithm(), JwsAlgorithm::kEs256);
  EXPECT_EQ(verified->Issuer(), "example.com");
  EXPECT_EQ(verified->Subject(), "alice");
  EXPECT_EQ(verified->JwtId(), "2b4c6d8f2b4c6d8f2b4c6d");
  EXPECT_EQ(verified->ExpiresAt(), kNow + 3600);
  EXPECT_EQ(verified->IssuedAt(), kNow);
  EXPECT_EQ(verified->NotBefore(), std::nullopt);
  EXPECT_EQ(verified->StringClaim("exp"), std::nullopt);  // a number, not a string
  EXPECT_EQ(verified->claims().begin().key(), "iss");     // order kept
}

TEST_F(JwtTest, PicksTheKeyByKid) {
  const PrivateKey other = Generate(KeyType::kEd25519);
  JwtVerifier verifier =
      VerifierFor({Signer(key_).verification_key(), Signer(other, "key-2").verification_key()});
  auto first = verifier.VerifyAndDecode(Sign(LoginClaims()), Validator());
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_EQ(first->kid(), "key-1");
  auto token = Signer(other, "key-2").SignAndEncode(LoginClaims());
  ASSERT_TRUE(token.has_value());
  auto second = verifier.VerifyAndDecode(*token, Validator());
  ASSERT_TRUE(second.has_value()) << second.error().message();
  EXPECT_EQ(second->kid(), "key-2");
  EXPECT_EQ(second->algorithm(), JwsAlgorithm::kEdDsa);
}

TEST_F(JwtTest, FractionalNumericDatesAreAccepted) {
  Json claims = LoginClaims();
  claims["exp"] = kNow + 0.5;
  auto verified = Verifier().VerifyAndDecode(Sign(claims), Validator());
  ASSERT_TRUE(verified.has_value()) << verified.error().message();
  EXPECT_EQ(verified->ExpiresAt(), kNow);
}

// --- RFC 8725 negatives ---------------------------------------------------------------

TEST_F(JwtTest, RejectsAlgNone) {
  const std::string payload = Base64UrlEncode(AsBytes(LoginClaims().dump()));
  for (std::string_view alg : {"none", "None", "NONE", "nOnE"}) {
    const std::string header = Base64UrlEncode(
        AsBytes(R"({"typ":"JWT","alg":")" + std::string(alg) + R"(","kid":"key-1"})"));
    EXPECT_EQ(Code(header + "." + payload + "."), ErrorCode::kUnauthenticated) << alg;
  }
}

TEST_F(JwtTest, RejectsHs256KeyedWithThePublicKeyPem) {
  // RFC 8725 §2.1: a verifier that let the header pick HMAC would use the
  // public key (known to everybody) as the secret.
  const std::string header =
      Base64UrlEncode(AsBytes(R"({"typ":"JWT","alg":"HS256","kid":"key-1"})"));
  const std::string payload = Base64UrlEncode(AsBytes(LoginClaims().dump()));
  const std::string input = header + "." + payload;
  for (const Bytes& secret : {ToBytes(key_.public_key().ToPem()), key_.public_key().spki_der()}) {
    const crypto::Sha256Digest mac = crypto::HmacSha256(secret, AsBytes(input));
    EXPECT_EQ(Code(input + "." + Base64UrlEncode(mac)), ErrorCode::kUnauthenticated);
  }
}

TEST_F(JwtTest, RejectsOtherHmacAlgorithms) {
  for (std::string_view alg : {"HS384", "HS512", "hs256"}) {
    const std::string token =
        Forge(key_, R"({"typ":"JWT","alg":")" + std::string(alg) + R"(","kid":"key-1"})",
              LoginClaims().dump());
    EXPECT_EQ(Code(token), ErrorCode::kUnauthenticated) << alg;
  }
}

TEST_F(JwtTest, RejectsAnAlgOtherThanTheKeysPinnedAlg) {
  // A genuine signature by the right key, but labelled with another alg.
  for (std::string_view alg : {"ES256K", "EdDSA", "ES384", "RS256", "PS256"}) {
    const std::string token =
        Forge(key_, R"({"typ":"JWT","alg":")" + std::string(alg) + R"(","kid":"key-1"})",
              LoginClaims().dump());
    EXPECT_EQ(Code(token), ErrorCode::kUnauthenticated) << alg;
  }
}

TEST_F(JwtTest, RejectsEs256KWhenTheSecp256k1KeyIsPinnedToEs256) {
  const PrivateKey k1 = Generate(KeyType::kSecp256k1);
  JwtVerifier verifier = VerifierFor({Signer(k1).verification_key()});  // ES256 (compat)
  const std::string token =
      Forge(k1, R"({"typ":"JWT","alg":"ES256K","kid":"key-1"})", LoginClaims().dump());
  auto result = verifier.VerifyAndDecode(token, Validator());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kUnauthenticated);
}

TEST_F(JwtTest, RejectsUnknownKid) {
  const std::string token = Forge(key_, Es256Header("key-9"), LoginClaims().dump());
  EXPECT_EQ(Code(token), ErrorCode::kUnauthenticated);
}

TEST_F(JwtTest, RejectsMissingKidWhenSeveralKeysCouldMatch) {
  JwtVerifier verifier =
      VerifierFor({Signer(key_).verification_key(),
                   Signer(Generate(KeyType::kSecp256r1), "key-2").verification_key()});
  const std::string token = Forge(key_, R"({"typ":"JWT","alg":"ES256"})", LoginClaims().dump());
  auto result = verifier.VerifyAndDecode(token, Validator());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kUnauthenticated);
  // With a single key, the kid is not needed.
  EXPECT_TRUE(Verifier().VerifyAndDecode(token, Validator()).has_value());
}

TEST_F(JwtTest, RejectsATokenSignedByAnotherKey) {
  const PrivateKey attacker = Generate(KeyType::kSecp256r1);
  auto token = Signer(attacker).SignAndEncode(LoginClaims());  // same kid, other key
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(Code(*token), ErrorCode::kUnauthenticated);
}

TEST_F(JwtTest, RejectsATokenSignedOnAnotherCurve) {
  // secp256k1 and P-256 are both labelled ES256 (compatibility), same kid.
  const PrivateKey k1 = Generate(KeyType::kSecp256k1);
  auto token = Signer(k1).SignAndEncode(LoginClaims());
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(DecodedPart(*token, 0), Es256Header());
  EXPECT_EQ(Code(*token), ErrorCode::kUnauthenticated);
}

TEST_F(JwtTest, RejectsATamperedHeader) {
  const std::string token = Sign(LoginClaims());
  const std::string header =
      Base64UrlEncode(AsBytes(R"({"typ":"JWT","alg":"ES256","kid":"key-1","x":1})"));
  EXPECT_EQ(Code(header + token.substr(token.find('.'))), ErrorCode::kUnauthenticated);
}

TEST_F(JwtTest, RejectsATamperedPayload) {
  const std::string token = Sign(LoginClaims());
  Json claims = LoginClaims();
  claims["sub"] = "admin";
  const std::string payload = Base64UrlEncode(AsBytes(claims.dump()));
  EXPECT_EQ(Code(Part(token, 0) + "." + payload + "." + Part(token, 2)),
            ErrorCode::kUnauthenticated);
}

TEST_F(JwtTest, RejectsATamperedSignature) {
  std::string token = Sign(LoginClaims());
  const std::size_t middle = token.rfind('.') + 20;
  token[middle] = token[middle] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Code(token), ErrorCode::kUnauthenticated);
}

TEST_F(JwtTest, RejectsASignatureOfTheWrongLength) {
  const std::string token = Sign(LoginClaims());
  const std::string input = token.substr(0, token.rfind('.') + 1);
  auto sig = Base64UrlDecode(Part(token, 2));
  ASSERT_TRUE(sig.has_value());
  Bytes shorter(sig->begin(), sig->end() - 1);
  Bytes longer = *sig;
  longer.push_back(0);
  for (const Bytes& candidate : {shorter, longer, Bytes{}}) {
    EXPECT_EQ(Code(input + Base64UrlEncode(candidate)), ErrorCode::kUnauthenticated)
        << candidate.size();
  }
}

TEST_F(JwtTest, RejectsMalformedBase64) {
  const std::string token = Sign(LoginClaims());
  const std::string payload = Part(token, 1);
  const std::string signature = Part(token, 2);
  // In the header (before any signature check).
  EXPECT_EQ(Code("eyJ!!!." + payload + "." + signature), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Code(Part(token, 0) + "=." + payload + "." + signature), ErrorCode::kInvalidArgument);
  // In the signature.
  EXPECT_EQ(Code(Part(token, 0) + "." + payload + ".+/+/"), ErrorCode::kInvalidArgument);
  // In a payload that was genuinely signed.
  const std::string signed_garbage =
      ForgeSegments(key_, Base64UrlEncode(AsBytes(Es256Header())), "e30=");
  EXPECT_EQ(Code(signed_garbage), ErrorCode::kInvalidArgument);
}

TEST_F(JwtTest, RejectsMalformedJson) {
  EXPECT_EQ(Code(Forge(key_, R"({"alg":"ES256",)", LoginClaims().dump())),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Code(Forge(key_, Es256Header(), R"({"sub":"alice")")), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Code(Forge(key_, Es256Header(), R"({"sub":"alice"} trailing)")),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Code(Forge(key_, Es256Header(), "{\"sub\":\"\xc3\x28\"}")),
            ErrorCode::kInvalidArgument);  // not UTF-8
}

TEST_F(JwtTest, RejectsANonObjectHeader) {
  for (std::string_view header : {R"(["ES256"])", R"("ES256")", "42", "null"}) {
    EXPECT_EQ(Code(Forge(key_, header, LoginClaims().dump())), ErrorCode::kInvalidArgument)
        << header;
  }
}

TEST_F(JwtTest, RejectsNonObjectClaims) {
  for (std::string_view claims : {R"(["alice"])", R"("alice")", "1700000000", "null"}) {
    EXPECT_EQ(Code(Forge(key_, Es256Header(), claims)), ErrorCode::kInvalidArgument) << claims;
  }
}

TEST_F(JwtTest, RejectsDuplicateMemberNames) {
  EXPECT_EQ(
      Code(Forge(key_, R"({"alg":"ES256","kid":"key-1","kid":"key-1"})", LoginClaims().dump())),
      ErrorCode::kInvalidArgument);
  EXPECT_EQ(Code(Forge(key_, Es256Header(), R"({"sub":"alice","exp":1700003600,"sub":"admin"})")),
            ErrorCode::kInvalidArgument);
}

TEST_F(JwtTest, RejectsNonNumericExp) {
  for (std::string_view exp : {R"("1700003600")", "true", "null", "[1700003600]", "{}"}) {
    const std::string claims = R"({"sub":"alice","exp":)" + std::string(exp) + "}";
    EXPECT_EQ(Code(Forge(key_, Es256Header(), claims)), ErrorCode::kInvalidArgument) << exp;
  }
}

TEST_F(JwtTest, RejectsNonNumericNbf) {
  const std::string claims = R"({"sub":"alice","exp":1700003600,"nbf":"1699990000"})";
  EXPECT_EQ(Code(Forge(key_, Es256Header(), claims)), ErrorCode::kInvalidArgument);
}

TEST_F(JwtTest, RejectsNonStringRegisteredClaims) {
  EXPECT_EQ(Code(Forge(key_, Es256Header(), R"({"iss":1,"exp":1700003600})")),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Code(Forge(key_, Es256Header(), R"({"sub":["alice"],"exp":1700003600})")),
            ErrorCode::kInvalidArgument);
}

TEST_F(JwtTest, RejectsAnExpiredToken) {
  const std::string token = Sign(LoginClaims(kNow - 3600));  // exp == now
  EXPECT_EQ(Code(token), ErrorCode::kDeadlineExceeded);
  clock_.Set(At(kNow - 1));
  EXPECT_TRUE(Verifier().VerifyAndDecode(token, Validator()).has_value());
}

TEST_F(JwtTest, LeewayAppliesToExp) {
  const std::string token = Sign(LoginClaims(kNow - 3600 - 30));  // expired 30 s ago
  JwtValidatorBuilder builder;
  builder.SetLeeway(std::chrono::seconds(60));
  EXPECT_TRUE(Verifier().VerifyAndDecode(token, Validator(builder)).has_value());
  builder.SetLeeway(std::chrono::seconds(10));
  auto result = Verifier().VerifyAndDecode(token, Validator(builder));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kDeadlineExceeded);
}

TEST_F(JwtTest, RejectsATokenNotYetValid) {
  Json claims = LoginClaims();
  claims["nbf"] = kNow + 100;
  const std::string token = Sign(claims);
  EXPECT_EQ(Code(token), ErrorCode::kFailedPrecondition);
  JwtValidatorBuilder builder;
  builder.SetLeeway(std::chrono::seconds(120));
  EXPECT_TRUE(Verifier().VerifyAndDecode(token, Validator(builder)).has_value());
  clock_.Advance(std::chrono::seconds(100));
  EXPECT_TRUE(Verifier().VerifyAndDecode(token, Validator()).has_value());
}

TEST_F(JwtTest, RequiresExpByDefault) {
  Json claims = LoginClaims();
  claims.erase("exp");
  const std::string token = Sign(claims);
  EXPECT_EQ(Code(token), ErrorCode::kPermissionDenied);
  JwtValidatorBuilder builder;
  builder.AllowMissingExpiration();
  EXPECT_TRUE(Verifier().VerifyAndDecode(token, Validator(builder)).has_value());
}

TEST_F(JwtTest, RejectsAnotherIssuer) {
  JwtValidatorBuilder builder;
  builder.ExpectIssuer("other.example");
  auto result = Verifier().VerifyAndDecode(Sign(LoginClaims()), Validator(builder));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kPermissionDenied);

  Json claims = LoginClaims();
  claims.erase("iss");
  builder = JwtValidatorBuilder();
  builder.ExpectIssuer(std::string(kIssuer));
  result = Verifier().VerifyAndDecode(Sign(claims), Validator(builder));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_TRUE(Verifier().VerifyAndDecode(Sign(LoginClaims()), Validator(builder)).has_value());
}

TEST_F(JwtTest, RejectsTheWrongNumberOfParts) {
  const std::string token = Sign(LoginClaims());
  for (const std::string& candidate :
       {std::string(), std::string("."), std::string(".."), Part(token, 0),
        Part(token, 0) + "." + Part(token, 1), token + ".", token + "." + Part(token, 2) + ".x"}) {
    EXPECT_EQ(Code(candidate), ErrorCode::kInvalidArgument) << candidate;
  }
}

TEST_F(JwtTest, RejectsOversizedTokens) {
  Json claims = LoginClaims();
  claims["padding"] = std::string(kMaxTokenSize, 'x');
  EXPECT_EQ(Code(Sign(claims)), ErrorCode::kInvalidArgument);
}

TEST_F(JwtTest, RejectsCritHeader) {
  const std::string token =
      Forge(key_, R"({"typ":"JWT","alg":"ES256","kid":"key-1","crit":["exp"],"exp":1})",
            LoginClaims().dump());
  EXPECT_EQ(Code(token), ErrorCode::kInvalidArgument);
}

TEST_F(JwtTest, RejectsNonStringKidAndAlg) {
  EXPECT_EQ(Code(Forge(key_, R"({"alg":"ES256","kid":1})", LoginClaims().dump())),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Code(Forge(key_, R"({"alg":["ES256"],"kid":"key-1"})", LoginClaims().dump())),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Code(Forge(key_, R"({"kid":"key-1"})", LoginClaims().dump())),
            ErrorCode::kInvalidArgument);
}

TEST_F(JwtTest, HostileBytesNeverCrash) {
  const std::string token = Sign(LoginClaims());
  // Every truncation and a byte flip at every position: each must give an
  // error, never an exception or a crash.
  for (std::size_t i = 0; i < token.size(); ++i) {
    std::string flipped = token;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x20);
    EXPECT_FALSE(Verifier().VerifyAndDecode(flipped, Validator()).has_value()) << i;
    EXPECT_FALSE(Verifier().VerifyAndDecode(token.substr(0, i), Validator()).has_value()) << i;
  }
  const std::string nested = std::string(10000, '[') + std::string(10000, ']');
  EXPECT_EQ(Code(Forge(key_, Es256Header(), nested)), ErrorCode::kInvalidArgument);
}

// --- Known vectors --------------------------------------------------------------------------

TEST(JwtKnownVectors, Rfc7515AppendixA3Es256Verifies) {
  auto pub = crypto::PublicKey::FromAffine(
      KeyType::kSecp256r1, *Base64UrlDecode("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"),
      *Base64UrlDecode("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"));
  ASSERT_TRUE(pub.has_value());
  auto key = VerificationKey::Create("rfc7515", *pub, JwsAlgorithm::kEs256);
  ASSERT_TRUE(key.has_value());
  auto verifier = JwtVerifier::Create({*key});
  ASSERT_TRUE(verifier.has_value());
  constexpr std::string_view kToken =
      "eyJhbGciOiJFUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl"
      "fQ."
      "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
  FakeClock clock(At(1300819000));  // before the example's exp
  auto validator = JwtValidatorBuilder().SetClock(clock).ExpectIssuer("joe").Build();
  ASSERT_TRUE(validator.has_value());
  auto verified = verifier->VerifyAndDecode(kToken, *validator);
  ASSERT_TRUE(verified.has_value()) << verified.error().message();
  EXPECT_EQ(verified->Issuer(), "joe");
  EXPECT_EQ(verified->ExpiresAt(), 1300819380);
  EXPECT_EQ(verified->claims().at("http://example.com/is_root"), true);

  clock.Set(At(1300819380));
  auto expired = verifier->VerifyAndDecode(kToken, *validator);
  ASSERT_FALSE(expired.has_value());
  EXPECT_EQ(expired.error().code(), ErrorCode::kDeadlineExceeded);
}

TEST(JwtKnownVectors, Rfc8037EdDsaSignatureVerifiesButItsPayloadIsNoClaimSet) {
  // RFC 8037 A.4 signs the text "Example of Ed25519 signing": the signature
  // is good, so the error is about the claims, not the signature.
  auto pub = crypto::PublicKey::FromRaw(
      KeyType::kEd25519, *Base64UrlDecode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"));
  ASSERT_TRUE(pub.has_value());
  auto key = VerificationKey::Create("rfc8037", *pub, JwsAlgorithm::kEdDsa);
  auto verifier = JwtVerifier::Create({*key});
  auto validator = JwtValidatorBuilder().Build();
  ASSERT_TRUE(verifier.has_value() && validator.has_value());
  auto result = verifier->VerifyAndDecode(
      "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
      "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
      *validator);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(result.error().message().find("claims"), std::string::npos) << result.error().message();
}

// --- Construction checks ----------------------------------------------------------------------

TEST(JwtValidatorBuilder, RejectsNegativeLeeway) {
  auto validator = JwtValidatorBuilder().SetLeeway(std::chrono::seconds(-1)).Build();
  ASSERT_FALSE(validator.has_value());
  EXPECT_EQ(validator.error().code(), ErrorCode::kInvalidArgument);
}

TEST(JwtValidatorBuilder, RejectsAbsurdLeeway) {
  for (auto leeway :
       {std::chrono::seconds(601), std::chrono::seconds(std::chrono::hours(24 * 365))}) {
    auto validator = JwtValidatorBuilder().SetLeeway(leeway).Build();
    ASSERT_FALSE(validator.has_value()) << leeway.count();
    EXPECT_EQ(validator.error().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(JwtValidatorBuilder().SetLeeway(JwtValidatorBuilder::kMaxLeeway).Build().has_value());
}

TEST(JwtValidatorBuilder, RejectsAnEmptyExpectedIssuer) {
  EXPECT_FALSE(JwtValidatorBuilder().ExpectIssuer("").Build().has_value());
}

TEST(JwtValidatorBuilder, DefaultsAreStrictAndUseTheSystemClock) {
  auto validator = JwtValidatorBuilder().Build();
  ASSERT_TRUE(validator.has_value());
  EXPECT_TRUE(validator->expiration_required());
  EXPECT_EQ(validator->leeway(), std::chrono::seconds(0));
  EXPECT_EQ(&validator->clock(), &SystemClock());
}

TEST(JwtVerifier, RejectsAnEmptyKeySetAndDuplicateKids) {
  EXPECT_FALSE(JwtVerifier::Create({}).has_value());
  auto key = PrivateKey::Generate(KeyType::kEd25519);
  ASSERT_TRUE(key.has_value());
  auto vk = VerificationKey::ForKey("same", key->public_key());
  ASSERT_TRUE(vk.has_value());
  EXPECT_FALSE(JwtVerifier::Create({*vk, *vk}).has_value());
}

TEST(VerificationKey, PinsOnlyMatchingAlgorithms) {
  auto p256 = PrivateKey::Generate(KeyType::kSecp256r1);
  auto k1 = PrivateKey::Generate(KeyType::kSecp256k1);
  auto ed = PrivateKey::Generate(KeyType::kEd25519);
  ASSERT_TRUE(p256.has_value() && k1.has_value() && ed.has_value());
  EXPECT_TRUE(VerificationKey::Create("k", p256->public_key(), JwsAlgorithm::kEs256).has_value());
  EXPECT_FALSE(VerificationKey::Create("k", p256->public_key(), JwsAlgorithm::kEs256K).has_value());
  EXPECT_FALSE(VerificationKey::Create("k", p256->public_key(), JwsAlgorithm::kEdDsa).has_value());
  EXPECT_TRUE(VerificationKey::Create("k", k1->public_key(), JwsAlgorithm::kEs256).has_value());
  EXPECT_TRUE(VerificationKey::Create("k", k1->public_key(), JwsAlgorithm::kEs256K).has_value());
  EXPECT_FALSE(VerificationKey::Create("k", ed->public_key(), JwsAlgorithm::kEs256).has_value());
  EXPECT_FALSE(VerificationKey::Create("", ed->public_key(), JwsAlgorithm::kEdDsa).has_value());
}

TEST(JwsAlgorithm, NamesRoundTripAndNoneIsNotOne) {
  for (JwsAlgorithm alg : {JwsAlgorithm::kEs256, JwsAlgorithm::kEs256K, JwsAlgorithm::kEdDsa}) {
    auto parsed = ParseJwsAlgorithm(JwsAlgorithmName(alg));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, alg);
  }
  for (std::string_view name : {"none", "HS256", "es256", "RS256", ""}) {
    EXPECT_FALSE(ParseJwsAlgorithm(name).has_value()) << name;
  }
}

}  // namespace
}  // namespace kisee::jwt
