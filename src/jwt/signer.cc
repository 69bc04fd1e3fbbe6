#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "jwt/json.h"
#include "kisee/core/bytes.h"
#include "kisee/jwt/jwt.h"

namespace kisee::jwt {

using Json = nlohmann::ordered_json;

// --- VerificationKey -----------------------------------------------------------

VerificationKey::VerificationKey(std::string kid, crypto::PublicKey key, JwsAlgorithm algorithm)
    : kid_(std::move(kid)), key_(std::move(key)), algorithm_(algorithm) {}

Result<VerificationKey> VerificationKey::Create(std::string kid, crypto::PublicKey key,
                                                JwsAlgorithm algorithm) {
  if (kid.empty() || kid.size() > kMaxKidSize) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "kid must be 1 to " + std::to_string(kMaxKidSize) + " bytes");
  }
  // The kid goes into JSON headers and JWKS documents, which must be UTF-8.
  if (!internal::SerializeJson(Json(kid))) {
    return MakeError(ErrorCode::kInvalidArgument, "kid is not UTF-8");
  }
  KISEE_RETURN_IF_ERROR(CheckAlgorithmForKey(algorithm, key.type()));
  return VerificationKey(std::move(kid), std::move(key), algorithm);
}

Result<VerificationKey> VerificationKey::ForKey(std::string kid, crypto::PublicKey key,
                                                Secp256k1Label label) {
  KISEE_ASSIGN_OR_RETURN(JwsAlgorithm algorithm, AlgorithmForKey(key.type(), label));
  return Create(std::move(kid), std::move(key), algorithm);
}

// --- JwtSigner -------------------------------------------------------------------

JwtSigner::JwtSigner(crypto::PrivateKey key, VerificationKey verification_key, std::string header)
    : key_(std::move(key)),
      verification_key_(std::move(verification_key)),
      encoded_header_(std::move(header)) {}

Result<JwtSigner> JwtSigner::Create(crypto::PrivateKey key, std::string kid, Secp256k1Label label) {
  KISEE_ASSIGN_OR_RETURN(VerificationKey verification_key,
                         VerificationKey::ForKey(std::move(kid), key.public_key(), label));
  // The header never changes for a given key: encode it once.
  Json header = Json::object();
  header["typ"] = "JWT";
  header["alg"] = std::string(JwsAlgorithmName(verification_key.algorithm()));
  header["kid"] = verification_key.kid();
  KISEE_ASSIGN_OR_RETURN(std::string header_json, internal::SerializeJson(header));
  std::string encoded = Base64UrlEncode(AsBytes(header_json));
  encoded.push_back('.');
  return JwtSigner(std::move(key), std::move(verification_key), std::move(encoded));
}

Result<std::string> JwtSigner::SignAndEncode(const Json& claims) const {
  if (!claims.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "JWT claims must be a JSON object");
  }
  KISEE_ASSIGN_OR_RETURN(std::string payload, internal::SerializeJson(claims));
  std::string token = encoded_header_;
  token += Base64UrlEncode(AsBytes(payload));
  KISEE_ASSIGN_OR_RETURN(Bytes signature, key_.Sign(AsBytes(token), crypto::SignatureFormat::kRaw));
  token.push_back('.');
  token += Base64UrlEncode(signature);
  return token;
}

}  // namespace kisee::jwt
