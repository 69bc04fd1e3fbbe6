#include "kisee/crypto/digest.h"

#include <sodium.h>

#include "kisee/core/secret.h"

namespace kisee::crypto {

// libsodium rather than OpenSSL: its hashing functions cannot fail, so these
// helpers need no error path, and the messages hashed here are short (JWT
// signing inputs, key DER) where the two are equally fast.

Sha256Digest Sha256(ByteView data) {
  Sha256Digest digest;
  crypto_hash_sha256(digest.data(), data.data(), data.size());
  return digest;
}

Sha256Digest HmacSha256(ByteView key, ByteView data) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  crypto_auth_hmacsha256_update(&state, data.data(), data.size());
  Sha256Digest mac;
  crypto_auth_hmacsha256_final(&state, mac.data());
  // The state holds the key-derived pads: wipe it like the key itself.
  sodium_memzero(&state, sizeof(state));
  return mac;
}

bool VerifyHmacSha256(ByteView key, ByteView data, ByteView mac) {
  Sha256Digest expected = HmacSha256(key, data);
  return ConstantTimeEquals(ByteView(expected), mac);
}

}  // namespace kisee::crypto
