// JSON Web Keys (RFC 7517) for the verification keys: EC keys on P-256 and
// secp256k1 (RFC 7518 §6.2, RFC 8812 §3.1) and OKP keys Ed25519/Ed448
// (RFC 8037 §2). Public keys only.
//
// This header only forward-declares the JSON type: include
// <nlohmann/json.hpp> to use the values.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kisee/core/error.h"
#include "kisee/jwt/jwt.h"

namespace kisee::jwt {

// ToJwk returns the JWK of `key`, members in this order:
// {"kty","crv","x","y","kid","alg","use":"sig"} ("y" only for EC keys).
// Coordinates are base64url without padding, full field width.
nlohmann::ordered_json ToJwk(const VerificationKey& key);

// ToJwksJson returns the JWK Set document {"keys":[...]} of `keys`, compact,
// as served at /.well-known/jwks.json.
std::string ToJwksJson(std::span<const VerificationKey> keys);

// ParseJwk reads one public JWK. "kid" is required; "alg", if present, must
// suit the key (CheckAlgorithmForKey), and if absent is ES256 for P-256,
// ES256K for secp256k1 (RFC 8812), EdDSA for OKP; "use", if present, must be
// "sig". kInvalidArgument on anything else, including a private member "d"
// and key types or curves this library does not verify with.
Result<VerificationKey> ParseJwk(const nlohmann::ordered_json& jwk);

// ParseJwks reads a JWK Set document. Keys whose "kty", "crv" or "alg" this
// library does not support (RSA, P-384, ...) are skipped, as RFC 7517 §5
// asks; a supported key that is malformed, a private key, or a document that
// is not {"keys":[...]} is kInvalidArgument.
Result<std::vector<VerificationKey>> ParseJwks(std::string_view json);

}  // namespace kisee::jwt
