#include "kisee/idp/quickstart.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <string>

namespace kisee::idp {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// TOML basic strings: escape what would end or break the string.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

Status ValidateHost(std::string_view host) {
  std::string text(host);
  unsigned char buffer[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
      inet_pton(AF_INET6, text.c_str(), buffer) == 1) {
    return Ok();
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "Please enter an IPv4 or IPv6 address, like 127.0.0.1 or 0.0.0.0.");
}

Result<std::uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "Please enter a port number between 1 and 65535.");
  }
  return static_cast<std::uint16_t>(value);
}

Status ValidateHostname(std::string_view hostname) {
  if ((hostname.starts_with("http://") && hostname.size() > 7) ||
      (hostname.starts_with("https://") && hostname.size() > 8)) {
    if (hostname.find_first_of(" \t\"'\\") == std::string_view::npos) {
      return Ok();
    }
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "Please enter a URL starting with http:// or https://.");
}

Result<bool> ParseYesNo(std::string_view text) {
  std::string answer = Lower(text);
  // "true"/"false" as well: the original's settings spell debug that way.
  if (answer == "y" || answer == "yes" || answer == "true") {
    return true;
  }
  if (answer == "n" || answer == "no" || answer == "false") {
    return false;
  }
  return MakeError(ErrorCode::kInvalidArgument, "Please answer yes or no.");
}

std::string RenderQuickstartSettings(const QuickstartAnswers& answers,
                                     std::string_view private_key_pem,
                                     std::string_view public_key_pem) {
  std::string hostname = answers.hostname;
  if (!hostname.empty() && hostname.back() == '/') {
    hostname.pop_back();
  }
  return fmt::format(
      R"(# kisee settings, written by kisee-quickstart. Reference: README.md, "kisee".

[server]
host = {host}
port = {port}
hostname = {hostname}
debug = {debug}
registration = true

[identity_backend]
class = "sqlite"

[identity_backend.options]
# The user store, next to this file. The first start creates the user
# "root" and prints its password once.
path = "kisee.db"
# Password-reset tokens are printed on kisee's standard output, for a first
# try; add an [email] section and set this to "email" to send them instead.
reset_delivery = "stdout"

[passwords]
memory_kib = 19456
iterations = 2
min_length = 8
max_length = 128
reject_common = true

[limits]
user_failures = 5
address_failures = 100
window = 900
lockout = 60
max_lockout = 3600

[jwt]
iss = {hostname}
lifetime = 3600
reset_lifetime = 3600
private_key = '''
{private_key}'''
public_key = '''
{public_key}'''
)",
      fmt::arg("host", Quote(answers.host)), fmt::arg("port", answers.port),
      fmt::arg("hostname", Quote(hostname)), fmt::arg("debug", answers.debug ? "true" : "false"),
      fmt::arg("private_key", private_key_pem), fmt::arg("public_key", public_key_pem));
}

}  // namespace kisee::idp
