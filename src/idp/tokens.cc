#include "idp/tokens.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "kisee/core/bytes.h"
#include "kisee/core/random.h"
#include "kisee/core/secret.h"
#include "kisee/crypto/digest.h"
#include "kisee/crypto/keys.h"
#include "kisee/jwt/jwk.h"
#include "kisee/jwt/jwt.h"

namespace kisee::idp {
namespace {

using Json = nlohmann::ordered_json;

// The claim that binds a reset token to the user's reset stamp.
constexpr const char* kBindingClaim = "kisee_rb";

// Thumbprint is the RFC 7638 thumbprint of `key`: the kid of every key we
// publish, so that the same key gets the same kid on every instance and
// after every restart.
std::string Thumbprint(const crypto::PublicKey& key) {
  crypto::AffinePoint point = key.ToAffine();
  const std::string x = Base64UrlEncode(point.x);
  std::string canonical;
  if (key.type() == crypto::KeyType::kEd25519) {
    canonical = fmt::format(R"({{"crv":"Ed25519","kty":"OKP","x":"{}"}})", x);
  } else {
    const char* crv = key.type() == crypto::KeyType::kSecp256k1 ? "secp256k1" : "P-256";
    canonical = fmt::format(R"({{"crv":"{}","kty":"EC","x":"{}","y":"{}"}})", crv, x,
                            Base64UrlEncode(point.y));
  }
  return Base64UrlEncode(crypto::Sha256(AsBytes(canonical)));
}

// CheckSupported refuses keys that cannot sign kisee tokens before kisee::jwt
// does, with the message the settings file needs.
Status CheckSupported(crypto::KeyType type) {
  switch (type) {
    case crypto::KeyType::kSecp256r1:
    case crypto::KeyType::kSecp256k1:
    case crypto::KeyType::kEd25519:
      return Ok();
    default:
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("{} keys cannot sign kisee tokens (use P-256, secp256k1 or "
                                   "Ed25519)",
                                   crypto::KeyTypeName(type)));
  }
}

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  return text;
}

class JwtTokenService final : public TokenService {
 public:
  JwtTokenService(const Settings& settings, const Clock& clock, jwt::JwtSigner signer,
                  jwt::JwtVerifier verifier, jwt::JwtValidator validator, SecretBytes binding_key)
      : jwt_(settings.jwt),
        clock_(clock),
        signer_(std::move(signer)),
        verifier_(std::move(verifier)),
        validator_(std::move(validator)),
        binding_key_(std::move(binding_key)),
        jwks_(jwt::ToJwksJson(verifier_.keys())) {}

  Result<IssuedToken> IssueLogin(const User& user) override {
    const std::int64_t now = clock_.NowSeconds();
    IssuedToken out{.jwt = {}, .jti = RandomId()};
    Json claims = Json::object();
    claims["iss"] = jwt_.iss;
    claims["sub"] = user.user_id;
    claims["exp"] = now + jwt_.lifetime;
    claims["jti"] = out.jti;
    claims["iat"] = now;
    KISEE_ASSIGN_OR_RETURN(out.jwt, signer_.SignAndEncode(claims));
    return out;
  }

  Result<IssuedToken> IssueReset(const User& user, std::string_view stamp) override {
    const std::int64_t now = clock_.NowSeconds();
    IssuedToken out{.jwt = {}, .jti = RandomId()};
    Json claims = Json::object();
    claims["iss"] = jwt_.iss;
    claims["exp"] = now + jwt_.reset_lifetime;
    claims["jti"] = out.jti;
    claims["password_reset_for"] = user.username;
    claims[kBindingClaim] = BindingDigest(stamp);
    KISEE_ASSIGN_OR_RETURN(out.jwt, signer_.SignAndEncode(claims));
    return out;
  }

  Result<TokenClaims> Verify(std::string_view compact) override {
    auto verified = verifier_.VerifyAndDecode(compact, validator_);
    if (!verified) {
      // Every reason (malformed, untrusted, expired, foreign) is the same
      // "Bad authorization" to the client.
      return MakeError(ErrorCode::kUnauthenticated, verified.error().message());
    }
    // An empty configured issuer cannot be expressed to the validator (it
    // refuses an empty expectation); check it here instead.
    if (jwt_.iss.empty() && verified->Issuer() != std::optional<std::string>("")) {
      return MakeError(ErrorCode::kUnauthenticated, "wrong issuer");
    }
    TokenClaims claims;
    claims.sub = verified->Subject().value_or("");
    claims.jti = verified->JwtId().value_or("");
    const Json& payload = verified->claims();
    if (auto reset = payload.find("password_reset_for"); reset != payload.end()) {
      if (!reset->is_string()) {
        return MakeError(ErrorCode::kUnauthenticated, "bad password_reset_for");
      }
      claims.password_reset_for = reset->get<std::string>();
      claims.reset_binding = verified->StringClaim(kBindingClaim).value_or("");
    }
    return claims;
  }

  std::string BindingDigest(std::string_view stamp) const override {
    auto mac = crypto::HmacSha256(binding_key_.view(), AsBytes(stamp));
    return Base64UrlEncode(ByteView(mac.data(), 16));
  }

  const std::string& Jwks() const override { return jwks_; }

 private:
  const JwtSettings jwt_;
  const Clock& clock_;
  const jwt::JwtSigner signer_;
  const jwt::JwtVerifier verifier_;  // keys()[0] is the signer's
  const jwt::JwtValidator validator_;
  const SecretBytes binding_key_;
  const std::string jwks_;
};

}  // namespace

Result<std::unique_ptr<TokenService>> CreateTokenService(const Settings& settings,
                                                         const Clock& clock) {
  const JwtSettings& jwt = settings.jwt;
  const jwt::Secp256k1Label label =
      jwt.algorithm == "ES256K" ? jwt::Secp256k1Label::kEs256K : jwt::Secp256k1Label::kEs256;
  auto private_key = crypto::PrivateKey::FromPem(jwt.private_key);
  if (!private_key) {
    return MakeError(ErrorCode::kInvalidArgument,
                     OneLine("jwt.private_key: " + private_key.error().message()));
  }
  if (!jwt.public_key.empty()) {
    auto pub = crypto::PublicKey::FromPem(jwt.public_key);
    if (!pub) {
      return MakeError(ErrorCode::kInvalidArgument,
                       OneLine("jwt.public_key: " + pub.error().message()));
    }
    if (!(*pub == private_key->public_key())) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "jwt.public_key does not match jwt.private_key");
    }
  }
  if (auto ok = CheckSupported(private_key->type()); !ok) {
    return std::unexpected(ok.error().WithContext("jwt.private_key"));
  }
  // Reset tokens carry an HMAC of the user's reset stamp under a key derived
  // from the signing key: every instance sharing the settings agrees on it,
  // and nobody without the private key can compute it.
  SecretBytes raw = private_key->ToRaw();
  std::string_view label_text = "kisee reset-token binding v1";
  auto derived = crypto::HmacSha256(raw.view(), AsBytes(label_text));
  SecretBytes binding_key(ByteView(derived.data(), derived.size()));
  SecureWipe(std::span<std::uint8_t>(derived.data(), derived.size()));

  const std::string kid = Thumbprint(private_key->public_key());
  auto signer = jwt::JwtSigner::Create(std::move(*private_key), kid, label);
  if (!signer) {
    return std::unexpected(signer.error().WithContext("jwt.private_key"));
  }
  std::vector<jwt::VerificationKey> keys = {signer->verification_key()};
  for (std::size_t i = 0; i < jwt.previous_keys.size(); ++i) {
    const std::string& pem = jwt.previous_keys[i];
    std::optional<crypto::PublicKey> pub;
    if (auto priv = crypto::PrivateKey::FromPem(pem); priv) {
      pub = priv->public_key();
    } else if (auto p = crypto::PublicKey::FromPem(pem); p) {
      pub = *p;
    } else {
      return MakeError(ErrorCode::kInvalidArgument,
                       OneLine(fmt::format("jwt.previous_keys[{}]: {}", i, p.error().message())));
    }
    const std::string context = fmt::format("jwt.previous_keys[{}]", i);
    if (auto ok = CheckSupported(pub->type()); !ok) {
      return std::unexpected(ok.error().WithContext(context));
    }
    auto key = jwt::VerificationKey::ForKey(Thumbprint(*pub), *pub, label);
    if (!key) {
      return std::unexpected(key.error().WithContext(context));
    }
    keys.push_back(std::move(*key));
  }
  auto verifier = jwt::JwtVerifier::Create(std::move(keys));
  if (!verifier) {
    // Two configured keys with the same thumbprint: the same key twice.
    return std::unexpected(verifier.error().WithContext("jwt.previous_keys"));
  }
  jwt::JwtValidatorBuilder builder;
  builder.SetLeeway(std::chrono::seconds(jwt.leeway)).SetClock(clock);
  if (!jwt.iss.empty()) {
    builder.ExpectIssuer(jwt.iss);
  }
  KISEE_ASSIGN_OR_RETURN(jwt::JwtValidator validator, builder.Build());
  return std::unique_ptr<TokenService>(
      new JwtTokenService(settings, clock, std::move(*signer), std::move(*verifier),
                          std::move(validator), std::move(binding_key)));
}

}  // namespace kisee::idp
