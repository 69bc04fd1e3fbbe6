// The closed set of asymmetric key types the project uses (certified.md §2).
// No RSA.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "kisee/core/error.h"

namespace kisee::crypto {

// KeyType names a signature key type. The names are those of certified.md.
enum class KeyType {
  kEd25519,    // "ed25519": EdDSA, RFC 8032
  kEd448,      // "ed448": EdDSA, RFC 8032
  kSecp256r1,  // "secp256r1": NIST P-256, ECDSA with SHA-256
  kSecp384r1,  // "secp384r1": NIST P-384, ECDSA with SHA-256
  kSecp521r1,  // "secp521r1": NIST P-521, ECDSA with SHA-256
  kSecp256k1,  // "secp256k1": the Bitcoin curve, ECDSA with SHA-256
};

// kAllKeyTypes lists every KeyType, in declaration order.
inline constexpr std::array<KeyType, 6> kAllKeyTypes = {
    KeyType::kEd25519,   KeyType::kEd448,     KeyType::kSecp256r1,
    KeyType::kSecp384r1, KeyType::kSecp521r1, KeyType::kSecp256k1,
};

// KeyTypeName returns the certified.md name of `type` ("ed25519", "secp256r1", ...).
std::string_view KeyTypeName(KeyType type);

// ParseKeyType is the inverse of KeyTypeName: exact, case-sensitive names
// only. Any other text is kInvalidArgument.
Result<KeyType> ParseKeyType(std::string_view name);

// IsEcdsa returns true for the four elliptic curves (ECDSA keys), false for
// the EdDSA key types.
bool IsEcdsa(KeyType type);

// FieldSize returns the byte length of one coordinate (EC) or of the raw key
// (EdDSA): 32 for ed25519, 57 for ed448, 32/48/66 for P-256/P-384/P-521, 32
// for secp256k1. It is the width of the raw private key and of each half of a
// raw r‖s signature.
std::size_t FieldSize(KeyType type);

// RawSignatureSize returns the length of a raw signature: 2 * FieldSize for
// ECDSA (r‖s), 64 for Ed25519, 114 for Ed448.
std::size_t RawSignatureSize(KeyType type);

}  // namespace kisee::crypto
