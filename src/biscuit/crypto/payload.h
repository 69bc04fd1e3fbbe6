// The byte strings that block, external and seal signatures cover
// (SPECIFICATIONS.md "Signed payload generation").
#pragma once

#include <optional>

#include "kisee/biscuit/keys.h"

namespace kisee::biscuit::crypto {

// Block payload v0: data [+ external signature] + alg(next) + next key.
Bytes BlockPayloadV0(ByteView data, const PublicKey& next_key, std::optional<ByteView> external);
// Authority payload v1.
Bytes AuthorityPayloadV1(ByteView data, const PublicKey& next_key, std::uint32_t version);
// Block payload v1 (blocks after the authority).
Bytes BlockPayloadV1(ByteView data, const PublicKey& next_key, ByteView previous_signature,
                     std::optional<ByteView> external, std::uint32_t version);
// External (third-party) payload v1.
Bytes ExternalPayloadV1(ByteView data, ByteView previous_signature, std::uint32_t version);
// Seal payload: data + alg(next) + next key + signature of the last block.
Bytes SealPayload(ByteView data, const PublicKey& next_key, ByteView signature);

}  // namespace kisee::biscuit::crypto
