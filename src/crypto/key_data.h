// What a PublicKey / PrivateKey holds: the OpenSSL key plus the forms the
// fast paths and the encoders need, computed once when the key is made.
// Private to the crypto library (other libraries use internal/evp_key.h).
#pragma once

#include <secp256k1.h>

#include <memory>

#include "crypto/internal/openssl.h"
#include "kisee/core/bytes.h"
#include "kisee/core/secret.h"
#include "kisee/crypto/digest.h"
#include "kisee/crypto/key_type.h"
#include "kisee/crypto/keys.h"

namespace kisee::crypto::internal {

struct PublicKeyData {
  KeyType type;
  UniquePtr<EVP_PKEY> pkey;
  Bytes spki_der;
  // EdDSA: the raw public key. EC: the uncompressed SEC1 point 0x04‖x‖y.
  Bytes raw;
  Sha256Digest fingerprint;
  // kSecp256k1 only: the point parsed once for libsecp256k1.
  secp256k1_pubkey secp256k1_point{};
};

struct PrivateKeyData {
  KeyType type;
  UniquePtr<EVP_PKEY> pkey;
  PublicKey public_key;
  // EdDSA: the seed. EC: the big-endian scalar, FieldSize bytes.
  SecretBytes raw;
  // kEd25519 only: libsodium's 64-byte secret key (seed‖public key).
  SecretBytes sodium_secret;
};

// KeyAccess is the crypto library's door into the key classes.
struct KeyAccess {
  static PublicKey MakePublic(std::shared_ptr<const PublicKeyData> data) {
    return PublicKey(std::move(data));
  }
  static PrivateKey MakePrivate(std::shared_ptr<const PrivateKeyData> data) {
    return PrivateKey(std::move(data));
  }
  static const PublicKeyData& Data(const PublicKey& key) { return *key.data_; }
  static const PrivateKeyData& Data(const PrivateKey& key) { return *key.data_; }
};

// Secp256k1Context returns the process-wide libsecp256k1 context, randomized
// once against side channels; nullptr only if libsecp256k1 could not make
// one. Read-only after creation, so shared by every thread.
const secp256k1_context* Secp256k1Context();

}  // namespace kisee::crypto::internal
