#include "kisee/jwt/algorithm.h"

#include <string>

namespace kisee::jwt {

using crypto::KeyType;

std::string_view JwsAlgorithmName(JwsAlgorithm algorithm) {
  switch (algorithm) {
    case JwsAlgorithm::kEs256:
      return "ES256";
    case JwsAlgorithm::kEs256K:
      return "ES256K";
    case JwsAlgorithm::kEdDsa:
      return "EdDSA";
  }
  return "unknown";
}

Result<JwsAlgorithm> ParseJwsAlgorithm(std::string_view name) {
  for (JwsAlgorithm algorithm :
       {JwsAlgorithm::kEs256, JwsAlgorithm::kEs256K, JwsAlgorithm::kEdDsa}) {
    if (JwsAlgorithmName(algorithm) == name) {
      return algorithm;
    }
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "unsupported JWS algorithm \"" + std::string(name.substr(0, 16)) + "\"");
}

Result<JwsAlgorithm> AlgorithmForKey(KeyType type, Secp256k1Label label) {
  switch (type) {
    case KeyType::kEd25519:
    case KeyType::kEd448:
      return JwsAlgorithm::kEdDsa;
    case KeyType::kSecp256r1:
      return JwsAlgorithm::kEs256;
    case KeyType::kSecp256k1:
      return label == Secp256k1Label::kEs256K ? JwsAlgorithm::kEs256K : JwsAlgorithm::kEs256;
    case KeyType::kSecp384r1:
    case KeyType::kSecp521r1:
      break;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   std::string(crypto::KeyTypeName(type)) +
                       " keys cannot sign JWTs here (ECDSA is pinned to SHA-256)");
}

Status CheckAlgorithmForKey(JwsAlgorithm algorithm, KeyType type) {
  bool allowed = false;
  switch (algorithm) {
    case JwsAlgorithm::kEs256:
      allowed = type == KeyType::kSecp256r1 || type == KeyType::kSecp256k1;
      break;
    case JwsAlgorithm::kEs256K:
      allowed = type == KeyType::kSecp256k1;
      break;
    case JwsAlgorithm::kEdDsa:
      allowed = type == KeyType::kEd25519 || type == KeyType::kEd448;
      break;
  }
  if (!allowed) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(JwsAlgorithmName(algorithm)) + " cannot be used with a " +
                         std::string(crypto::KeyTypeName(type)) + " key");
  }
  return Ok();
}

}  // namespace kisee::jwt
