// JSON Web Tokens signed with JWS compact serialization (RFC 7515, 7519),
// following the current best practices (RFC 8725). The API is Tink's:
//
//   signer   = JwtSigner::Create(private_key, "key-1")       // alg from the key
//   token    = signer->SignAndEncode(claims)                 // claims: ordered JSON
//   verifier = JwtVerifier::Create({signer->verification_key(), ...})
//   validator = JwtValidatorBuilder().ExpectIssuer("example.com").Build()
//   jwt      = verifier->VerifyAndDecode(token, *validator)  // VerifiedJwt or an Error
//
// Verification and validation are one call and only a verifier makes a
// VerifiedJwt. The algorithm is pinned to each key when the key set is
// built; the token's "alg" must equal it, it never selects anything.
//
// Claims are nlohmann::ordered_json so that their order is the caller's
// (kisee-api.md §4.1 fixes it). This header only forward-declares the JSON
// type: include <nlohmann/json.hpp> where claims are built or read.
//
// Errors of VerifyAndDecode, by ErrorCode (the message says more):
//   kInvalidArgument   malformed: not three base64url parts, header or claims
//                      not a JSON object (or duplicate names), a registered
//                      claim of the wrong type (exp/nbf/iat not numbers,
//                      iss/sub/jti not strings), an unsupported "crit"
//   kUnauthenticated   not trusted: alg "none", HS*, or any alg other than the
//                      key's pinned one; unknown or missing kid; a signature
//                      that does not verify (tampering, another key or curve)
//   kDeadlineExceeded  expired: now >= exp + leeway
//   kFailedPrecondition not yet valid: now + leeway < nbf
//   kPermissionDenied  authentic but not for us: issuer mismatch, no exp when
//                      one is required
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kisee/core/clock.h"
#include "kisee/core/error.h"
#include "kisee/crypto/keys.h"
#include "kisee/jwt/algorithm.h"

namespace kisee::jwt {

// kMaxTokenSize bounds the compact serialization VerifyAndDecode accepts.
inline constexpr std::size_t kMaxTokenSize = 64 * 1024;
// kMaxKidSize bounds a key id.
inline constexpr std::size_t kMaxKidSize = 256;

// VerificationKey is a public key with its key id and its pinned algorithm.
// Immutable and cheap to copy.
class VerificationKey {
 public:
  // Create pins `algorithm` to `key` (see CheckAlgorithmForKey). `kid` must
  // be 1 to kMaxKidSize bytes. kInvalidArgument otherwise.
  static Result<VerificationKey> Create(std::string kid, crypto::PublicKey key,
                                        JwsAlgorithm algorithm);

  // ForKey pins the algorithm a signer with this key uses (AlgorithmForKey).
  static Result<VerificationKey> ForKey(std::string kid, crypto::PublicKey key,
                                        Secp256k1Label label = Secp256k1Label::kEs256);

  const std::string& kid() const { return kid_; }
  const crypto::PublicKey& public_key() const { return key_; }
  JwsAlgorithm algorithm() const { return algorithm_; }

 private:
  VerificationKey(std::string kid, crypto::PublicKey key, JwsAlgorithm algorithm);

  std::string kid_;
  crypto::PublicKey key_;
  JwsAlgorithm algorithm_;
};

// JwtSigner signs claims with one private key. Immutable; thread-safe.
class JwtSigner {
 public:
  // Create makes a signer whose "alg" comes from the key (AlgorithmForKey:
  // ES256 for P-256, `label` for secp256k1, EdDSA for Ed25519/Ed448) and
  // whose header is exactly {"typ":"JWT","alg":...,"kid":...}.
  // kInvalidArgument for P-384/P-521 keys or a kid that is empty, longer
  // than kMaxKidSize or not UTF-8.
  static Result<JwtSigner> Create(crypto::PrivateKey key, std::string kid,
                                  Secp256k1Label label = Secp256k1Label::kEs256);

  // SignAndEncode returns the compact JWS of `claims`, serialized without
  // whitespace in their own key order; signature raw (r‖s for ECDSA),
  // base64url without padding. kInvalidArgument when `claims` is not an
  // object or holds invalid UTF-8; kInternal if signing fails.
  Result<std::string> SignAndEncode(const nlohmann::ordered_json& claims) const;

  JwsAlgorithm algorithm() const { return verification_key_.algorithm(); }
  const std::string& kid() const { return verification_key_.kid(); }

  // verification_key returns the matching public key, kid and alg: what a
  // JwtVerifier and the JWKS need.
  const VerificationKey& verification_key() const { return verification_key_; }

 private:
  JwtSigner(crypto::PrivateKey key, VerificationKey verification_key, std::string header);

  crypto::PrivateKey key_;
  VerificationKey verification_key_;
  std::string encoded_header_;  // base64url(header) followed by '.'
};

// JwtValidator holds the checks applied to the claims of a token whose
// signature verified. Made by JwtValidatorBuilder. Immutable; thread-safe if
// its Clock is.
class JwtValidator {
 public:
  const std::optional<std::string>& expected_issuer() const { return expected_issuer_; }
  std::chrono::seconds leeway() const { return leeway_; }
  bool expiration_required() const { return expiration_required_; }
  // clock is borrowed from the builder's caller.
  const Clock& clock() const { return *clock_; }

 private:
  friend class JwtValidatorBuilder;
  JwtValidator() = default;

  std::optional<std::string> expected_issuer_;
  std::chrono::seconds leeway_{0};
  bool expiration_required_ = true;
  const Clock* clock_ = nullptr;
};

// JwtValidatorBuilder collects validation options; Build checks them.
class JwtValidatorBuilder {
 public:
  // kMaxLeeway is the largest clock-skew allowance Build accepts.
  static constexpr std::chrono::seconds kMaxLeeway{600};

  JwtValidatorBuilder() = default;

  // ExpectIssuer requires "iss" to equal `issuer` exactly.
  JwtValidatorBuilder& ExpectIssuer(std::string issuer);
  // SetLeeway allows `leeway` of clock skew on exp and nbf (default 0).
  JwtValidatorBuilder& SetLeeway(std::chrono::seconds leeway);
  // AllowMissingExpiration accepts tokens without "exp" (default: refused).
  JwtValidatorBuilder& AllowMissingExpiration();
  // SetClock replaces SystemClock(). `clock` is borrowed: it must outlive
  // every validator built from this builder.
  JwtValidatorBuilder& SetClock(const Clock& clock);

  // Build returns the validator, or kInvalidArgument when the leeway is
  // negative or above kMaxLeeway, or the expected issuer is empty.
  Result<JwtValidator> Build() const;

 private:
  std::optional<std::string> expected_issuer_;
  std::chrono::seconds leeway_{0};
  bool expiration_required_ = true;
  const Clock* clock_ = nullptr;
};

// VerifiedJwt is a token whose signature verified and whose claims passed a
// JwtValidator. Only JwtVerifier makes one. Cheap to copy (the claims are
// shared); thread-safe.
class VerifiedJwt {
 public:
  // claims returns the payload object, in the token's key order.
  const nlohmann::ordered_json& claims() const { return *claims_; }
  const std::string& kid() const { return kid_; }
  JwsAlgorithm algorithm() const { return algorithm_; }

  // StringClaim returns claim `name` if it is present and a string.
  std::optional<std::string> StringClaim(std::string_view name) const;
  // NumericClaim returns claim `name` (a NumericDate or other number) as
  // whole seconds, rounded down, if it is present and a number.
  std::optional<std::int64_t> NumericClaim(std::string_view name) const;

  std::optional<std::string> Issuer() const { return StringClaim("iss"); }
  std::optional<std::string> Subject() const { return StringClaim("sub"); }
  std::optional<std::string> JwtId() const { return StringClaim("jti"); }
  std::optional<std::int64_t> ExpiresAt() const { return NumericClaim("exp"); }
  std::optional<std::int64_t> NotBefore() const { return NumericClaim("nbf"); }
  std::optional<std::int64_t> IssuedAt() const { return NumericClaim("iat"); }

 private:
  friend class JwtVerifier;
  VerifiedJwt(std::shared_ptr<const nlohmann::ordered_json> claims, std::string kid,
              JwsAlgorithm algorithm);

  std::shared_ptr<const nlohmann::ordered_json> claims_;
  std::string kid_;
  JwsAlgorithm algorithm_;
};

// JwtVerifier verifies tokens against a fixed set of keys. Immutable;
// thread-safe.
class JwtVerifier {
 public:
  // Create takes the key set. kInvalidArgument when it is empty or two keys
  // share a kid.
  static Result<JwtVerifier> Create(std::vector<VerificationKey> keys);

  // VerifyAndDecode checks `compact` (header.payload.signature) and returns
  // its claims. The key is chosen by "kid" (a token without kid is accepted
  // only when the set holds exactly one key); its pinned algorithm must
  // equal "alg". Errors: see the top of this file. Never throws.
  Result<VerifiedJwt> VerifyAndDecode(std::string_view compact,
                                      const JwtValidator& validator) const;

  const std::vector<VerificationKey>& keys() const { return keys_; }

 private:
  explicit JwtVerifier(std::vector<VerificationKey> keys);
  Result<VerifiedJwt> DoVerifyAndDecode(std::string_view compact,
                                        const JwtValidator& validator) const;

  std::vector<VerificationKey> keys_;
};

}  // namespace kisee::jwt
