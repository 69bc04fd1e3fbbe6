#include "biscuit/crypto/payload.h"

namespace kisee::biscuit::crypto {
namespace {

// Literal tags contain NUL bytes, so their lengths are explicit.
constexpr std::string_view Tag(const char* s, std::size_t n) { return {s, n - 1}; }
#define BISCUIT_TAG(s) Tag(s, sizeof(s))

constexpr std::string_view kBlockVersion = BISCUIT_TAG("\0BLOCK\0\0VERSION\0");
constexpr std::string_view kExternalVersion = BISCUIT_TAG("\0EXTERNAL\0\0VERSION\0");
constexpr std::string_view kPayload = BISCUIT_TAG("\0PAYLOAD\0");
constexpr std::string_view kAlgorithm = BISCUIT_TAG("\0ALGORITHM\0");
constexpr std::string_view kNextKey = BISCUIT_TAG("\0NEXTKEY\0");
constexpr std::string_view kPreviousSignature = BISCUIT_TAG("\0PREVSIG\0");
constexpr std::string_view kExternalSignature = BISCUIT_TAG("\0EXTERNALSIG\0");

void Append(Bytes& out, std::string_view text) { out.insert(out.end(), text.begin(), text.end()); }
void Append(Bytes& out, ByteView bytes) { out.insert(out.end(), bytes.begin(), bytes.end()); }
void AppendLe32(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// The builders below reserve their exact size first: a payload is built for
// every signature checked, and growing it step by step reallocated it twice.
std::size_t AuthorityV1Size(ByteView data, const PublicKey& next_key) {
  return kBlockVersion.size() + 4 + kPayload.size() + data.size() + kAlgorithm.size() + 4 +
         kNextKey.size() + next_key.bytes().size();
}

void AppendAuthorityV1(Bytes& out, ByteView data, const PublicKey& next_key,
                       std::uint32_t version) {
  Append(out, kBlockVersion);
  AppendLe32(out, version);
  Append(out, kPayload);
  Append(out, data);
  Append(out, kAlgorithm);
  AppendLe32(out, static_cast<std::uint32_t>(next_key.algorithm()));
  Append(out, kNextKey);
  Append(out, ByteView(next_key.bytes()));
}

}  // namespace

Bytes BlockPayloadV0(ByteView data, const PublicKey& next_key, std::optional<ByteView> external) {
  Bytes out;
  out.reserve(data.size() + (external.has_value() ? external->size() : 0) + 4 +
              next_key.bytes().size());
  Append(out, data);
  if (external.has_value()) Append(out, *external);
  AppendLe32(out, static_cast<std::uint32_t>(next_key.algorithm()));
  Append(out, ByteView(next_key.bytes()));
  return out;
}

Bytes AuthorityPayloadV1(ByteView data, const PublicKey& next_key, std::uint32_t version) {
  Bytes out;
  out.reserve(AuthorityV1Size(data, next_key));
  AppendAuthorityV1(out, data, next_key, version);
  return out;
}

Bytes BlockPayloadV1(ByteView data, const PublicKey& next_key, ByteView previous_signature,
                     std::optional<ByteView> external, std::uint32_t version) {
  Bytes out;
  out.reserve(AuthorityV1Size(data, next_key) + kPreviousSignature.size() +
              previous_signature.size() +
              (external.has_value() ? kExternalSignature.size() + external->size() : 0));
  AppendAuthorityV1(out, data, next_key, version);
  Append(out, kPreviousSignature);
  Append(out, previous_signature);
  if (external.has_value()) {
    Append(out, kExternalSignature);
    Append(out, *external);
  }
  return out;
}

Bytes ExternalPayloadV1(ByteView data, ByteView previous_signature, std::uint32_t version) {
  Bytes out;
  out.reserve(kExternalVersion.size() + 4 + kPayload.size() + data.size() +
              kPreviousSignature.size() + previous_signature.size());
  Append(out, kExternalVersion);
  AppendLe32(out, version);
  Append(out, kPayload);
  Append(out, data);
  Append(out, kPreviousSignature);
  Append(out, previous_signature);
  return out;
}

Bytes SealPayload(ByteView data, const PublicKey& next_key, ByteView signature) {
  Bytes out;
  out.reserve(data.size() + 4 + next_key.bytes().size() + signature.size());
  Append(out, data);
  AppendLe32(out, static_cast<std::uint32_t>(next_key.algorithm()));
  Append(out, ByteView(next_key.bytes()));
  Append(out, signature);
  return out;
}

}  // namespace kisee::biscuit::crypto
