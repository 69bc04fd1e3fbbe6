#include "idp/password_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

namespace kisee::idp {
namespace {

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

// The set is built once, on first use, from the compiled-in list.
const std::unordered_set<std::string>& CommonSet() {
  static const auto* set = [] {
    auto* out = new std::unordered_set<std::string>();
    std::string_view text = CommonPasswordsText();
    while (!text.empty()) {
      std::size_t end = text.find('\n');
      std::string_view line = text.substr(0, end);
      text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      if (!line.empty() && line.front() != '#') {
        out->insert(AsciiLower(line));
      }
    }
    return out;
  }();
  return *set;
}

}  // namespace

std::int64_t CountCodePoints(std::string_view text) {
  std::int64_t count = 0;
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    if (len == 0 || i + len > text.size()) {
      return -1;
    }
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) {
        return -1;
      }
    }
    i += len;
    ++count;
  }
  return count;
}

bool IsCommonPassword(std::string_view password) {
  return CommonSet().contains(AsciiLower(password));
}

PasswordPolicy::PasswordPolicy(const PasswordSettings& settings)
    : min_length_(std::max<std::int64_t>(1, settings.min_length)),
      max_length_(settings.max_length),
      reject_common_(settings.reject_common) {}

Status PasswordPolicy::Check(std::string_view password) const {
  const std::int64_t length = CountCodePoints(password);
  if (length < 0) {
    return MakeError(ErrorCode::kInvalidArgument, "Password is not valid UTF-8");
  }
  if (length < min_length_) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("Password too short (at least {} characters)", min_length_));
  }
  if (length > max_length_) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("Password too long (at most {} characters)", max_length_));
  }
  if (reject_common_ && IsCommonPassword(password)) {
    return MakeError(ErrorCode::kInvalidArgument, "Password is too common");
  }
  return Ok();
}

}  // namespace kisee::idp
