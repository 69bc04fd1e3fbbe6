// The password policy applied when a password is chosen (registration,
// change, reset): length bounds and refusal of the most common passwords.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_set>

#include "kisee/core/error.h"
#include "kisee/idp/settings.h"

namespace kisee::idp {

// PasswordPolicy checks candidate passwords. Immutable; thread-safe.
class PasswordPolicy {
 public:
  explicit PasswordPolicy(const PasswordSettings& settings);

  // Check returns Ok or kInvalidArgument whose message is the reason shown to
  // the client (it never contains the password). Lengths count Unicode code
  // points of the UTF-8 text; invalid UTF-8 is refused.
  Status Check(std::string_view password) const;

  std::int64_t min_length() const { return min_length_; }
  std::int64_t max_length() const { return max_length_; }

 private:
  std::int64_t min_length_;
  std::int64_t max_length_;
  bool reject_common_;
};

// IsCommonPassword is true when `password` (compared case-insensitively) is
// in the list shipped with kisee (src/idp/data/common_passwords.txt).
bool IsCommonPassword(std::string_view password);

// CommonPasswordsText is the raw list (generated from the data file).
std::string_view CommonPasswordsText();

// CountCodePoints returns the number of code points of UTF-8 `text`, or -1
// when it is not valid UTF-8.
std::int64_t CountCodePoints(std::string_view text);

}  // namespace kisee::idp
