// SHA-256 and HMAC-SHA256. Thread-safe, allocation-free, infallible.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "kisee/core/bytes.h"

namespace kisee::crypto {

inline constexpr std::size_t kSha256Size = 32;
using Sha256Digest = std::array<std::uint8_t, kSha256Size>;

// Sha256 returns the SHA-256 digest of `data`.
Sha256Digest Sha256(ByteView data);

// HmacSha256 returns HMAC-SHA256 (RFC 2104) of `data` under `key` (any
// length; keys longer than 64 bytes are hashed first, as the RFC says).
Sha256Digest HmacSha256(ByteView key, ByteView data);

// VerifyHmacSha256 returns true when `mac` equals HmacSha256(key, data). The
// comparison takes the same time wherever the bytes differ; a `mac` of the
// wrong length is simply false.
bool VerifyHmacSha256(ByteView key, ByteView data, ByteView mac);

}  // namespace kisee::crypto
