// Asymmetric keys: generation, PEM/DER/raw encodings, signatures.
//
// PublicKey and PrivateKey are immutable values that share their parsed key:
// copying one is a reference-count increment, and every method is safe to
// call from several threads at once. A key is parsed and checked once, when
// made; signing and verifying never re-parse it.
//
// Signatures: ECDSA with SHA-256 on every curve (certified.md §2), EdDSA
// (pure, no pre-hash) for Ed25519/Ed448. Ed25519 goes through libsodium,
// secp256k1 through libsecp256k1, the others through OpenSSL; callers never
// choose.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "kisee/core/bytes.h"
#include "kisee/core/error.h"
#include "kisee/core/secret.h"
#include "kisee/crypto/digest.h"
#include "kisee/crypto/key_type.h"

namespace kisee::crypto {

namespace internal {
struct KeyAccess;
struct PublicKeyData;
struct PrivateKeyData;
}  // namespace internal

// SignatureFormat says how ECDSA signatures are encoded. EdDSA signatures
// have one encoding (RFC 8032), used whatever the format says.
enum class SignatureFormat {
  kRaw,  // r‖s, each left-padded to FieldSize(type): JOSE (RFC 7518 §3.4), IEEE P1363
  kDer,  // ASN.1 DER SEQUENCE { r INTEGER, s INTEGER } (X.509, TLS, biscuit)
};

// PointFormat chooses the SEC1 encoding of an EC public point (SEC1 §2.3.3).
enum class PointFormat {
  kCompressed,    // 0x02/0x03 ‖ x: 33 bytes for P-256 and secp256k1
  kUncompressed,  // 0x04 ‖ x ‖ y: 65 bytes for P-256 and secp256k1
};

// PrivateKeyEncoding chooses the ASN.1 structure of a serialized private key.
enum class PrivateKeyEncoding {
  kPkcs8,  // PKCS#8 PrivateKeyInfo, PEM label "PRIVATE KEY" (every key type)
  kSec1,   // SEC1 ECPrivateKey, PEM label "EC PRIVATE KEY" (EC keys only)
};

// AffinePoint holds the coordinates of a public key as JWK wants them
// (RFC 7518 §6.2.1, RFC 8037 §2): for EC keys x and y, big-endian, each
// FieldSize bytes; for EdDSA keys x is the raw public key and y is empty.
struct AffinePoint {
  Bytes x;
  Bytes y;
};

// PublicKey is a verified public key of one of the KeyTypes.
class PublicKey {
 public:
  // FromPem parses one PEM "PUBLIC KEY" block (SPKI). Text around the block
  // is ignored. Errors (kInvalidArgument): no block, another label, bad
  // base64 or DER, a key type outside KeyType, a point not on its curve.
  static Result<PublicKey> FromPem(std::string_view pem);

  // FromDer parses a DER SubjectPublicKeyInfo; errors as FromPem.
  static Result<PublicKey> FromDer(ByteView spki_der);

  // FromRaw makes a key from its raw encoding: for EdDSA the 32/57-byte
  // public key, for EC a SEC1 point, compressed or uncompressed (the point at
  // infinity and points off the curve are refused). kInvalidArgument on a
  // wrong length or an invalid point.
  static Result<PublicKey> FromRaw(KeyType type, ByteView raw);

  // FromAffine makes an EC key from its coordinates (JWK "x"/"y", each
  // exactly FieldSize bytes), or an EdDSA key from x alone (y must be empty).
  static Result<PublicKey> FromAffine(KeyType type, ByteView x, ByteView y);

  KeyType type() const;

  // spki_der returns the DER SubjectPublicKeyInfo (borrowed from the key).
  const Bytes& spki_der() const;

  // ToPem returns the SPKI as a PEM "PUBLIC KEY" block, lines of 64
  // characters, ending with a newline.
  std::string ToPem() const;

  // ToRaw returns the raw public key: for EC the SEC1 point in `format`, for
  // EdDSA the 32/57 bytes (`format` ignored).
  Bytes ToRaw(PointFormat format = PointFormat::kCompressed) const;

  // ToAffine returns the JWK coordinates (see AffinePoint).
  AffinePoint ToAffine() const;

  // Fingerprint returns SHA-256 of the SPKI DER: a stable key id.
  const Sha256Digest& Fingerprint() const;

  // Verify checks `signature` over `message`. Errors: kInvalidArgument when
  // the signature cannot be decoded (wrong length, not canonical DER, a
  // negative value), kUnauthenticated when it decodes but does not verify.
  // ECDSA signatures with a high s are accepted (other libraries emit them).
  Status Verify(ByteView message, ByteView signature,
                SignatureFormat format = SignatureFormat::kRaw) const;

  // Two keys are equal when they have the same type and the same point.
  friend bool operator==(const PublicKey& a, const PublicKey& b);

 private:
  friend struct internal::KeyAccess;
  explicit PublicKey(std::shared_ptr<const internal::PublicKeyData> data);
  std::shared_ptr<const internal::PublicKeyData> data_;
};

// PrivateKey is a checked private key and its public key.
class PrivateKey {
 public:
  // Generate makes a new random key of `type`. kInternal if the system's
  // generator or OpenSSL fails.
  static Result<PrivateKey> Generate(KeyType type);

  // FromPem parses a PEM private key: SEC1 "EC PRIVATE KEY" (any supported
  // curve, including secp256k1) or PKCS#8 "PRIVATE KEY". A leading "EC
  // PARAMETERS" block (as `openssl ecparam -genkey` writes) is skipped.
  // Encrypted keys, other labels, several key blocks, bad base64 or DER, and
  // key types outside KeyType are kInvalidArgument. The public key is always
  // recomputed from the private one; a public key stored in the file is not
  // trusted.
  static Result<PrivateKey> FromPem(std::string_view pem);

  // FromDer parses a DER PKCS#8 PrivateKeyInfo or SEC1 ECPrivateKey.
  static Result<PrivateKey> FromDer(ByteView der);

  // FromRaw makes a key from its raw private part: for EdDSA the 32/57-byte
  // seed, for EC the big-endian scalar of exactly FieldSize bytes, in
  // [1, order-1]. kInvalidArgument otherwise.
  static Result<PrivateKey> FromRaw(KeyType type, ByteView raw);

  KeyType type() const;

  // public_key returns the matching public key (borrowed from this key; copy
  // it to keep it longer).
  const PublicKey& public_key() const;

  // ToPem / ToDer serialize the key. kSec1 for an EdDSA key is
  // kInvalidArgument.
  Result<SecretBytes> ToPem(PrivateKeyEncoding encoding = PrivateKeyEncoding::kPkcs8) const;
  Result<SecretBytes> ToDer(PrivateKeyEncoding encoding = PrivateKeyEncoding::kPkcs8) const;

  // ToRaw returns the raw private part (see FromRaw).
  SecretBytes ToRaw() const;

  // Sign signs `message` (ECDSA: SHA-256 of it; EdDSA: the message itself).
  // ECDSA signatures are randomized except on secp256k1 (RFC 6979,
  // deterministic, low s). kInternal if the underlying library fails.
  Result<Bytes> Sign(ByteView message, SignatureFormat format = SignatureFormat::kRaw) const;

 private:
  friend struct internal::KeyAccess;
  explicit PrivateKey(std::shared_ptr<const internal::PrivateKeyData> data);
  std::shared_ptr<const internal::PrivateKeyData> data_;
};

// DerToRawSignature converts an ECDSA DER signature to r‖s for `type`.
// kInvalidArgument on non-DER input or an r/s wider than FieldSize, or when
// `type` is EdDSA.
Result<Bytes> DerToRawSignature(KeyType type, ByteView der);

// RawToDerSignature converts an r‖s signature of `type` to DER.
// kInvalidArgument on a length other than RawSignatureSize, or an EdDSA type.
Result<Bytes> RawToDerSignature(KeyType type, ByteView raw);

}  // namespace kisee::crypto
