// kisee's settings.toml: the original Python kisee's file loads unchanged,
// plus the optional sections of kisee-api.md §6.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "kisee/core/error.h"

namespace kisee::idp {

// OptionValue is one scalar of [identity_backend.options] (arrays and tables
// there are ignored with a warning).
using OptionValue = std::variant<std::string, std::int64_t, double, bool>;
using Options = std::map<std::string, OptionValue, std::less<>>;

struct ServerSettings {
  std::string host = "127.0.0.1";
  // hostname is the public base URL (H in the API contract), without a
  // trailing '/'. Required.
  std::string hostname;
  std::uint16_t port = 8140;
  bool debug = false;
  unsigned workers = 0;  // I/O threads; 0 = one per core
  bool registration = true;
  // cors_origins: origins allowed by CORS; empty = any (as the original).
  std::vector<std::string> cors_origins;
  // trusted_proxies: addresses or CIDR networks of reverse proxies (nginx)
  // whose X-Forwarded-For names the client for the per-address login
  // limits; empty = the peer is the client. Validated when loaded.
  std::vector<std::string> trusted_proxies;
};

struct BackendSettings {
  // class_name is the [identity_backend] class; the original's
  // "kisee.providers.demo.DemoBackend" is normalised to "demo".
  std::string class_name;
  Options options;
};

struct EmailSettings {
  bool present = false;  // false when the file has no [email] section
  std::string host = "localhost";
  std::uint16_t port = 25;
  std::string security = "none";  // "none" | "starttls" | "tls"
  // ca_file: PEM certificates trusted for the server's TLS certificate
  // (default: the system's store).
  std::string ca_file;
  std::string username;
  std::string password;
  std::string sender;
  std::string subject = "Reset your password";
  std::string body =
      "Hello {username},\n\nfollow {reset_url} to choose a new password.\n\n"
      "If you did not ask for this, ignore this message.\n";
  std::string reset_url;  // default: <hostname>/password_recoveries/?token={token}
};

struct JwtSettings {
  std::string iss;
  std::string private_key;  // PEM (SEC1 or PKCS#8); signs
  std::string public_key;   // PEM (SPKI); optional, must match private_key
  // previous_keys: older PEM keys (public or private) that still verify and
  // are published in the JWKS until removed.
  std::vector<std::string> previous_keys;
  std::int64_t lifetime = 3600;
  std::int64_t reset_lifetime = 3600;
  std::string algorithm = "ES256";  // label for secp256k1 keys: "ES256" or "ES256K"
  std::int64_t leeway = 5;          // seconds of clock skew accepted on exp/nbf
};

struct PasswordSettings {
  // present is false for a legacy file without [passwords]: the policy is then
  // permissive (as the original) and a warning is logged.
  bool present = false;
  std::uint32_t memory_kib = 19456;
  std::uint32_t iterations = 2;
  std::int64_t min_length = 8;
  std::int64_t max_length = 128;
  bool reject_common = true;
};

struct LimitSettings {
  std::int64_t user_failures = 5;
  std::int64_t address_failures = 100;
  std::int64_t window = 900;
  std::int64_t lockout = 60;
  std::int64_t max_lockout = 3600;
};

// Settings is the whole parsed file. Plain data; copyable.
struct Settings {
  std::filesystem::path path;       // the file that was read
  std::filesystem::path directory;  // its directory: base of relative paths
  ServerSettings server;
  BackendSettings backend;
  EmailSettings email;
  JwtSettings jwt;
  PasswordSettings passwords;
  LimitSettings limits;
  // warnings: unknown keys and similar non-fatal findings, one line each.
  std::vector<std::string> warnings;

  // ResolvePath makes `relative` relative to the settings file's directory
  // (absolute paths are returned unchanged).
  std::filesystem::path ResolvePath(const std::filesystem::path& relative) const;
};

// ParseSettings parses TOML text. `path` is used for messages and relative
// paths. Errors (kInvalidArgument) are one line: a TOML syntax error, a
// missing required key (server.hostname, identity_backend.class, jwt.iss,
// jwt.private_key), a value of the wrong type or out of range. PEM contents
// are checked later, when the keys are loaded.
Result<Settings> ParseSettings(std::string_view text, const std::filesystem::path& path);

// LoadSettings reads and parses `path`. Errors: kNotFound / kIo when the file
// cannot be read, else as ParseSettings.
Result<Settings> LoadSettings(const std::filesystem::path& path);

// LocateSettings returns `explicit_path` when given, else the first existing
// of ./settings.toml, ~/settings.toml, /etc/settings.toml. Error (kNotFound):
// "Failed to locate the settings.toml file."
Result<std::filesystem::path> LocateSettings(
    const std::optional<std::filesystem::path>& explicit_path);

}  // namespace kisee::idp
