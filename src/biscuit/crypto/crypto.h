// The raw signature primitives behind biscuit keys, isolated here so they can
// later move onto kisee::crypto without touching the token code.
#pragma once

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

// P-256 ECDSA with SHA-256 through OpenSSL; DER signatures.
SecretBytes P256Generate();
Result<Bytes> P256PublicFromPrivate(ByteView scalar);
Result<Bytes> P256Sign(ByteView scalar, ByteView message);
Status P256Verify(ByteView public_key, ByteView message, ByteView signature);
bool P256ValidPublicKey(ByteView public_key);

// PEM / DER through OpenSSL (algorithm: 0 Ed25519, 1 P-256).
Result<Bytes> PublicKeyToDer(int algorithm, ByteView key);
Result<std::pair<int, Bytes>> PublicKeyFromDer(ByteView der);
Result<SecretBytes> PrivateKeyToDer(int algorithm, ByteView key);
Result<std::pair<int, SecretBytes>> PrivateKeyFromDer(ByteView der);
// PEM armour of DER with the given label ("PUBLIC KEY", "PRIVATE KEY").
std::string ToPem(ByteView der, std::string_view label);
Result<SecretBytes> FromPem(std::string_view pem, std::string_view label);

}  // namespace kisee::biscuit::crypto
