// Service records: known_servers/<alias>.yaml (certified.md §1). They tell
// `message` where an alias really is, which server CA to pin, and which CA
// signatures the service accepts from clients.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kisee/core/error.h"

namespace kisee::certified {

// ServiceRecord is the content of one record file.
struct ServiceRecord {
  std::string url;                  // real base URL: https://host[:port][/prefix]
  std::optional<std::string> cert;  // b64-DER of the server's CA; nullopt = null
  std::vector<std::string> auths;   // RFC 4514 names of CAs the service accepts

  // FromYaml parses a record; unknown keys are ignored, `url` is required,
  // `cert` may be null or absent, `auths` may be absent. Errors:
  // kInvalidArgument with a one-line reason (yaml-cpp's exceptions never
  // escape).
  static Result<ServiceRecord> FromYaml(std::string_view text);

  // ToYaml writes the record with its keys sorted (auths, cert, url), as
  // the original's yaml.dump does.
  std::string ToYaml() const;

  bool operator==(const ServiceRecord&) const = default;
};

// ValidateServiceUrl accepts an https URL with a host, an optional port
// and path, and no user info, query or fragment. Errors: kInvalidArgument.
Status ValidateServiceUrl(std::string_view url);

}  // namespace kisee::certified
