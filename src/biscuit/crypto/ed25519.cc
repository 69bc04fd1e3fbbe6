// Ed25519 through libsodium: about twice as fast as OpenSSL 3.0 here, and its
// verification rejects non-canonical signatures and small-order keys, like
// the reference's strict verification.
#include <fmt/format.h>
#include <sodium.h>

#include "biscuit/crypto/crypto.h"

namespace kisee::biscuit::crypto {
namespace {

void EnsureInit() {
  static const bool ok = sodium_init() >= 0;
  (void)ok;
}

}  // namespace

void Ed25519FromSeed(ByteView seed, SecretBytes& expanded, Bytes& public_key) {
  EnsureInit();
  expanded = SecretBytes(crypto_sign_SECRETKEYBYTES);
  public_key.assign(crypto_sign_PUBLICKEYBYTES, 0);
  crypto_sign_seed_keypair(public_key.data(), expanded.data(), seed.data());
}

Bytes Ed25519Sign(const SecretBytes& expanded, ByteView message) {
  EnsureInit();
  Bytes signature(crypto_sign_BYTES);
  crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(), expanded.data());
  return signature;
}

Status Ed25519Verify(ByteView public_key, ByteView message, ByteView signature) {
  EnsureInit();
  if (signature.size() != crypto_sign_BYTES) {
    // The reference reports the first bytes of the bad signature.
    std::string shown;
    for (std::size_t i = 0; i < signature.size() && i < 16; ++i) {
      shown += (i == 0 ? "" : ", ") + std::to_string(signature[i]);
    }
    return MakeError(ErrorKind::kSignatureDeserialization,
                     fmt::format("block signature deserialization error: [{}]", shown));
  }
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES) {
    return MakeError(ErrorKind::kInvalidKey, "invalid Ed25519 public key size");
  }
  if (crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                  public_key.data()) != 0) {
    return MakeError(ErrorKind::kInvalidSignature,
                     "signature error: Verification equation was not satisfied");
  }
  return {};
}

bool Ed25519ValidPublicKey(ByteView public_key) {
  return public_key.size() == crypto_sign_PUBLICKEYBYTES;
}

}  // namespace kisee::biscuit::crypto
