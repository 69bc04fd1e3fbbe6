// What kisee-quickstart writes: a settings.toml for a new install (embedded
// SQLite store next to the file, strict password policy, fresh keys).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kisee/core/error.h"

namespace kisee::idp {

// QuickstartAnswers are the four questions of kisee-api.md §7.
struct QuickstartAnswers {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8140;
  std::string hostname = "http://localhost:8140";
  bool debug = false;
};

// ValidateHost, ValidatePort, ValidateHostname and ParseYesNo check one
// answer; errors (kInvalidArgument) carry the message shown before asking
// again.
Status ValidateHost(std::string_view host);
Result<std::uint16_t> ParsePort(std::string_view text);
Status ValidateHostname(std::string_view hostname);
Result<bool> ParseYesNo(std::string_view text);

// RenderQuickstartSettings returns the settings file text for `answers` and
// the PEM key pair (private key PEM, public key PEM). The file loads with
// LoadSettings without warnings.
std::string RenderQuickstartSettings(const QuickstartAnswers& answers,
                                     std::string_view private_key_pem,
                                     std::string_view public_key_pem);

}  // namespace kisee::idp
