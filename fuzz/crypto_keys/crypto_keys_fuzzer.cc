// Feeds arbitrary bytes to every key parser and to signature verification:
// each must return an error or a key, never crash, leak or throw.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kisee/crypto/keys.h"

using kisee::ByteView;
using kisee::crypto::KeyType;
using kisee::crypto::PrivateKey;
using kisee::crypto::PublicKey;
using kisee::crypto::SignatureFormat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView bytes(data, size);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)PrivateKey::FromPem(text);
  (void)PublicKey::FromPem(text);
  (void)PrivateKey::FromDer(bytes);
  auto pub = PublicKey::FromDer(bytes);
  if (pub) {
    (void)pub->Verify(bytes, bytes, SignatureFormat::kDer);
  }
  if (size > 0) {
    // The first byte picks a key type; the rest is a raw key.
    const KeyType type = kisee::crypto::kAllKeyTypes[data[0] % kisee::crypto::kAllKeyTypes.size()];
    (void)PrivateKey::FromRaw(type, bytes.subspan(1));
    auto raw = PublicKey::FromRaw(type, bytes.subspan(1));
    if (raw) {
      (void)raw->Verify(bytes, bytes.subspan(1), SignatureFormat::kRaw);
      (void)raw->Verify(bytes, bytes.subspan(1), SignatureFormat::kDer);
    }
    (void)kisee::crypto::DerToRawSignature(type, bytes.subspan(1));
  }
  return 0;
}
