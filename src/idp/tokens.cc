#include "idp/tokens.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "kisee/core/bytes.h"
#include "kisee/core/random.h"
#include "kisee/core/secret.h"
#include "kisee/crypto/digest.h"
#include "kisee/crypto/keys.h"

namespace kisee::idp {
namespace {

using Json = nlohmann::ordered_json;

// The claim that binds a reset token to the user's reset stamp.
constexpr const char* kBindingClaim = "kisee_rb";

struct VerifyKey {
  crypto::PublicKey key;
  std::string kid;
  std::string alg;
  Json jwk;
};

Result<std::string> AlgFor(crypto::KeyType type, const JwtSettings& settings) {
  switch (type) {
    case crypto::KeyType::kSecp256r1:
      return std::string("ES256");
    case crypto::KeyType::kSecp256k1:
      // The original labels its secp256k1 tokens ES256 and its clients
      // expect that; ES256K is the honest label, on request.
      return settings.algorithm;
    case crypto::KeyType::kEd25519:
      return std::string("EdDSA");
    default:
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("{} keys cannot sign kisee tokens (use P-256, secp256k1 or "
                                   "Ed25519)",
                                   crypto::KeyTypeName(type)));
  }
}

// Jwk returns the RFC 7517 members and the RFC 7638 thumbprint (the kid).
std::pair<Json, std::string> JwkAndThumbprint(const crypto::PublicKey& key) {
  crypto::AffinePoint point = key.ToAffine();
  const std::string x = Base64UrlEncode(point.x);
  Json jwk = Json::object();
  std::string canonical;
  if (key.type() == crypto::KeyType::kEd25519) {
    jwk["kty"] = "OKP";
    jwk["crv"] = "Ed25519";
    jwk["x"] = x;
    canonical = fmt::format(R"({{"crv":"Ed25519","kty":"OKP","x":"{}"}})", x);
  } else {
    const std::string crv = key.type() == crypto::KeyType::kSecp256k1 ? "secp256k1" : "P-256";
    const std::string y = Base64UrlEncode(point.y);
    jwk["kty"] = "EC";
    jwk["crv"] = crv;
    jwk["x"] = x;
    jwk["y"] = y;
    canonical = fmt::format(R"({{"crv":"{}","kty":"EC","x":"{}","y":"{}"}})", crv, x, y);
  }
  auto digest = crypto::Sha256(AsBytes(canonical));
  return {std::move(jwk), Base64UrlEncode(digest)};
}

Result<VerifyKey> MakeVerifyKey(const crypto::PublicKey& key, const JwtSettings& settings) {
  KISEE_ASSIGN_OR_RETURN(std::string alg, AlgFor(key.type(), settings));
  auto [jwk, kid] = JwkAndThumbprint(key);
  jwk["kid"] = kid;
  jwk["alg"] = alg;
  jwk["use"] = "sig";
  return VerifyKey{key, kid, alg, std::move(jwk)};
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
  JwtTokenService(const Settings& settings, const Clock& clock, crypto::PrivateKey signer,
                  std::vector<VerifyKey> keys, SecretBytes binding_key)
      : jwt_(settings.jwt),
        clock_(clock),
        signer_(std::move(signer)),
        keys_(std::move(keys)),
        binding_key_(std::move(binding_key)) {
    Json set = Json::object();
    set["keys"] = Json::array();
    for (const auto& k : keys_) {
      set["keys"].push_back(k.jwk);
    }
    jwks_ = set.dump();
    Json header = Json::object();
    header["typ"] = "JWT";
    header["alg"] = keys_.front().alg;
    header["kid"] = keys_.front().kid;
    encoded_header_ = Base64UrlEncode(AsBytes(header.dump()));
  }

  Result<IssuedToken> IssueLogin(const User& user) override {
    const std::int64_t now = clock_.NowSeconds();
    IssuedToken out{.jwt = {}, .jti = RandomId()};
    Json claims = Json::object();
    claims["iss"] = jwt_.iss;
    claims["sub"] = user.user_id;
    claims["exp"] = now + jwt_.lifetime;
    claims["jti"] = out.jti;
    claims["iat"] = now;
    KISEE_ASSIGN_OR_RETURN(out.jwt, Sign(claims));
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
    KISEE_ASSIGN_OR_RETURN(out.jwt, Sign(claims));
    return out;
  }

  Result<TokenClaims> Verify(std::string_view compact) override {
    auto bad = [](std::string_view why) {
      return MakeError(ErrorCode::kUnauthenticated, std::string(why));
    };
    const std::size_t dot1 = compact.find('.');
    const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : compact.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || compact.find('.', dot2 + 1) != std::string_view::npos) {
      return bad("not a compact JWS");
    }
    auto header_bytes = Base64UrlDecode(compact.substr(0, dot1));
    auto payload_bytes = Base64UrlDecode(compact.substr(dot1 + 1, dot2 - dot1 - 1));
    auto signature = Base64UrlDecode(compact.substr(dot2 + 1));
    if (!header_bytes || !payload_bytes || !signature) {
      return bad("bad base64url");
    }
    Json header = Json::parse(AsChars(*header_bytes), nullptr, false);
    Json payload = Json::parse(AsChars(*payload_bytes), nullptr, false);
    if (!header.is_object() || !payload.is_object()) {
      return bad("header or payload is not a JSON object");
    }
    const VerifyKey* key = nullptr;
    if (auto kid = header.find("kid"); kid != header.end()) {
      if (!kid->is_string()) {
        return bad("bad kid");
      }
      for (const auto& k : keys_) {
        if (k.kid == kid->get<std::string>()) {
          key = &k;
        }
      }
    } else {
      key = &keys_.front();
    }
    if (key == nullptr) {
      return bad("unknown kid");
    }
    // The algorithm comes from the key; the header must merely agree.
    auto alg = header.find("alg");
    if (alg == header.end() || !alg->is_string() || alg->get<std::string>() != key->alg) {
      return bad("algorithm mismatch");
    }
    if (auto ok = key->key.Verify(AsBytes(compact.substr(0, dot2)), *signature); !ok) {
      return bad("bad signature");
    }
    const std::int64_t now = clock_.NowSeconds();
    auto iss = payload.find("iss");
    if (iss == payload.end() || *iss != jwt_.iss) {
      return bad("wrong issuer");
    }
    auto exp = payload.find("exp");
    if (exp == payload.end() || !exp->is_number() || now > exp->get<double>() + jwt_.leeway) {
      return bad("expired");
    }
    if (auto nbf = payload.find("nbf"); nbf != payload.end()) {
      if (!nbf->is_number() || now + jwt_.leeway < nbf->get<double>()) {
        return bad("not yet valid");
      }
    }
    TokenClaims claims;
    auto text = [&](const char* name) -> std::string {
      auto it = payload.find(name);
      return it != payload.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    claims.sub = text("sub");
    claims.jti = text("jti");
    if (auto reset = payload.find("password_reset_for"); reset != payload.end()) {
      if (!reset->is_string()) {
        return bad("bad password_reset_for");
      }
      claims.password_reset_for = reset->get<std::string>();
      claims.reset_binding = text(kBindingClaim);
    }
    return claims;
  }

  std::string BindingDigest(std::string_view stamp) const override {
    auto mac = crypto::HmacSha256(binding_key_.view(), AsBytes(stamp));
    return Base64UrlEncode(ByteView(mac.data(), 16));
  }

  const std::string& Jwks() const override { return jwks_; }

 private:
  Result<std::string> Sign(const Json& claims) {
    std::string input = encoded_header_ + "." + Base64UrlEncode(AsBytes(claims.dump()));
    KISEE_ASSIGN_OR_RETURN(Bytes signature, signer_.Sign(AsBytes(input)));
    return input + "." + Base64UrlEncode(signature);
  }

  const JwtSettings jwt_;
  const Clock& clock_;
  const crypto::PrivateKey signer_;
  const std::vector<VerifyKey> keys_;  // keys_[0] is the signer's
  const SecretBytes binding_key_;
  std::string jwks_;
  std::string encoded_header_;
};

}  // namespace

Result<std::unique_ptr<TokenService>> CreateTokenService(const Settings& settings,
                                                         const Clock& clock) {
  const JwtSettings& jwt = settings.jwt;
  auto signer = crypto::PrivateKey::FromPem(jwt.private_key);
  if (!signer) {
    return MakeError(ErrorCode::kInvalidArgument,
                     OneLine("jwt.private_key: " + signer.error().message()));
  }
  if (!jwt.public_key.empty()) {
    auto pub = crypto::PublicKey::FromPem(jwt.public_key);
    if (!pub) {
      return MakeError(ErrorCode::kInvalidArgument,
                       OneLine("jwt.public_key: " + pub.error().message()));
    }
    if (!(*pub == signer->public_key())) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "jwt.public_key does not match jwt.private_key");
    }
  }
  std::vector<VerifyKey> keys;
  auto main_key = MakeVerifyKey(signer->public_key(), jwt);
  if (!main_key) {
    return std::unexpected(main_key.error().WithContext("jwt.private_key"));
  }
  keys.push_back(std::move(*main_key));
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
    auto key = MakeVerifyKey(*pub, jwt);
    if (!key) {
      return std::unexpected(key.error().WithContext(fmt::format("jwt.previous_keys[{}]", i)));
    }
    keys.push_back(std::move(*key));
  }
  // Reset tokens carry an HMAC of the user's reset stamp under a key derived
  // from the signing key: every instance sharing the settings agrees on it,
  // and nobody without the private key can compute it.
  SecretBytes raw = signer->ToRaw();
  std::string_view label = "kisee reset-token binding v1";
  auto derived = crypto::HmacSha256(raw.view(), AsBytes(label));
  SecretBytes binding_key(ByteView(derived.data(), derived.size()));
  SecureWipe(std::span<std::uint8_t>(derived.data(), derived.size()));
  return std::unique_ptr<TokenService>(new JwtTokenService(
      settings, clock, std::move(*signer), std::move(keys), std::move(binding_key)));
}

}  // namespace kisee::idp
