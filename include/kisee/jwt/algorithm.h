// The closed set of JWS algorithms kisee signs and verifies (RFC 7518 §3.4,
// RFC 8037 §3.1, RFC 8812 §3.2). No "none", no HMAC, no RSA.
#pragma once

#include <string_view>

#include "kisee/core/error.h"
#include "kisee/crypto/key_type.h"

namespace kisee::jwt {

enum class JwsAlgorithm {
  kEs256,   // "ES256": ECDSA with SHA-256 (P-256; secp256k1 in the original kisee's tokens)
  kEs256K,  // "ES256K": ECDSA on secp256k1 with SHA-256 (RFC 8812)
  kEdDsa,   // "EdDSA": Ed25519 or Ed448 (RFC 8037)
};

// Secp256k1Label chooses the "alg" of tokens signed with a secp256k1 key
// (kisee-api.md §4.1): the original kisee wrote "ES256" (its verifiers
// expect it), RFC 8812 says "ES256K".
enum class Secp256k1Label {
  kEs256,   // compatibility with the original kisee (the default)
  kEs256K,  // the standard label ([jwt] algorithm = "ES256K")
};

// JwsAlgorithmName returns the JOSE name: "ES256", "ES256K" or "EdDSA".
std::string_view JwsAlgorithmName(JwsAlgorithm algorithm);

// ParseJwsAlgorithm is the inverse of JwsAlgorithmName (exact,
// case-sensitive). Any other name, including "none" and HS256, is
// kInvalidArgument.
Result<JwsAlgorithm> ParseJwsAlgorithm(std::string_view name);

// AlgorithmForKey returns the algorithm a key of `type` signs with: EdDSA for
// Ed25519/Ed448, ES256 for P-256, `label` for secp256k1. P-384 and P-521 are
// kInvalidArgument: ES384/ES512 need SHA-384/512, and certified.md pins
// SHA-256 for every curve.
Result<JwsAlgorithm> AlgorithmForKey(crypto::KeyType type,
                                     Secp256k1Label label = Secp256k1Label::kEs256);

// CheckAlgorithmForKey returns Ok when a key of `type` may be pinned to
// `algorithm`: ES256 with P-256 or secp256k1 (compatibility), ES256K with
// secp256k1, EdDSA with Ed25519 or Ed448. kInvalidArgument otherwise.
Status CheckAlgorithmForKey(JwsAlgorithm algorithm, crypto::KeyType type);

}  // namespace kisee::jwt
