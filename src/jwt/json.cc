#include "jwt/json.h"

#include <exception>
#include <set>
#include <vector>

namespace kisee::jwt::internal {

using Json = nlohmann::ordered_json;

Result<Json> ParseJsonObject(std::string_view text, std::string_view what) {
  // One set of member names per object being parsed, innermost last.
  std::vector<std::set<std::string, std::less<>>> open_objects;
  bool duplicate = false;
  auto watch = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!open_objects.empty()) {
          open_objects.pop_back();
        }
        break;
      case Json::parse_event_t::key:
        if (!open_objects.empty() && parsed.is_string() &&
            !open_objects.back().insert(parsed.get_ref<const std::string&>()).second) {
          duplicate = true;
        }
        break;
      default:
        break;
    }
    return true;
  };
  try {
    Json value = Json::parse(text.begin(), text.end(), watch, /*allow_exceptions=*/false);
    if (value.is_discarded()) {
      return MakeError(ErrorCode::kInvalidArgument, std::string(what) + " is not valid JSON");
    }
    if (duplicate) {
      return MakeError(ErrorCode::kInvalidArgument,
                       std::string(what) + " has a duplicate member name");
    }
    if (!value.is_object()) {
      return MakeError(ErrorCode::kInvalidArgument, std::string(what) + " is not a JSON object");
    }
    return value;
  } catch (const std::exception&) {
    // allow_exceptions=false covers syntax errors; this catches the rest
    // (allocation failure) so that nothing escapes the library.
    return MakeError(ErrorCode::kInvalidArgument, std::string(what) + " could not be parsed");
  }
}

Result<std::string> SerializeJson(const Json& value) {
  try {
    return value.dump(-1, ' ', false, Json::error_handler_t::strict);
  } catch (const std::exception&) {
    // dump throws type_error 316 on a string that is not UTF-8.
    return MakeError(ErrorCode::kInvalidArgument, "JSON value holds invalid UTF-8");
  }
}

}  // namespace kisee::jwt::internal
