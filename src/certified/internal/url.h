// A strict splitter for the URLs certified handles (service records, the
// serve address, message targets). Not part of the public API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kisee/core/error.h"

namespace kisee::certified::internal {

// UrlParts is an absolute URL split into its components.
struct UrlParts {
  std::string scheme;  // lowercased
  std::string host;    // IPv6 without brackets
  std::optional<std::uint16_t> port;
  std::string path;                  // "" when absent, else starts with '/'
  std::optional<std::string> query;  // without '?'
  std::optional<std::string> fragment;
  bool has_user_info = false;

  // Authority returns host[:port] with IPv6 brackets.
  std::string Authority() const;
};

// SplitUrl splits "scheme://[user@]host[:port][/path][?query][#fragment]".
// Errors: kInvalidArgument (no scheme, empty host, bad port).
Result<UrlParts> SplitUrl(std::string_view url);

}  // namespace kisee::certified::internal
