// A guard for JSON text that will be re-serialized: nlohmann::json parses
// iteratively but dumps recursively, so a body of a million '[' would
// exhaust the stack. Not part of the public API.
#pragma once

#include <string_view>

namespace kisee::certified::internal {

// kMaxJsonDepth bounds the nesting of JSON this library re-serializes.
inline constexpr int kMaxJsonDepth = 256;

// JsonDepthWithin tells whether the arrays and objects of `text` nest at
// most `max_depth` deep (strings and escapes are skipped; the text need not
// be valid JSON).
inline bool JsonDepthWithin(std::string_view text, int max_depth = kMaxJsonDepth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

}  // namespace kisee::certified::internal
