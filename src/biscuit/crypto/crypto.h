// The raw signature primitives behind biscuit keys. Ed25519 goes straight to
// libsodium (the verification hot path); P-256 and the PEM/DER forms go
// through kisee::crypto.
#pragma once

#include <array>
#include <cstdint>

#include "kisee/biscuit/error.h"
#include "kisee/core/bytes.h"
#include "kisee/core/secret.h"

namespace kisee::biscuit::crypto {

inline constexpr std::size_t kEd25519KeySize = 32;
inline constexpr std::size_t kEd25519SignatureSize = 64;
inline constexpr std::size_t kP256PublicKeySize = 33;
inline constexpr std::size_t kP256PrivateKeySize = 32;

// Ed25519 through libsodium. `expanded` is libsodium's 64-byte secret key.
void Ed25519FromSeed(ByteView seed, SecretBytes& expanded, Bytes& public_key);
Bytes Ed25519Sign(const SecretBytes& expanded, ByteView message);
Status Ed25519Verify(ByteView public_key, ByteView message, ByteView signature);
bool Ed25519ValidPublicKey(ByteView public_key);
// Ed25519FromProofSeed is Ed25519FromSeed in variable time, for the secret a
// token carries as its proof and for nothing else (see ed25519_proof.cc).
// REQUIRES: seed.size() == kEd25519KeySize.
void Ed25519FromProofSeed(ByteView seed, SecretBytes& expanded, Bytes& public_key);
// Ed25519BaseMultiplyVartime encodes scalar * B for a little-endian scalar
// (bit 255 ignored); exposed for the tests.
std::array<std::uint8_t, 32> Ed25519BaseMultiplyVartime(const std::array<std::uint8_t, 32>& scalar);

// P-256 ECDSA with SHA-256; DER signatures.
SecretBytes P256Generate();
Result<Bytes> P256PublicFromPrivate(ByteView scalar);
Result<Bytes> P256Sign(ByteView scalar, ByteView message);
Status P256Verify(ByteView public_key, ByteView message, ByteView signature);
bool P256ValidPublicKey(ByteView public_key);

// PKCS#8 / SPKI forms (algorithm: 0 Ed25519, 1 P-256); the raw key bytes
// are biscuit's (32-byte seed or scalar, 32-byte or compressed public key).
Result<Bytes> PublicKeyToDer(int algorithm, ByteView key);
Result<std::pair<int, Bytes>> PublicKeyFromDer(ByteView der);
Result<SecretBytes> PrivateKeyToDer(int algorithm, ByteView key);
Result<std::pair<int, SecretBytes>> PrivateKeyFromDer(ByteView der);
Result<std::string> PublicKeyToPem(int algorithm, ByteView key);
Result<std::pair<int, Bytes>> PublicKeyFromPem(std::string_view pem);
Result<std::string> PrivateKeyToPem(int algorithm, ByteView key);
Result<std::pair<int, SecretBytes>> PrivateKeyFromPem(std::string_view pem);

}  // namespace kisee::biscuit::crypto
