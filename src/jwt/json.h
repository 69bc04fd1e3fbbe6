// Strict JSON for JOSE: what the jwt library parses and writes. Private to
// the jwt library.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "kisee/core/error.h"

namespace kisee::jwt::internal {

// ParseJsonObject parses `text` as exactly one JSON object. Duplicate member
// names at any depth are refused: RFC 7515 §5.2 lets a parser keep either
// value, and two parsers keeping different ones would read one token two
// ways. Invalid UTF-8 and trailing text are refused too. kInvalidArgument,
// with `what` ("header", "claims") in the message. Never throws.
Result<nlohmann::ordered_json> ParseJsonObject(std::string_view text, std::string_view what);

// SerializeJson writes `value` compactly (no whitespace), keys in their
// stored order. kInvalidArgument when a string holds invalid UTF-8. Never
// throws.
Result<std::string> SerializeJson(const nlohmann::ordered_json& value);

}  // namespace kisee::jwt::internal
