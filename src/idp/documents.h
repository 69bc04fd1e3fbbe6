// The representations kisee serves: content negotiation between coreapi and
// plain JSON (kisee-api.md §2.2), the coreapi documents of §2.3–§2.8, the
// json-home document of §2.1, and URL helpers.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kisee::idp {

using Json = nlohmann::ordered_json;

// Format is the negotiated representation.
enum class Format { kCoreApi, kJson };

// Negotiate picks the representation for an Accept header (absent or empty:
// coreapi). Only exact media ranges (case-insensitive, parameters included)
// or "*" match; "*/*" matches nothing; highest q wins, q=0 excludes, ties go
// to coreapi.
Format Negotiate(std::optional<std::string_view> accept);

// AbsoluteUrl returns `url` when it starts with http:// or https://, else
// `url` resolved against `base` (an absolute URL), as a URL join does.
std::string AbsoluteUrl(std::string_view base, std::string_view url);

// Field is a coreapi field.
struct Field {
  std::string name;
  bool required = false;
  Json schema;
};

// Link is a coreapi link.
struct Link {
  std::string url;
  std::string action;
  std::string title;
  std::string description;
  std::vector<Field> fields;
};

// Document is a coreapi document: a URL, a title and ordered content whose
// values are either plain JSON or links.
struct Document {
  struct Entry {
    std::string key;
    std::optional<Json> value;  // set for plain values
    std::optional<Link> link;   // set for links
  };
  std::string url;
  std::string title;
  std::vector<Entry> content;

  Document& Add(std::string key, Json value) {
    content.push_back({std::move(key), std::move(value), std::nullopt});
    return *this;
  }
  Document& Add(std::string key, Link link) {
    content.push_back({std::move(key), std::nullopt, std::move(link)});
    return *this;
  }
};

// Render renders `doc` as coreapi or plain JSON (links become their absolute
// URL, fields their name), URLs made absolute against `base`.
Json Render(const Document& doc, Format format, std::string_view base);

// Dump serialises as the original does: 4-space indent, UTF-8 kept as is.
std::string Dump(const Json& json);

// The documents, given the public base URL H (no trailing '/').
Document JwtDocument(std::string_view base, std::vector<std::string> tokens);
Document UsersDocument(std::string_view base, bool registration, std::int64_t min_length);
Document RecoveriesAnonymousDocument(std::string_view base);
Document RecoveriesRecoverDocument(std::string_view base, std::string_view user_id,
                                   std::int64_t min_length);
Json JsonHome(std::string_view base);

// IsValidEmail applies the contract's `.+@.+\..+` (anchored at the start,
// '.' not matching a newline).
bool IsValidEmail(std::string_view email);

// CheckJsonDepth is false when `text` nests arrays/objects deeper than
// `max_depth` (protects the recursive parser's stack).
bool CheckJsonDepth(std::string_view text, int max_depth);

}  // namespace kisee::idp
