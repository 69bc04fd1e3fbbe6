// Signing and verification, with a fast path per key type: libsodium for
// Ed25519, libsecp256k1 for secp256k1 (OpenSSL 3.0 has no optimised code for
// that curve: ~13x slower), OpenSSL EVP for the rest.

#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <string>

#include "crypto/internal/openssl.h"
#include "crypto/key_data.h"
#include "kisee/core/random.h"
#include "kisee/core/secret.h"
#include "kisee/crypto/digest.h"
#include "kisee/crypto/keys.h"

namespace kisee::crypto {

using internal::ClearOpenSslErrors;
using internal::KeyAccess;
using internal::OpenSslError;
using internal::UniquePtr;

namespace internal {

const secp256k1_context* Secp256k1Context() {
  static const secp256k1_context* const kContext = [] {
    secp256k1_context* context = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (context != nullptr) {
      // Randomization blinds the scalar multiplications of signing against
      // timing and power side channels; it is done once, before any thread
      // can see the context, because it mutates it.
      std::array<std::uint8_t, 32> seed{};
      FillRandom(seed);
      if (secp256k1_context_randomize(context, seed.data()) != 1) {
        secp256k1_context_destroy(context);
        context = nullptr;
      }
      SecureWipe(seed);
    }
    return context;
  }();
  return kContext;
}

}  // namespace internal

namespace {

// The largest DER ECDSA signature we produce or accept: P-521, two 66-byte
// integers with sign bytes and headers.
constexpr std::size_t kMaxDerSignatureSize = 139;

std::unexpected<Error> Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

std::unexpected<Error> BadSignature() {
  return MakeError(ErrorCode::kUnauthenticated, "signature verification failed");
}

// Empty spans may carry a null data pointer, which some C APIs reject even
// with a zero length.
const std::uint8_t* NonNull(ByteView bytes) {
  static const std::uint8_t kEmpty = 0;
  return bytes.data() != nullptr ? bytes.data() : &kEmpty;
}

// StrictDerToRaw parses a DER ECDSA-Sig-Value and returns r‖s. It refuses
// anything that is not the one DER encoding (BER leniency would make
// signatures malleable), negative values and values wider than the field.
Result<Bytes> StrictDerToRaw(KeyType type, ByteView der) {
  if (der.empty() || der.size() > kMaxDerSignatureSize) {
    return Invalid("DER signature has an invalid length");
  }
  const unsigned char* cursor = der.data();
  UniquePtr<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())));
  if (sig == nullptr) {
    ClearOpenSslErrors();
    return Invalid("malformed DER signature");
  }
  if (cursor != der.data() + der.size()) {
    return Invalid("trailing bytes after the DER signature");
  }
  std::array<std::uint8_t, kMaxDerSignatureSize> reencoded{};
  unsigned char* out = reencoded.data();
  const int length = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0 || static_cast<std::size_t>(length) != der.size() ||
      i2d_ECDSA_SIG(sig.get(), &out) != length ||
      !std::equal(der.begin(), der.end(), reencoded.begin())) {
    ClearOpenSslErrors();
    return Invalid("signature is not in canonical DER");
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  const std::size_t n = FieldSize(type);
  if (BN_is_negative(r) || BN_is_negative(s)) {
    return Invalid("negative value in the DER signature");
  }
  Bytes raw(2 * n);
  if (BN_bn2binpad(r, raw.data(), static_cast<int>(n)) < 0 ||
      BN_bn2binpad(s, raw.data() + n, static_cast<int>(n)) < 0) {
    return Invalid("DER signature value too large for " + std::string(KeyTypeName(type)));
  }
  return raw;
}

Result<Bytes> RawToDer(KeyType type, ByteView raw) {
  const std::size_t n = FieldSize(type);
  if (raw.size() != 2 * n) {
    return Invalid(std::string(KeyTypeName(type)) + " signature must be " + std::to_string(2 * n) +
                   " bytes, got " + std::to_string(raw.size()));
  }
  UniquePtr<ECDSA_SIG> sig(ECDSA_SIG_new());
  UniquePtr<BIGNUM> r(BN_bin2bn(raw.data(), static_cast<int>(n), nullptr));
  UniquePtr<BIGNUM> s(BN_bin2bn(raw.data() + n, static_cast<int>(n), nullptr));
  if (sig == nullptr || r == nullptr || s == nullptr ||
      ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return std::unexpected<Error>(OpenSslError(ErrorCode::kInternal, "encoding a signature"));
  }
  // ECDSA_SIG_set0 took ownership of both values.
  (void)r.release();
  (void)s.release();
  const int length = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0) {
    return std::unexpected<Error>(OpenSslError(ErrorCode::kInternal, "encoding a signature"));
  }
  Bytes der(static_cast<std::size_t>(length));
  unsigned char* out = der.data();
  if (i2d_ECDSA_SIG(sig.get(), &out) != length) {
    return std::unexpected<Error>(OpenSslError(ErrorCode::kInternal, "encoding a signature"));
  }
  return der;
}

Result<Bytes> SignSecp256k1(const internal::PrivateKeyData& key, ByteView message,
                            SignatureFormat format) {
  const secp256k1_context* context = internal::Secp256k1Context();
  if (context == nullptr) {
    return MakeError(ErrorCode::kInternal, "libsecp256k1 context unavailable");
  }
  const Sha256Digest digest = Sha256(message);
  secp256k1_ecdsa_signature sig;
  // Null nonce function: RFC 6979 deterministic nonces; the result is
  // already in low-s form.
  if (secp256k1_ecdsa_sign(context, &sig, digest.data(), key.raw.data(), nullptr, nullptr) != 1) {
    return MakeError(ErrorCode::kInternal, "secp256k1 signing failed");
  }
  if (format == SignatureFormat::kRaw) {
    Bytes raw(64);
    secp256k1_ecdsa_signature_serialize_compact(context, raw.data(), &sig);
    return raw;
  }
  std::array<std::uint8_t, 72> der{};
  std::size_t length = der.size();
  if (secp256k1_ecdsa_signature_serialize_der(context, der.data(), &length, &sig) != 1) {
    return MakeError(ErrorCode::kInternal, "secp256k1 DER encoding failed");
  }
  return Bytes(der.begin(), der.begin() + static_cast<std::ptrdiff_t>(length));
}

Status VerifySecp256k1(const internal::PublicKeyData& key, ByteView message, ByteView signature,
                       SignatureFormat format) {
  const secp256k1_context* context = internal::Secp256k1Context();
  if (context == nullptr) {
    return MakeError(ErrorCode::kInternal, "libsecp256k1 context unavailable");
  }
  secp256k1_ecdsa_signature sig;
  if (format == SignatureFormat::kRaw) {
    if (signature.size() != 64) {
      return Invalid("secp256k1 signature must be 64 bytes, got " +
                     std::to_string(signature.size()));
    }
    // r or s >= n: well-formed bytes that no key signs, the same answer
    // OpenSSL gives on the other curves.
    if (secp256k1_ecdsa_signature_parse_compact(context, &sig, signature.data()) != 1) {
      return BadSignature();
    }
  } else {
    // libsecp256k1 decodes values that do not fit the curve as an invalid
    // signature instead of failing; going through the strict decoder gives
    // the same answer as every other curve.
    KISEE_ASSIGN_OR_RETURN(Bytes raw, StrictDerToRaw(KeyType::kSecp256k1, signature));
    if (secp256k1_ecdsa_signature_parse_compact(context, &sig, raw.data()) != 1) {
      return BadSignature();
    }
  }
  // libsecp256k1 accepts only low-s signatures (against malleability), but
  // OpenSSL, Python's ecdsa and others emit either half: normalise first.
  secp256k1_ecdsa_signature_normalize(context, &sig, &sig);
  const Sha256Digest digest = Sha256(message);
  if (secp256k1_ecdsa_verify(context, &sig, digest.data(), &key.secp256k1_point) != 1) {
    return BadSignature();
  }
  return Ok();
}

Result<Bytes> SignEvpEcdsa(const internal::PrivateKeyData& key, ByteView message,
                           SignatureFormat format) {
  // Hash first, then sign the digest: EVP_PKEY_sign avoids the digest
  // fetch and context set-up EVP_DigestSign repeats on each call.
  const Sha256Digest digest = Sha256(message);
  UniquePtr<EVP_PKEY_CTX> context(EVP_PKEY_CTX_new_from_pkey(nullptr, key.pkey.get(), nullptr));
  if (context == nullptr || EVP_PKEY_sign_init(context.get()) != 1) {
    return std::unexpected<Error>(OpenSslError(ErrorCode::kInternal, "preparing to sign"));
  }
  std::array<std::uint8_t, kMaxDerSignatureSize> der{};
  std::size_t length = der.size();
  if (EVP_PKEY_sign(context.get(), der.data(), &length, digest.data(), digest.size()) != 1) {
    return std::unexpected<Error>(OpenSslError(ErrorCode::kInternal, "signing"));
  }
  ByteView produced(der.data(), length);
  if (format == SignatureFormat::kDer) {
    return Bytes(produced.begin(), produced.end());
  }
  return StrictDerToRaw(key.type, produced);
}

Status VerifyEvpEcdsa(const internal::PublicKeyData& key, ByteView message, ByteView signature,
                      SignatureFormat format) {
  Bytes der;
  if (format == SignatureFormat::kRaw) {
    KISEE_ASSIGN_OR_RETURN(der, RawToDer(key.type, signature));
  } else {
    // Decoding here first separates "not a signature" from "wrong
    // signature" for the caller; OpenSSL would report both as a failure.
    KISEE_RETURN_IF_ERROR(StrictDerToRaw(key.type, signature));
    der.assign(signature.begin(), signature.end());
  }
  const Sha256Digest digest = Sha256(message);
  UniquePtr<EVP_PKEY_CTX> context(EVP_PKEY_CTX_new_from_pkey(nullptr, key.pkey.get(), nullptr));
  if (context == nullptr || EVP_PKEY_verify_init(context.get()) != 1) {
    return std::unexpected<Error>(OpenSslError(ErrorCode::kInternal, "preparing to verify"));
  }
  if (EVP_PKEY_verify(context.get(), der.data(), der.size(), digest.data(), digest.size()) != 1) {
    ClearOpenSslErrors();
    return BadSignature();
  }
  return Ok();
}

Result<Bytes> SignEd448(const internal::PrivateKeyData& key, ByteView message) {
  UniquePtr<EVP_MD_CTX> context(EVP_MD_CTX_new());
  if (context == nullptr || EVP_DigestSignInit_ex(context.get(), nullptr, nullptr, nullptr, nullptr,
                                                  key.pkey.get(), nullptr) != 1) {
    return std::unexpected<Error>(OpenSslError(ErrorCode::kInternal, "preparing to sign"));
  }
  Bytes sig(RawSignatureSize(KeyType::kEd448));
  std::size_t length = sig.size();
  if (EVP_DigestSign(context.get(), sig.data(), &length, NonNull(message), message.size()) != 1 ||
      length != sig.size()) {
    return std::unexpected<Error>(OpenSslError(ErrorCode::kInternal, "signing"));
  }
  return sig;
}

Status VerifyEd448(const internal::PublicKeyData& key, ByteView message, ByteView signature) {
  if (signature.size() != RawSignatureSize(KeyType::kEd448)) {
    return Invalid("ed448 signature must be 114 bytes, got " + std::to_string(signature.size()));
  }
  UniquePtr<EVP_MD_CTX> context(EVP_MD_CTX_new());
  if (context == nullptr || EVP_DigestVerifyInit_ex(context.get(), nullptr, nullptr, nullptr,
                                                    nullptr, key.pkey.get(), nullptr) != 1) {
    return std::unexpected<Error>(OpenSslError(ErrorCode::kInternal, "preparing to verify"));
  }
  if (EVP_DigestVerify(context.get(), signature.data(), signature.size(), NonNull(message),
                       message.size()) != 1) {
    ClearOpenSslErrors();
    return BadSignature();
  }
  return Ok();
}

}  // namespace

Result<Bytes> PrivateKey::Sign(ByteView message, SignatureFormat format) const {
  const internal::PrivateKeyData& key = *data_;
  switch (key.type) {
    case KeyType::kEd25519: {
      Bytes sig(crypto_sign_BYTES);
      // crypto_sign_detached cannot fail with a valid secret key.
      crypto_sign_detached(sig.data(), nullptr, NonNull(message), message.size(),
                           key.sodium_secret.data());
      return sig;
    }
    case KeyType::kEd448:
      return SignEd448(key, message);
    case KeyType::kSecp256k1:
      return SignSecp256k1(key, message, format);
    default:
      return SignEvpEcdsa(key, message, format);
  }
}

Status PublicKey::Verify(ByteView message, ByteView signature, SignatureFormat format) const {
  const internal::PublicKeyData& key = *data_;
  switch (key.type) {
    case KeyType::kEd25519:
      if (signature.size() != crypto_sign_BYTES) {
        return Invalid("ed25519 signature must be 64 bytes, got " +
                       std::to_string(signature.size()));
      }
      // libsodium rejects non-canonical s and small-order keys and R.
      if (crypto_sign_verify_detached(signature.data(), NonNull(message), message.size(),
                                      key.raw.data()) != 0) {
        return BadSignature();
      }
      return Ok();
    case KeyType::kEd448:
      return VerifyEd448(key, message, signature);
    case KeyType::kSecp256k1:
      return VerifySecp256k1(key, message, signature, format);
    default:
      return VerifyEvpEcdsa(key, message, signature, format);
  }
}

Result<Bytes> DerToRawSignature(KeyType type, ByteView der) {
  if (!IsEcdsa(type)) {
    return Invalid("EdDSA signatures have no DER form");
  }
  return StrictDerToRaw(type, der);
}

Result<Bytes> RawToDerSignature(KeyType type, ByteView raw) {
  if (!IsEcdsa(type)) {
    return Invalid("EdDSA signatures have no DER form");
  }
  return RawToDer(type, raw);
}

}  // namespace kisee::crypto
