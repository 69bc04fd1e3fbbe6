#include "certified/internal/url.h"

#include <cctype>
#include <charconv>

namespace kisee::certified::internal {

std::string UrlParts::Authority() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port) out += ":" + std::to_string(*port);
  return out;
}

Result<UrlParts> SplitUrl(std::string_view url) {
  auto invalid = [&](std::string_view why) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid URL \"" + std::string(url) + "\": " + std::string(why));
  };
  UrlParts parts;
  std::size_t colon = url.find("://");
  if (colon == std::string_view::npos || colon == 0) return invalid("no scheme");
  for (char c : url.substr(0, colon)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return invalid("bad scheme");
    }
    parts.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  std::string_view rest = url.substr(colon + 3);
  for (char c : rest) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return invalid("control character or space");
  }
  if (std::size_t hash = rest.find('#'); hash != std::string_view::npos) {
    parts.fragment = std::string(rest.substr(hash + 1));
    rest = rest.substr(0, hash);
  }
  if (std::size_t question = rest.find('?'); question != std::string_view::npos) {
    parts.query = std::string(rest.substr(question + 1));
    rest = rest.substr(0, question);
  }
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) parts.path = std::string(rest.substr(slash));
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    parts.has_user_info = true;
    authority = authority.substr(at + 1);
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid("unclosed '['");
    parts.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid("garbage after the IPv6 address");
      port_text = after.substr(1);
      if (port_text.empty()) return invalid("empty port");
    }
  } else {
    std::size_t port_colon = authority.rfind(':');
    if (port_colon != std::string_view::npos) {
      port_text = authority.substr(port_colon + 1);
      authority = authority.substr(0, port_colon);
      if (port_text.empty()) return invalid("empty port");
    }
    parts.host = std::string(authority);
  }
  if (parts.host.empty()) return invalid("no host");
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value > 65535) {
      return invalid("bad port");
    }
    parts.port = static_cast<std::uint16_t>(value);
  }
  return parts;
}

}  // namespace kisee::certified::internal
