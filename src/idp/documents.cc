#include "idp/documents.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace kisee::idp {
namespace {

constexpr std::string_view kCoreApi = "application/coreapi+json";
constexpr std::string_view kJsonType = "application/json";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Splits one media range "type/sub; p=1; q=0.5" into the range without the
// q parameter (other parameters kept, normalised to "; ") and its q value.
std::pair<std::string, double> ParseRange(std::string_view item) {
  double q = 1.0;
  std::string range;
  std::size_t start = 0;
  bool first = true;
  while (start <= item.size()) {
    std::size_t end = item.find(';', start);
    std::string_view part = Trim(
        item.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (first) {
      range = std::string(part);
      first = false;
    } else if (part.size() >= 2 && (part[0] == 'q' || part[0] == 'Q') && part[1] == '=') {
      std::string value(Trim(part.substr(2)));
      char* parse_end = nullptr;
      double parsed = std::strtod(value.c_str(), &parse_end);
      q = (parse_end != value.c_str() && parsed >= 0 && parsed <= 1) ? parsed : 0.0;
    } else if (!part.empty()) {
      range += "; ";
      range += part;
    }
    if (end == std::string_view::npos) {
      break;
    }
    start = end + 1;
  }
  return {range, q};
}

Json RenderLink(const Link& link, std::string_view base) {
  Json out = Json::object();
  out["_type"] = "link";
  out["url"] = AbsoluteUrl(base, link.url);
  out["action"] = link.action;
  if (!link.title.empty()) {
    out["title"] = link.title;
  }
  out["description"] = link.description;
  Json fields = Json::array();
  for (const Field& f : link.fields) {
    Json field = Json::object();
    field["name"] = f.name;
    if (f.required) {
      field["required"] = true;
    }
    field["schema"] = f.schema;
    fields.push_back(std::move(field));
  }
  out["fields"] = std::move(fields);
  return out;
}

Json StringSchema() { return Json{{"type", "string"}}; }
Json PasswordSchema(std::optional<std::int64_t> min_length) {
  Json schema = Json::object();
  schema["type"] = "string";
  if (min_length) {
    schema["minLength"] = *min_length;
  }
  schema["format"] = "password";
  return schema;
}

}  // namespace

Format Negotiate(std::optional<std::string_view> accept) {
  if (!accept || Trim(*accept).empty()) {
    return Format::kCoreApi;
  }
  double best_core = 0;
  double best_json = 0;
  std::string_view rest = *accept;
  while (true) {
    std::size_t comma = rest.find(',');
    auto [range, q] = ParseRange(rest.substr(0, comma));
    if (range == "*") {
      best_core = std::max(best_core, q);
      best_json = std::max(best_json, q);
    } else if (EqualsNoCase(range, kCoreApi)) {
      best_core = std::max(best_core, q);
    } else if (EqualsNoCase(range, kJsonType)) {
      best_json = std::max(best_json, q);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(comma + 1);
  }
  return best_json > best_core ? Format::kJson : Format::kCoreApi;
}

std::string AbsoluteUrl(std::string_view base, std::string_view url) {
  if (url.starts_with("http://") || url.starts_with("https://")) {
    return std::string(url);
  }
  // base is scheme://authority[/path]: an absolute path replaces the path.
  std::size_t scheme = base.find("://");
  std::size_t path_start =
      scheme == std::string_view::npos ? std::string_view::npos : base.find('/', scheme + 3);
  std::string_view origin =
      path_start == std::string_view::npos ? base : base.substr(0, path_start);
  if (url.starts_with("/")) {
    return std::string(origin) + std::string(url);
  }
  // A relative reference: resolve against the base's directory.
  std::string_view path =
      path_start == std::string_view::npos ? std::string_view("/") : base.substr(path_start);
  std::string dir(path.substr(0, path.rfind('/') + 1));
  return std::string(origin) + dir + std::string(url);
}

Json Render(const Document& doc, Format format, std::string_view base) {
  Json out = Json::object();
  if (format == Format::kCoreApi) {
    out["_type"] = "document";
    out["_meta"] = Json{{"url", AbsoluteUrl(base, doc.url)}, {"title", doc.title}};
  }
  for (const auto& entry : doc.content) {
    if (entry.value) {
      out[entry.key] = *entry.value;
    } else if (format == Format::kCoreApi) {
      out[entry.key] = RenderLink(*entry.link, base);
    } else {
      out[entry.key] = AbsoluteUrl(base, entry.link->url);
    }
  }
  return out;
}

std::string Dump(const Json& json) {
  return json.dump(4, ' ', false, nlohmann::json::error_handler_t::replace);
}

Document JwtDocument(std::string_view base, std::vector<std::string> tokens) {
  Document doc{.url = std::string(base) + "/jwt/", .title = "JSON Web Tokens"};
  doc.Add("tokens", Json(std::move(tokens)));
  doc.Add("add_token", Link{.url = std::string(base) + "/jwt/",
                            .action = "post",
                            .title = "Create a new JWT",
                            .description = "POSTing to this endpoint create JWT tokens.",
                            .fields = {{"username", true, StringSchema()},
                                       {"password", true, PasswordSchema(std::nullopt)}}});
  return doc;
}

Document UsersDocument(std::string_view base, bool registration, std::int64_t min_length) {
  Document doc{.url = std::string(base) + "/users/", .title = "Users"};
  doc.Add("users", Json::array());
  doc.Add("patch",
          Link{.url = std::string(base) + "/users/{user_id}",
               .action = "patch",
               .title = "Patch a user",
               .description = "Typically to change password. (Using an RFC6902 JSON Patch)",
               .fields = {}});
  if (registration) {
    doc.Add("register_user",
            Link{.url = std::string(base) + "/users/",
                 .action = "post",
                 .title = "Register a new user",
                 .description = "POSTing to this endpoint creates a new user",
                 .fields = {{"username", true, StringSchema()},
                            {"password", true, PasswordSchema(min_length)},
                            {"email", true, Json{{"type", "string"}, {"format", "email"}}}}});
  }
  return doc;
}

Document RecoveriesAnonymousDocument(std::string_view base) {
  Document doc{.url = std::string(base) + "/password_recoveries/",
               .title = "Forgotten password management"};
  doc.Add("reset_password",
          Link{.url = std::string(base) + "/password_recoveries/",
               .action = "post",
               .title = "",
               .description = "POSTing to this endpoint starts a new Password Reset procedure.",
               .fields = {{"username", false, StringSchema()},
                          {"email", false, Json{{"type", "string"}, {"format", "email"}}}}});
  return doc;
}

Document RecoveriesRecoverDocument(std::string_view base, std::string_view user_id,
                                   std::int64_t min_length) {
  Document doc{.url = std::string(base) + "/password_recoveries/",
               .title = "Forgotten password management"};
  doc.Add("recover", Link{.url = std::string(base) + "/users/" + std::string(user_id) + "/",
                          .action = "patch",
                          .title = "Change password",
                          .description = "Use a Json Patch document to change your password here.",
                          .fields = {{"password", false, PasswordSchema(min_length)}}});
  return doc;
}

Json JsonHome(std::string_view base) {
  auto resource = [&](std::string_view path, std::vector<std::string> allow) {
    Json hints = Json::object();
    hints["allow"] = std::move(allow);
    hints["formats"] = Json{{"application/coreapi+json", Json::object()}};
    Json r = Json::object();
    r["href"] = std::string(base) + std::string(path);
    r["hints"] = std::move(hints);
    return r;
  };
  Json api = Json::object();
  api["title"] = "Identification Provider";
  api["links"] =
      Json{{"author", "mailto:julien@palard.fr"}, {"describedBy", "https://kisee.readthedocs.io"}};
  Json resources = Json::object();
  resources["jwt"] = resource("/jwt/", {"GET", "POST"});
  resources["users"] = resource("/users/", {"GET", "POST", "PATCH"});
  resources["password_recoveries"] = resource("/password_recoveries/", {"GET", "POST"});
  Json jwks = Json::object();
  jwks["href"] = std::string(base) + "/.well-known/jwks.json";
  jwks["hints"] =
      Json{{"allow", {"GET"}}, {"formats", Json{{"application/jwk-set+json", Json::object()}}}};
  resources["jwks"] = std::move(jwks);
  Json out = Json::object();
  out["api"] = std::move(api);
  out["resources"] = std::move(resources);
  return out;
}

bool IsValidEmail(std::string_view email) {
  std::string_view line = email.substr(0, email.find('\n'));
  // ".+@.+\..+": some '@' at index >= 1, then a '.' at least two characters
  // later with at least one character after it.
  for (std::size_t at = 1; at < line.size(); ++at) {
    if (line[at] != '@') {
      continue;
    }
    if (at + 3 < line.size() &&
        line.substr(at + 2, line.size() - at - 3).find('.') != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

bool CheckJsonDepth(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        return false;
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

}  // namespace kisee::idp
