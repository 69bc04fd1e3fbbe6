#include "kisee/net/http.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace kisee::net {
namespace {

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const auto& field : fields_) {
    if (EqualsIgnoreCase(field.name, name)) return std::string_view(field.value);
  }
  return std::nullopt;
}

std::string_view Headers::GetOr(std::string_view name, std::string_view fallback) const {
  auto value = Get(name);
  return value ? *value : fallback;
}

bool Headers::Contains(std::string_view name) const { return Get(name).has_value(); }

void Headers::Add(std::string name, std::string value) {
  fields_.push_back({std::move(name), std::move(value)});
}

void Headers::Set(std::string_view name, std::string value) {
  auto first = std::find_if(fields_.begin(), fields_.end(),
                            [&](const HeaderField& f) { return EqualsIgnoreCase(f.name, name); });
  if (first == fields_.end()) {
    fields_.push_back({std::string(name), std::move(value)});
    return;
  }
  first->value = std::move(value);
  auto rest = std::remove_if(first + 1, fields_.end(),
                             [&](const HeaderField& f) { return EqualsIgnoreCase(f.name, name); });
  fields_.erase(rest, fields_.end());
}

std::size_t Headers::Remove(std::string_view name) {
  auto rest = std::remove_if(fields_.begin(), fields_.end(),
                             [&](const HeaderField& f) { return EqualsIgnoreCase(f.name, name); });
  std::size_t removed = static_cast<std::size_t>(fields_.end() - rest);
  fields_.erase(rest, fields_.end());
  return removed;
}

std::string_view Request::Param(std::string_view name) const {
  for (const auto& param : path_params) {
    if (param.name == name) return param.value;
  }
  return {};
}

Response Response::Json(int status, std::string body) {
  Response response(status);
  response.headers.Add("Content-Type", "application/json");
  response.body = std::move(body);
  return response;
}

Response Response::Text(int status, std::string body) {
  Response response(status);
  response.headers.Add("Content-Type", "text/plain; charset=utf-8");
  response.body = std::move(body);
  return response;
}

Response Response::Problem(int status, std::string_view reason,
                           std::optional<std::string_view> detail) {
  Response response(status);
  response.reason = reason.empty() ? std::string(StandardReason(status)) : std::string(reason);
  // ordered_json keeps the key order of kisee-api §3; invalid UTF-8 in a
  // reason or a parser message must not throw, so it is replaced.
  nlohmann::ordered_json doc;
  doc["_type"] = "error";
  doc["_meta"]["title"] = response.reason;
  doc["title"] = response.reason;
  if (detail) doc["detail"] = std::string(*detail);
  doc["status"] = status;
  response.body = doc.dump(4, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  response.headers.Add("Content-Type", std::string(kProblemContentType));
  return response;
}

std::string_view Response::reason_or_standard() const {
  return reason.empty() ? StandardReason(status) : std::string_view(reason);
}

std::string_view StandardReason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 205:
      return "Reset Content";
    case 206:
      return "Partial Content";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 421:
      return "Misdirected Request";
    case 422:
      return "Unprocessable Entity";
    case 425:
      return "Too Early";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 451:
      return "Unavailable For Legal Reasons";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int hi = HexValue(text[i + 1]);
      int lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

}  // namespace kisee::net
