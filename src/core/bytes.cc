#include "kisee/core/bytes.h"

#include <array>

namespace kisee {
namespace {

constexpr std::string_view kStandardChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::uint8_t kInvalid = 0xff;

// DecodeTable maps a character to its 6-bit value, or kInvalid.
using DecodeTable = std::array<std::uint8_t, 256>;

constexpr DecodeTable MakeTable(std::string_view chars, std::string_view extra) {
  DecodeTable table{};
  for (auto& v : table) v = kInvalid;
  for (std::size_t i = 0; i < chars.size(); ++i) {
    table[static_cast<std::uint8_t>(chars[i])] = static_cast<std::uint8_t>(i);
  }
  // `extra` holds the other alphabet's characters for positions 62 and 63.
  for (std::size_t i = 0; i < extra.size(); ++i) {
    table[static_cast<std::uint8_t>(extra[i])] = static_cast<std::uint8_t>(62 + i);
  }
  return table;
}

constexpr DecodeTable kStandardTable = MakeTable(kStandardChars, "");
constexpr DecodeTable kUrlTable = MakeTable(kUrlChars, "");
constexpr DecodeTable kBothTable = MakeTable(kUrlChars, "+/");

Error Invalid(std::string_view what) {
  return Error(ErrorCode::kInvalidArgument, "invalid base64: " + std::string(what));
}

}  // namespace

std::string Base64Encode(ByteView data, const Base64Options& options) {
  const std::string_view chars =
      options.alphabet == Base64Alphabet::kStandard ? kStandardChars : kUrlChars;
  const bool pad = options.padding != Base64Padding::kForbidden;
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t n = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += chars[(n >> 18) & 63];
    out += chars[(n >> 12) & 63];
    out += chars[(n >> 6) & 63];
    out += chars[n & 63];
  }
  const std::size_t rest = data.size() - i;
  if (rest == 1) {
    const std::uint32_t n = data[i] << 16;
    out += chars[(n >> 18) & 63];
    out += chars[(n >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    const std::uint32_t n = (data[i] << 16) | (data[i + 1] << 8);
    out += chars[(n >> 18) & 63];
    out += chars[(n >> 12) & 63];
    out += chars[(n >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

Result<Bytes> Base64Decode(std::string_view text, const Base64Options& options) {
  const DecodeTable& table = options.accept_both_alphabets                   ? kBothTable
                             : options.alphabet == Base64Alphabet::kStandard ? kStandardTable
                                                                             : kUrlTable;
  std::size_t padding = 0;
  while (padding < text.size() && padding < 2 && text[text.size() - 1 - padding] == '=') {
    ++padding;
  }
  if (padding > 0) {
    if (options.padding == Base64Padding::kForbidden) return std::unexpected(Invalid("padding"));
    if (text.size() % 4 != 0) return std::unexpected(Invalid("bad padding"));
  } else if (options.padding == Base64Padding::kRequired && text.size() % 4 != 0) {
    return std::unexpected(Invalid("missing padding"));
  }
  const std::string_view body = text.substr(0, text.size() - padding);
  if (body.size() % 4 == 1) return std::unexpected(Invalid("bad length"));

  Bytes out;
  out.reserve(body.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : body) {
    const std::uint8_t v = table[static_cast<std::uint8_t>(c)];
    if (v == kInvalid) return std::unexpected(Invalid("unexpected character"));
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero: otherwise two texts would decode alike.
  if ((acc & ((1u << bits) - 1)) != 0) return std::unexpected(Invalid("non-canonical"));
  return out;
}

std::string Base64UrlEncode(ByteView data) {
  return Base64Encode(data, {Base64Alphabet::kUrl, Base64Padding::kForbidden});
}

Result<Bytes> Base64UrlDecode(std::string_view text) {
  return Base64Decode(text, {Base64Alphabet::kUrl, Base64Padding::kForbidden});
}

std::string HexEncode(ByteView data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (std::uint8_t b : data) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

Result<Bytes> HexDecode(std::string_view text) {
  if (text.size() % 2 != 0)
    return MakeError(ErrorCode::kInvalidArgument, "invalid hex: odd length");
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Bytes out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = digit(text[i]);
    const int lo = digit(text[i + 1]);
    if (hi < 0 || lo < 0) return MakeError(ErrorCode::kInvalidArgument, "invalid hex digit");
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return out;
}

}  // namespace kisee
