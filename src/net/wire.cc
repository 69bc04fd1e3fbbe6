#include "net/wire.h"

#include <charconv>
#include <ctime>

namespace kisee::net::internal {
namespace {

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsFramingField(std::string_view name) {
  return EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
         EqualsIgnoreCase(name, "Connection") || EqualsIgnoreCase(name, "Keep-Alive") ||
         EqualsIgnoreCase(name, "Date");
}

void AppendNumber(std::string& out, std::size_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value);
  out.append(digits, end);
}

}  // namespace

bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

bool IsFieldValue(std::string_view text) {
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) return false;
  }
  return true;
}

std::string_view HttpDate() {
  thread_local std::time_t cached_second = 0;
  thread_local char cached[32];
  thread_local std::size_t cached_size = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second || cached_size == 0) {
    std::tm utc{};
    gmtime_r(&now, &utc);
    cached_size = std::strftime(cached, sizeof(cached), "%a, %d %b %Y %H:%M:%S GMT", &utc);
    cached_second = now;
  }
  return {cached, cached_size};
}

bool ResponseHasBody(int status) { return status >= 200 && status != 204 && status != 304; }

void AppendResponseHead(const Response& response, std::size_t content_length, bool close,
                        bool http10_keep_alive, std::string& out) {
  out.append("HTTP/1.1 ");
  AppendNumber(out, static_cast<std::size_t>(response.status));
  out.push_back(' ');
  // The reason phrase is free text chosen by handlers (kisee puts error
  // messages there); a line break in it would let text become headers.
  for (char c : response.reason_or_standard()) {
    auto byte = static_cast<unsigned char>(c);
    out.push_back((byte < 0x20 && c != '\t') || byte == 0x7f ? ' ' : c);
  }
  out.append("\r\n");
  for (const auto& field : response.headers) {
    if (IsFramingField(field.name) || !IsToken(field.name) || !IsFieldValue(field.value)) continue;
    out.append(field.name);
    out.append(": ");
    out.append(field.value);
    out.append("\r\n");
  }
  out.append("Date: ");
  out.append(HttpDate());
  out.append("\r\n");
  if (ResponseHasBody(response.status)) {
    out.append("Content-Length: ");
    AppendNumber(out, content_length);
    out.append("\r\n");
  }
  if (close) {
    out.append("Connection: close\r\n");
  } else if (http10_keep_alive) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

Status AppendRequestHead(std::string_view method, std::string_view target,
                         std::string_view host_header, const Headers& headers,
                         std::size_t body_size, std::string& out) {
  if (!IsToken(method)) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid HTTP method: " + std::string(method));
  }
  if (target.empty() || !IsFieldValue(target) || target.find(' ') != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid request target");
  }
  out.append(method);
  out.push_back(' ');
  out.append(target);
  out.append(" HTTP/1.1\r\n");
  bool has_host = false;
  for (const auto& field : headers) {
    if (!IsToken(field.name) || !IsFieldValue(field.value)) {
      return MakeError(ErrorCode::kInvalidArgument, "invalid request header: " + field.name);
    }
    if (EqualsIgnoreCase(field.name, "Content-Length") ||
        EqualsIgnoreCase(field.name, "Transfer-Encoding") ||
        EqualsIgnoreCase(field.name, "Connection") || EqualsIgnoreCase(field.name, "Keep-Alive")) {
      continue;
    }
    has_host |= EqualsIgnoreCase(field.name, "Host");
    out.append(field.name);
    out.append(": ");
    out.append(field.value);
    out.append("\r\n");
  }
  if (!has_host) {
    out.append("Host: ");
    out.append(host_header);
    out.append("\r\n");
  }
  bool expects_body = method == "POST" || method == "PUT" || method == "PATCH";
  if (body_size > 0 || expects_body) {
    out.append("Content-Length: ");
    AppendNumber(out, body_size);
    out.append("\r\n");
  }
  out.append("\r\n");
  return Ok();
}

}  // namespace kisee::net::internal
