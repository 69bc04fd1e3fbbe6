// Biscuit keys: Ed25519 (libsodium) and ECDSA P-256 (OpenSSL), with the
// reference's text forms (`ed25519/<hex>`, `secp256r1/<hex>`,
// `ed25519-private/<hex>`, `secp256r1-private/<hex>`) and PEM/DER
// (SPKI for public keys, PKCS#8 for private keys). Values are immutable and
// safe to share between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "kisee/biscuit/error.h"
#include "kisee/core/bytes.h"
#include "kisee/core/secret.h"

namespace kisee::biscuit {

namespace internal {
struct TokenData;
}  // namespace internal

// Algorithm values are the wire values of PublicKey.Algorithm.
enum class Algorithm { kEd25519 = 0, kSecp256r1 = 1 };

// AlgorithmName returns "ed25519" or "secp256r1".
std::string_view AlgorithmName(Algorithm algorithm);
// ParseAlgorithm accepts "ed25519" and "secp256r1" (kInvalidArgument otherwise).
Result<Algorithm> ParseAlgorithm(std::string_view name);

// PublicKey verifies signatures. Ed25519 keys are 32 bytes; P-256 keys are
// compressed SEC1 points (33 bytes, prefix 02 or 03).
class PublicKey {
 public:
  // FromBytes checks the size and, for P-256, that the point is on the curve
  // (kInvalidKey otherwise).
  static Result<PublicKey> FromBytes(Algorithm algorithm, ByteView key);
  // FromString parses `ed25519/<hex>` or `secp256r1/<hex>`.
  static Result<PublicKey> FromString(std::string_view text);
  // FromPem / FromDer read a SubjectPublicKeyInfo.
  static Result<PublicKey> FromPem(std::string_view pem);
  static Result<PublicKey> FromDer(ByteView der);

  Algorithm algorithm() const { return algorithm_; }
  const Bytes& bytes() const { return key_; }
  // ToString prints `ed25519/<hex>` or `secp256r1/<hex>` (lowercase hex).
  std::string ToString() const;
  Result<std::string> ToPem() const;
  Result<Bytes> ToDer() const;

  // Verify checks `signature` over `message`: kInvalidSignature when it does
  // not verify, kSignatureDeserialization when it is malformed.
  Status Verify(ByteView message, ByteView signature) const;

  bool operator==(const PublicKey& other) const {
    return algorithm_ == other.algorithm_ && key_ == other.key_;
  }

 private:
  friend class PrivateKey;
  PublicKey(Algorithm algorithm, Bytes key) : algorithm_(algorithm), key_(std::move(key)) {}
  Algorithm algorithm_;
  Bytes key_;
};

// PrivateKey signs. Ed25519: the 32-byte seed; P-256: the 32-byte big-endian
// scalar. The secret is wiped when the last copy goes away.
class PrivateKey {
 public:
  static Result<PrivateKey> FromBytes(Algorithm algorithm, ByteView key);
  // FromString parses `ed25519-private/<hex>`, `secp256r1-private/<hex>`, and
  // also `ed25519/<hex>` / `secp256r1/<hex>` as the reference CLI does.
  static Result<PrivateKey> FromString(std::string_view text);
  // FromPem / FromDer read PKCS#8.
  static Result<PrivateKey> FromPem(std::string_view pem);
  static Result<PrivateKey> FromDer(ByteView der);

  Algorithm algorithm() const;
  // bytes views the secret (borrowed; do not log it).
  ByteView bytes() const;
  // ToString prints `ed25519-private/<hex>` or `secp256r1-private/<hex>`.
  std::string ToString() const;
  Result<std::string> ToPem() const;
  Result<SecretBytes> ToDer() const;
  const PublicKey& public_key() const;

  // Sign returns an Ed25519 signature (64 bytes) or a DER ECDSA-SHA256 one.
  Result<Bytes> Sign(ByteView message) const;

 private:
  friend struct internal::TokenData;
  // FromProof reads the secret a token carries as its proof; an Ed25519
  // one's public key is derived in variable time (it is no secret from the
  // token's holder).
  static Result<PrivateKey> FromProof(Algorithm algorithm, ByteView key);

  struct State;
  explicit PrivateKey(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

// KeyPair is a private key with its public key.
class KeyPair {
 public:
  // Generate makes a fresh random key pair.
  static KeyPair Generate(Algorithm algorithm = Algorithm::kEd25519);
  explicit KeyPair(PrivateKey private_key) : private_(std::move(private_key)) {}

  const PrivateKey& private_key() const { return private_; }
  const PublicKey& public_key() const { return private_.public_key(); }
  Algorithm algorithm() const { return private_.algorithm(); }
  Result<Bytes> Sign(ByteView message) const { return private_.Sign(message); }

 private:
  PrivateKey private_;
};

}  // namespace kisee::biscuit
