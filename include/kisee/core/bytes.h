// Byte strings and their text encodings: base64 (standard and URL-safe
// alphabets) and hex.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kisee/core/error.h"

namespace kisee {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// AsBytes views the characters of `text` as bytes (borrowed).
inline ByteView AsBytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}
// AsChars views `bytes` as characters (borrowed).
inline std::string_view AsChars(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
inline Bytes ToBytes(std::string_view text) {
  auto view = AsBytes(text);
  return Bytes(view.begin(), view.end());
}
inline std::string ToString(ByteView bytes) { return std::string(AsChars(bytes)); }

enum class Base64Alphabet {
  kStandard,  // A-Z a-z 0-9 + /
  kUrl,       // A-Z a-z 0-9 - _   (RFC 4648 §5)
};

enum class Base64Padding {
  kRequired,   // encode with '='; decoding requires the length to be a multiple of 4
  kOptional,   // encode with '='; decoding accepts text with or without padding
  kForbidden,  // encode without '='; decoding refuses any '='
};

struct Base64Options {
  Base64Alphabet alphabet = Base64Alphabet::kUrl;
  Base64Padding padding = Base64Padding::kForbidden;
  // accept_both_alphabets: decoding also accepts the other alphabet's two
  // characters (never a mix of '+' and '-' style within one input matters).
  bool accept_both_alphabets = false;
};

// Base64Encode encodes `data` as described by `options`.
std::string Base64Encode(ByteView data, const Base64Options& options);

// Base64Decode decodes `text` strictly: no whitespace, no characters outside
// the alphabet, padding only as `options` allows, and the unused low bits of
// the last character must be zero (canonical encoding). Errors are
// kInvalidArgument.
Result<Bytes> Base64Decode(std::string_view text, const Base64Options& options);

// Base64UrlEncode / Base64UrlDecode: URL-safe alphabet without padding, as in
// JOSE (RFC 7515 §2).
std::string Base64UrlEncode(ByteView data);
Result<Bytes> Base64UrlDecode(std::string_view text);

// HexEncode returns lowercase hex. HexDecode accepts either case and requires
// an even number of digits.
std::string HexEncode(ByteView data);
Result<Bytes> HexDecode(std::string_view text);

}  // namespace kisee
