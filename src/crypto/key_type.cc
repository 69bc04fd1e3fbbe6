#include "kisee/crypto/key_type.h"

#include <string>

namespace kisee::crypto {

std::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kEd25519:
      return "ed25519";
    case KeyType::kEd448:
      return "ed448";
    case KeyType::kSecp256r1:
      return "secp256r1";
    case KeyType::kSecp384r1:
      return "secp384r1";
    case KeyType::kSecp521r1:
      return "secp521r1";
    case KeyType::kSecp256k1:
      return "secp256k1";
  }
  return "unknown";
}

Result<KeyType> ParseKeyType(std::string_view name) {
  for (KeyType type : kAllKeyTypes) {
    if (KeyTypeName(type) == name) {
      return type;
    }
  }
  // The name may come from a command line or a file, never from a secret.
  return MakeError(ErrorCode::kInvalidArgument,
                   "unknown key type \"" + std::string(name.substr(0, 32)) +
                       "\" (expected ed25519, ed448, secp256r1, secp384r1, secp521r1 or "
                       "secp256k1)");
}

bool IsEcdsa(KeyType type) { return type != KeyType::kEd25519 && type != KeyType::kEd448; }

std::size_t FieldSize(KeyType type) {
  switch (type) {
    case KeyType::kEd25519:
      return 32;
    case KeyType::kEd448:
      return 57;
    case KeyType::kSecp256r1:
      return 32;
    case KeyType::kSecp384r1:
      return 48;
    case KeyType::kSecp521r1:
      return 66;
    case KeyType::kSecp256k1:
      return 32;
  }
  return 0;
}

std::size_t RawSignatureSize(KeyType type) {
  switch (type) {
    case KeyType::kEd25519:
      return 64;
    case KeyType::kEd448:
      return 114;
    default:
      return 2 * FieldSize(type);
  }
}

}  // namespace kisee::crypto
