// P-256 and key serialisation for biscuit keys, on kisee::crypto: biscuit
// stores P-256 keys as a 32-byte scalar and a 33-byte compressed point, and
// signs with ECDSA-SHA256 in DER (SPECIFICATIONS.md, "secp256r1").
#include <cstdlib>

#include "biscuit/crypto/crypto.h"
#include "kisee/crypto/keys.h"

namespace kisee::biscuit::crypto {
namespace {

using kisee::crypto::KeyType;

Error KeyError(const kisee::Error& error) { return Error(ErrorKind::kInvalidKey, error.message()); }

KeyType ToKeyType(int algorithm) {
  return algorithm == 0 ? KeyType::kEd25519 : KeyType::kSecp256r1;
}

// FromKeyType maps the two key types biscuit knows to its algorithm numbers.
Result<int> FromKeyType(KeyType type) {
  switch (type) {
    case KeyType::kEd25519:
      return 0;
    case KeyType::kSecp256r1:
      return 1;
    default:
      return MakeError(ErrorKind::kInvalidKey, "biscuit keys are Ed25519 or P-256");
  }
}

}  // namespace

SecretBytes P256Generate() {
  // Generation fails only without a working entropy source or OpenSSL
  // provider; nothing can be signed safely then.
  auto key = kisee::crypto::PrivateKey::Generate(KeyType::kSecp256r1);
  if (!key) std::abort();
  return key->ToRaw();
}

Result<Bytes> P256PublicFromPrivate(ByteView scalar) {
  auto key = kisee::crypto::PrivateKey::FromRaw(KeyType::kSecp256r1, scalar);
  if (!key) return std::unexpected(KeyError(key.error()));
  return key->public_key().ToRaw(kisee::crypto::PointFormat::kCompressed);
}

bool P256ValidPublicKey(ByteView key) {
  return key.size() == kP256PublicKeySize && (key[0] == 2 || key[0] == 3) &&
         kisee::crypto::PublicKey::FromRaw(KeyType::kSecp256r1, key).has_value();
}

Result<Bytes> P256Sign(ByteView scalar, ByteView message) {
  auto key = kisee::crypto::PrivateKey::FromRaw(KeyType::kSecp256r1, scalar);
  if (!key) return std::unexpected(KeyError(key.error()));
  auto signature = key->Sign(message, kisee::crypto::SignatureFormat::kDer);
  if (!signature) return std::unexpected(KeyError(signature.error()));
  return *signature;
}

Status P256Verify(ByteView public_key, ByteView message, ByteView signature) {
  if (!P256ValidPublicKey(public_key)) {
    return MakeError(ErrorKind::kInvalidKey, "invalid P-256 public key");
  }
  // Malformed DER is a deserialization error, not a failed verification.
  if (!kisee::crypto::DerToRawSignature(KeyType::kSecp256r1, signature)) {
    return MakeError(ErrorKind::kSignatureDeserialization,
                     "block signature deserialization error: invalid DER ECDSA signature");
  }
  auto key = kisee::crypto::PublicKey::FromRaw(KeyType::kSecp256r1, public_key);
  if (!key) return std::unexpected(KeyError(key.error()));
  if (!key->Verify(message, signature, kisee::crypto::SignatureFormat::kDer)) {
    return MakeError(ErrorKind::kInvalidSignature, "signature error: invalid P-256 signature");
  }
  return {};
}

Result<Bytes> PublicKeyToDer(int algorithm, ByteView key) {
  auto parsed = kisee::crypto::PublicKey::FromRaw(ToKeyType(algorithm), key);
  if (!parsed) return std::unexpected(KeyError(parsed.error()));
  return parsed->spki_der();
}

Result<std::pair<int, Bytes>> PublicKeyFromDer(ByteView der) {
  auto key = kisee::crypto::PublicKey::FromDer(der);
  if (!key) return std::unexpected(KeyError(key.error()));
  KISEE_ASSIGN_OR_RETURN(int algorithm, FromKeyType(key->type()));
  return std::make_pair(algorithm, key->ToRaw(kisee::crypto::PointFormat::kCompressed));
}

Result<SecretBytes> PrivateKeyToDer(int algorithm, ByteView key) {
  auto parsed = kisee::crypto::PrivateKey::FromRaw(ToKeyType(algorithm), key);
  if (!parsed) return std::unexpected(KeyError(parsed.error()));
  auto der = parsed->ToDer(kisee::crypto::PrivateKeyEncoding::kPkcs8);
  if (!der) return std::unexpected(KeyError(der.error()));
  return std::move(*der);
}

Result<std::pair<int, SecretBytes>> PrivateKeyFromDer(ByteView der) {
  auto key = kisee::crypto::PrivateKey::FromDer(der);
  if (!key) return std::unexpected(KeyError(key.error()));
  KISEE_ASSIGN_OR_RETURN(int algorithm, FromKeyType(key->type()));
  return std::make_pair(algorithm, key->ToRaw());
}

Result<std::pair<int, Bytes>> PublicKeyFromPem(std::string_view pem) {
  auto key = kisee::crypto::PublicKey::FromPem(pem);
  if (!key) return std::unexpected(KeyError(key.error()));
  return PublicKeyFromDer(key->spki_der());
}

Result<std::pair<int, SecretBytes>> PrivateKeyFromPem(std::string_view pem) {
  auto key = kisee::crypto::PrivateKey::FromPem(pem);
  if (!key) return std::unexpected(KeyError(key.error()));
  KISEE_ASSIGN_OR_RETURN(int algorithm, FromKeyType(key->type()));
  return std::make_pair(algorithm, key->ToRaw());
}

Result<std::string> PublicKeyToPem(int algorithm, ByteView key) {
  auto parsed = kisee::crypto::PublicKey::FromRaw(ToKeyType(algorithm), key);
  if (!parsed) return std::unexpected(KeyError(parsed.error()));
  return parsed->ToPem();
}

Result<std::string> PrivateKeyToPem(int algorithm, ByteView key) {
  auto parsed = kisee::crypto::PrivateKey::FromRaw(ToKeyType(algorithm), key);
  if (!parsed) return std::unexpected(KeyError(parsed.error()));
  auto pem = parsed->ToPem(kisee::crypto::PrivateKeyEncoding::kPkcs8);
  if (!pem) return std::unexpected(KeyError(pem.error()));
  return std::string(pem->chars());
}

}  // namespace kisee::biscuit::crypto
