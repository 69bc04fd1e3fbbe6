#include "biscuit/crypto/payload.h"

namespace kisee::biscuit::crypto {
namespace {

void Append(Bytes& out, std::string_view text) { out.insert(out.end(), text.begin(), text.end()); }
void Append(Bytes& out, ByteView bytes) { out.insert(out.end(), bytes.begin(), bytes.end()); }
void AppendLe32(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
// Literal tags contain NUL bytes, so their lengths are explicit.
constexpr std::string_view Tag(const char* s, std::size_t n) { return {s, n - 1}; }
#define BISCUIT_TAG(s) Tag(s, sizeof(s))

}  // namespace

Bytes BlockPayloadV0(ByteView data, const PublicKey& next_key, std::optional<ByteView> external) {
  Bytes out;
  Append(out, data);
  if (external.has_value()) Append(out, *external);
  AppendLe32(out, static_cast<std::uint32_t>(next_key.algorithm()));
  Append(out, ByteView(next_key.bytes()));
  return out;
}

Bytes AuthorityPayloadV1(ByteView data, const PublicKey& next_key, std::uint32_t version) {
  Bytes out;
  Append(out, BISCUIT_TAG("\0BLOCK\0\0VERSION\0"));
  AppendLe32(out, version);
  Append(out, BISCUIT_TAG("\0PAYLOAD\0"));
  Append(out, data);
  Append(out, BISCUIT_TAG("\0ALGORITHM\0"));
  AppendLe32(out, static_cast<std::uint32_t>(next_key.algorithm()));
  Append(out, BISCUIT_TAG("\0NEXTKEY\0"));
  Append(out, ByteView(next_key.bytes()));
  return out;
}

Bytes BlockPayloadV1(ByteView data, const PublicKey& next_key, ByteView previous_signature,
                     std::optional<ByteView> external, std::uint32_t version) {
  Bytes out = AuthorityPayloadV1(data, next_key, version);
  Append(out, BISCUIT_TAG("\0PREVSIG\0"));
  Append(out, previous_signature);
  if (external.has_value()) {
    Append(out, BISCUIT_TAG("\0EXTERNALSIG\0"));
    Append(out, *external);
  }
  return out;
}

Bytes ExternalPayloadV1(ByteView data, ByteView previous_signature, std::uint32_t version) {
  Bytes out;
  Append(out, BISCUIT_TAG("\0EXTERNAL\0\0VERSION\0"));
  AppendLe32(out, version);
  Append(out, BISCUIT_TAG("\0PAYLOAD\0"));
  Append(out, data);
  Append(out, BISCUIT_TAG("\0PREVSIG\0"));
  Append(out, previous_signature);
  return out;
}

Bytes SealPayload(ByteView data, const PublicKey& next_key, ByteView signature) {
  Bytes out = BlockPayloadV0(data, next_key, std::nullopt);
  Append(out, signature);
  return out;
}

}  // namespace kisee::biscuit::crypto
