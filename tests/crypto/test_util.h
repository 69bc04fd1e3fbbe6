// Helpers shared by the crypto tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "kisee/core/bytes.h"
#include "kisee/core/error.h"
#include "kisee/crypto/key_type.h"

namespace kisee::crypto::testing {

// Hex decodes a hex literal of a test vector; a typo fails the test.
inline Bytes Hex(std::string_view hex) {
  Result<Bytes> bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.has_value()) << "bad hex literal";
  return bytes.value_or(Bytes{});
}

// B64u decodes a base64url literal of a test vector.
inline Bytes B64u(std::string_view text) {
  Result<Bytes> bytes = Base64UrlDecode(text);
  EXPECT_TRUE(bytes.has_value()) << "bad base64url literal";
  return bytes.value_or(Bytes{});
}

// TypeName makes readable parameterized test names ("secp256k1").
inline std::string TypeName(const ::testing::TestParamInfo<KeyType>& info) {
  return std::string(KeyTypeName(info.param));
}

// ErrorCodeOf returns the error code of a failed result, or fails the test.
template <typename T>
ErrorCode ErrorCodeOf(const Result<T>& result) {
  EXPECT_FALSE(result.has_value()) << "expected an error";
  return result.has_value() ? ErrorCode::kInternal : result.error().code();
}

}  // namespace kisee::crypto::testing
