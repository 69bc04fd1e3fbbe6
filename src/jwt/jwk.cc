#include "kisee/jwt/jwk.h"

#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "jwt/json.h"
#include "kisee/core/bytes.h"

namespace kisee::jwt {

using crypto::KeyType;
using Json = nlohmann::ordered_json;

namespace {

struct CurveName {
  KeyType type;
  const char* kty;
  const char* crv;
};

// The JWK names of the key types a VerificationKey can hold.
constexpr CurveName kCurves[] = {
    {KeyType::kSecp256r1, "EC", "P-256"},
    {KeyType::kSecp256k1, "EC", "secp256k1"},
    {KeyType::kEd25519, "OKP", "Ed25519"},
    {KeyType::kEd448, "OKP", "Ed448"},
};

std::unexpected<Error> Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, "invalid JWK: " + std::move(message));
}

// StringMember returns member `name` when it is a string, nullptr when it is
// absent, and an error when it has another type.
Result<const std::string*> StringMember(const Json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end()) {
    return nullptr;
  }
  if (!it->is_string()) {
    return Invalid(std::string("\"") + name + "\" is not a string");
  }
  return &it->get_ref<const std::string&>();
}

Result<Bytes> Coordinate(const Json& jwk, const char* name) {
  KISEE_ASSIGN_OR_RETURN(const std::string* text, StringMember(jwk, name));
  if (text == nullptr) {
    return Invalid(std::string("missing \"") + name + "\"");
  }
  Result<Bytes> bytes = Base64UrlDecode(*text);
  if (!bytes) {
    return Invalid(std::string("\"") + name + "\" is not base64url without padding");
  }
  return bytes;
}

// ReadJwk returns the key, std::nullopt for a well-formed JWK of a kind this
// library does not verify with (so a JWKS can skip it), or an error.
Result<std::optional<VerificationKey>> ReadJwk(const Json& jwk) {
  if (!jwk.is_object()) {
    return Invalid("not a JSON object");
  }
  if (jwk.contains("d")) {
    return Invalid("holds private key material (\"d\")");
  }
  KISEE_ASSIGN_OR_RETURN(const std::string* kty, StringMember(jwk, "kty"));
  KISEE_ASSIGN_OR_RETURN(const std::string* crv, StringMember(jwk, "crv"));
  KISEE_ASSIGN_OR_RETURN(const std::string* use, StringMember(jwk, "use"));
  KISEE_ASSIGN_OR_RETURN(const std::string* alg, StringMember(jwk, "alg"));
  KISEE_ASSIGN_OR_RETURN(const std::string* kid, StringMember(jwk, "kid"));
  if (kty == nullptr) {
    return Invalid("missing \"kty\"");
  }
  if (use != nullptr && *use != "sig") {
    return std::optional<VerificationKey>();  // an encryption key: not ours to verify with
  }
  const CurveName* curve = nullptr;
  for (const CurveName& candidate : kCurves) {
    if (*kty == candidate.kty && crv != nullptr && *crv == candidate.crv) {
      curve = &candidate;
    }
  }
  if (curve == nullptr) {
    return std::optional<VerificationKey>();
  }
  std::optional<JwsAlgorithm> algorithm;
  if (alg != nullptr) {
    Result<JwsAlgorithm> parsed = ParseJwsAlgorithm(*alg);
    if (!parsed) {
      return std::optional<VerificationKey>();
    }
    algorithm = *parsed;
  }
  if (kid == nullptr) {
    return Invalid("missing \"kid\"");
  }

  KISEE_ASSIGN_OR_RETURN(Bytes x, Coordinate(jwk, "x"));
  Bytes y;
  if (crypto::IsEcdsa(curve->type)) {
    KISEE_ASSIGN_OR_RETURN(y, Coordinate(jwk, "y"));
  } else if (jwk.contains("y")) {
    return Invalid("an OKP key has no \"y\"");
  }
  Result<crypto::PublicKey> key = crypto::PublicKey::FromAffine(curve->type, x, y);
  if (!key) {
    return Invalid(key.error().message());
  }
  // RFC 8812 §3.1: without "alg", a secp256k1 key is for ES256K (our own
  // JWKS always says which, "ES256" for the original kisee's tokens).
  JwsAlgorithm pinned = JwsAlgorithm::kEs256K;
  if (algorithm.has_value()) {
    pinned = *algorithm;
  } else if (curve->type != KeyType::kSecp256k1) {
    KISEE_ASSIGN_OR_RETURN(pinned, AlgorithmForKey(curve->type));
  }
  Result<VerificationKey> made = VerificationKey::Create(*kid, *key, pinned);
  if (!made) {
    return Invalid(made.error().message());
  }
  return std::optional<VerificationKey>(std::move(*made));
}

}  // namespace

Json ToJwk(const VerificationKey& key) {
  const crypto::PublicKey& pub = key.public_key();
  const crypto::AffinePoint point = pub.ToAffine();
  Json jwk = Json::object();
  for (const CurveName& curve : kCurves) {
    if (curve.type == pub.type()) {
      jwk["kty"] = curve.kty;
      jwk["crv"] = curve.crv;
    }
  }
  jwk["x"] = Base64UrlEncode(point.x);
  if (crypto::IsEcdsa(pub.type())) {
    jwk["y"] = Base64UrlEncode(point.y);
  }
  jwk["kid"] = key.kid();
  jwk["alg"] = std::string(JwsAlgorithmName(key.algorithm()));
  jwk["use"] = "sig";
  return jwk;
}

std::string ToJwksJson(std::span<const VerificationKey> keys) {
  Json set = Json::object();
  Json list = Json::array();
  for (const VerificationKey& key : keys) {
    list.push_back(ToJwk(key));
  }
  set["keys"] = std::move(list);
  // A kid that is not UTF-8 would make dump throw; replace such bytes
  // rather than fail: the document must always be servable.
  return set.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<VerificationKey> ParseJwk(const Json& jwk) {
  try {
    KISEE_ASSIGN_OR_RETURN(std::optional<VerificationKey> key, ReadJwk(jwk));
    if (!key.has_value()) {
      return Invalid("unsupported key type, curve, algorithm or use");
    }
    return std::move(*key);
  } catch (const std::exception&) {
    return Invalid("could not be read");
  }
}

Result<std::vector<VerificationKey>> ParseJwks(std::string_view json) {
  try {
    KISEE_ASSIGN_OR_RETURN(Json set, internal::ParseJsonObject(json, "JWK Set"));
    auto keys = set.find("keys");
    if (keys == set.end() || !keys->is_array()) {
      return MakeError(ErrorCode::kInvalidArgument, "JWK Set has no \"keys\" array");
    }
    std::vector<VerificationKey> result;
    for (const Json& jwk : *keys) {
      KISEE_ASSIGN_OR_RETURN(std::optional<VerificationKey> key, ReadJwk(jwk));
      if (key.has_value()) {
        result.push_back(std::move(*key));
      }
    }
    return result;
  } catch (const std::exception&) {
    return MakeError(ErrorCode::kInvalidArgument, "JWK Set could not be read");
  }
}

}  // namespace kisee::jwt
