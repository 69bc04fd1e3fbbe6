#include "kisee/pki/scope.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "pki/internal/pki.h"

namespace kisee::pki {
namespace {

constexpr Uuid kUrlNamespace = {0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
                                0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

// kScopeNamespaceName is hashed once into the namespace (see scope.h).
constexpr std::string_view kScopeNamespaceName = "urn:certified:scope";

constexpr std::size_t kMaxScopeBytes = 200;

}  // namespace

Uuid UuidV5(const Uuid& name_space, std::string_view name) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  internal::UniquePtr<EVP_MD_CTX> context(EVP_MD_CTX_new());
  // SHA-1 is what RFC 4122 name-based v5 UUIDs are defined with; it names
  // things here, it does not protect anything.
  bool ok = context && EVP_DigestInit_ex(context.get(), EVP_sha1(), nullptr) == 1 &&
            EVP_DigestUpdate(context.get(), name_space.data(), name_space.size()) == 1 &&
            EVP_DigestUpdate(context.get(), name.data(), name.size()) == 1 &&
            EVP_DigestFinal_ex(context.get(), digest, &length) == 1;
  if (!ok || length < 16) {
    // SHA-1 in the default provider does not fail short of memory
    // exhaustion; there is no sensible value to return then.
    OPENSSL_die("SHA-1 unavailable", __FILE__, __LINE__);
  }
  Uuid uuid;
  std::copy(digest, digest + 16, uuid.begin());
  uuid[6] = static_cast<std::uint8_t>((uuid[6] & 0x0f) | 0x50);
  uuid[8] = static_cast<std::uint8_t>((uuid[8] & 0x3f) | 0x80);
  return uuid;
}

std::string UuidToString(const Uuid& uuid) {
  std::string hex = HexEncode(ByteView(uuid.data(), uuid.size()));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

const Uuid& ScopeNamespace() {
  static const Uuid kNamespace = UuidV5(kUrlNamespace, kScopeNamespaceName);
  return kNamespace;
}

std::string ScopeOid(std::string_view scope) {
  Uuid uuid = UuidV5(ScopeNamespace(), scope);
  internal::UniquePtr<BIGNUM> number(
      BN_bin2bn(uuid.data(), static_cast<int>(uuid.size()), nullptr));
  char* decimal = number ? BN_bn2dec(number.get()) : nullptr;
  if (decimal == nullptr) OPENSSL_die("out of memory", __FILE__, __LINE__);
  std::string oid = "2.25." + std::string(decimal);
  OPENSSL_free(decimal);
  return oid;
}

Status ValidateScope(std::string_view scope) {
  if (scope.empty()) return MakeError(ErrorCode::kInvalidArgument, "a scope cannot be empty");
  if (scope.size() > kMaxScopeBytes) {
    return MakeError(ErrorCode::kInvalidArgument, "a scope is at most 200 bytes");
  }
  for (char c : scope) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      return MakeError(ErrorCode::kInvalidArgument, "a scope cannot contain control characters");
    }
  }
  return Ok();
}

}  // namespace kisee::pki
