#include "kisee/idp/settings.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace kisee::idp {
namespace {

constexpr std::string_view kDemoAlias = "kisee.providers.demo.DemoBackend";

// Reader walks one TOML table, converting and type-checking values, and
// remembers which keys it was asked for so that the rest can be reported as
// unknown. Every failure becomes the first error; later reads are no-ops.
class Reader {
 public:
  Reader(const toml::table* table, std::string prefix, std::optional<Error>& error)
      : table_(table), prefix_(std::move(prefix)), error_(error) {}

  bool exists() const { return table_ != nullptr; }

  void String(std::string_view key, std::string& out, bool required = false) {
    const toml::node* node = Find(key, required);
    if (node == nullptr) {
      return;
    }
    if (auto v = node->value<std::string>(); v && node->is_string()) {
      out = *v;
    } else {
      Fail(key, "must be a string");
    }
  }

  void Bool(std::string_view key, bool& out) {
    const toml::node* node = Find(key, false);
    if (node == nullptr) {
      return;
    }
    if (!node->is_boolean()) {
      Fail(key, "must be true or false");
      return;
    }
    out = node->as_boolean()->get();
  }

  void Int(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max) {
    const toml::node* node = Find(key, false);
    if (node == nullptr) {
      return;
    }
    if (!node->is_integer()) {
      Fail(key, "must be an integer");
      return;
    }
    std::int64_t v = node->as_integer()->get();
    if (v < min || v > max) {
      Fail(key, fmt::format("must be between {} and {}", min, max));
      return;
    }
    out = v;
  }

  template <typename T>
  void Int(std::string_view key, T& out, std::int64_t min, std::int64_t max) {
    std::int64_t v = static_cast<std::int64_t>(out);
    Int(key, v, min, max);
    out = static_cast<T>(v);
  }

  void StringList(std::string_view key, std::vector<std::string>& out) {
    const toml::node* node = Find(key, false);
    if (node == nullptr) {
      return;
    }
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      Fail(key, "must be an array of strings");
      return;
    }
    out.clear();
    for (const toml::node& item : *array) {
      if (!item.is_string()) {
        Fail(key, "must be an array of strings");
        return;
      }
      out.push_back(item.as_string()->get());
    }
  }

  // Table marks `key` as known and returns the sub-table (nullptr if absent).
  const toml::table* Table(std::string_view key) {
    known_.insert(std::string(key));
    if (table_ == nullptr) {
      return nullptr;
    }
    const toml::node* node = table_->get(key);
    if (node == nullptr) {
      return nullptr;
    }
    if (!node->is_table()) {
      Fail(key, "must be a table");
      return nullptr;
    }
    return node->as_table();
  }

  void Ignore(std::string_view key) { known_.insert(std::string(key)); }

  // WarnUnknown appends one warning per key that nobody asked for.
  void WarnUnknown(std::vector<std::string>& warnings) const {
    if (table_ == nullptr) {
      return;
    }
    for (const auto& [key, node] : *table_) {
      if (!known_.contains(std::string(key.str()))) {
        warnings.push_back(fmt::format("unknown setting {} (ignored)", Name(key.str())));
      }
    }
  }

  std::string Name(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : fmt::format("{}.{}", prefix_, key);
  }

  void Fail(std::string_view key, std::string_view what) {
    if (!error_) {
      error_.emplace(ErrorCode::kInvalidArgument, fmt::format("{} {}", Name(key), what));
    }
  }

 private:
  const toml::node* Find(std::string_view key, bool required) {
    known_.insert(std::string(key));
    const toml::node* node = table_ == nullptr ? nullptr : table_->get(key);
    if (node == nullptr && required && !error_) {
      error_.emplace(ErrorCode::kInvalidArgument,
                     fmt::format("missing required setting {}", Name(key)));
    }
    return node;
  }

  const toml::table* table_;
  std::string prefix_;
  std::optional<Error>& error_;
  std::set<std::string> known_;
};

void ReadOptions(const toml::table* table, Options& out, std::vector<std::string>& warnings) {
  if (table == nullptr) {
    return;
  }
  for (const auto& [key, node] : *table) {
    std::string name(key.str());
    if (node.is_string()) {
      out[name] = node.as_string()->get();
    } else if (node.is_integer()) {
      out[name] = node.as_integer()->get();
    } else if (node.is_floating_point()) {
      out[name] = node.as_floating_point()->get();
    } else if (node.is_boolean()) {
      out[name] = node.as_boolean()->get();
    } else {
      warnings.push_back(
          fmt::format("identity_backend.options.{} is not a scalar (ignored)", name));
    }
  }
}

// The [identity_backend.options] each built-in backend reads (kisee-api §6,
// docs/kisee-backends.md). Any other key is a typo or a leftover, warned
// about like every unknown key; a plugin's options are its own business.
// Keep in step with the backends' Create functions.
const std::vector<std::string_view>* KnownBackendOptions(std::string_view class_name) {
  static const std::map<std::string_view, std::vector<std::string_view>, std::less<>> kKnown = {
      {"demo", {"username_min_length"}},
      {"sqlite", {"path", "username_min_length", "busy_timeout_ms", "reset_delivery"}},
      {"postgresql", {"dsn", "pool_size", "timeout", "username_min_length", "reset_delivery"}},
      {"sql",
       {"driver", "dsn", "path", "pool_size", "timeout", "username_min_length", "reset_delivery",
        "by_username", "by_email", "set_password", "insert_user"}},
      {"ldap",
       {"uri", "base_dn", "user_filter", "email_filter", "username_attribute", "email_attribute",
        "bind_dn", "bind_password", "starttls", "ca_file", "timeout", "pool_size", "writable",
        "reset_delivery"}},
  };
  auto it = kKnown.find(class_name);
  return it == kKnown.end() ? nullptr : &it->second;
}

std::string StripOneSlash(std::string text) {
  if (!text.empty() && text.back() == '/') {
    text.pop_back();
  }
  return text;
}

}  // namespace

std::filesystem::path Settings::ResolvePath(const std::filesystem::path& relative) const {
  if (relative.is_absolute()) {
    return relative;
  }
  return directory / relative;
}

Result<Settings> ParseSettings(std::string_view text, const std::filesystem::path& path) {
  toml::table root;
  try {
    root = toml::parse(text, path.string());
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return MakeError(
        ErrorCode::kInvalidArgument,
        fmt::format("{}:{}:{}: {}", path.string(), where.line, where.column, e.description()));
  }

  Settings s;
  s.path = path;
  s.directory = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::optional<Error> error;
  Reader top(&root, "", error);
  // The original reads Sentry's DSN from here; we have no Sentry: accepted, unused.
  top.Ignore("SENTRY_DSN");

  Reader server(top.Table("server"), "server", error);
  server.String("host", s.server.host);
  server.String("hostname", s.server.hostname, /*required=*/true);
  server.Int("port", s.server.port, 0, 65535);
  server.Bool("debug", s.server.debug);
  server.Int("workers", s.server.workers, 0, 1024);
  server.Bool("registration", s.server.registration);
  server.StringList("cors_origins", s.server.cors_origins);
  server.StringList("trusted_proxies", s.server.trusted_proxies);
  s.server.hostname = StripOneSlash(s.server.hostname);

  Reader backend(top.Table("identity_backend"), "identity_backend", error);
  backend.String("class", s.backend.class_name, /*required=*/true);
  if (s.backend.class_name == kDemoAlias) {
    s.backend.class_name = "demo";
  }
  ReadOptions(backend.Table("options"), s.backend.options, s.warnings);
  if (const auto* known = KnownBackendOptions(s.backend.class_name); known != nullptr) {
    for (const auto& [name, value] : s.backend.options) {
      if (std::find(known->begin(), known->end(), name) == known->end()) {
        s.warnings.push_back(
            fmt::format("unknown setting identity_backend.options.{} (ignored)", name));
      }
    }
  }

  Reader email(top.Table("email"), "email", error);
  s.email.present = email.exists();
  email.String("host", s.email.host);
  email.Int("port", s.email.port, 1, 65535);
  email.String("security", s.email.security);
  email.String("ca_file", s.email.ca_file);
  email.String("username", s.email.username);
  email.String("password", s.email.password);
  email.String("sender", s.email.sender);
  email.String("subject", s.email.subject);
  email.String("body", s.email.body);
  email.String("reset_url", s.email.reset_url);
  if (!error && s.email.security != "none" && s.email.security != "starttls" &&
      s.email.security != "tls") {
    email.Fail("security", "must be \"none\", \"starttls\" or \"tls\"");
  }
  if (!s.email.ca_file.empty()) {
    s.email.ca_file = s.ResolvePath(s.email.ca_file).string();
  }
  if (s.email.reset_url.empty()) {
    s.email.reset_url = s.server.hostname + "/password_recoveries/?token={token}";
  }

  Reader jwt(top.Table("jwt"), "jwt", error);
  jwt.String("iss", s.jwt.iss, /*required=*/true);
  jwt.String("private_key", s.jwt.private_key, /*required=*/true);
  jwt.String("public_key", s.jwt.public_key);
  jwt.StringList("previous_keys", s.jwt.previous_keys);
  jwt.Int("lifetime", s.jwt.lifetime, 1, 366LL * 24 * 3600);
  jwt.Int("reset_lifetime", s.jwt.reset_lifetime, 1, 366LL * 24 * 3600);
  jwt.String("algorithm", s.jwt.algorithm);
  jwt.Int("leeway", s.jwt.leeway, 0, 600);
  if (!error && s.jwt.algorithm != "ES256" && s.jwt.algorithm != "ES256K") {
    jwt.Fail("algorithm", "must be \"ES256\" or \"ES256K\"");
  }

  Reader passwords(top.Table("passwords"), "passwords", error);
  s.passwords.present = passwords.exists();
  if (!s.passwords.present) {
    // The original had no policy at all: stay as permissive, minus the empty
    // password (which is always a wrong password).
    s.passwords.min_length = 1;
    s.passwords.max_length = 1024;
    s.passwords.reject_common = false;
  }
  passwords.Int("memory_kib", s.passwords.memory_kib, 8, 4LL * 1024 * 1024);
  passwords.Int("iterations", s.passwords.iterations, 1, 100);
  passwords.Int("min_length", s.passwords.min_length, 1, 1024);
  passwords.Int("max_length", s.passwords.max_length, 1, 4096);
  passwords.Bool("reject_common", s.passwords.reject_common);
  if (!error && s.passwords.max_length < s.passwords.min_length) {
    passwords.Fail("max_length", "must not be smaller than passwords.min_length");
  }

  Reader limits(top.Table("limits"), "limits", error);
  limits.Int("user_failures", s.limits.user_failures, 1, 1'000'000);
  limits.Int("address_failures", s.limits.address_failures, 1, 1'000'000);
  limits.Int("window", s.limits.window, 1, 366LL * 24 * 3600);
  limits.Int("lockout", s.limits.lockout, 1, 366LL * 24 * 3600);
  limits.Int("max_lockout", s.limits.max_lockout, 1, 366LL * 24 * 3600);

  if (error) {
    return std::unexpected(error->WithContext(path.string()));
  }
  for (Reader* r : {&top, &server, &backend, &email, &jwt, &passwords, &limits}) {
    r->WarnUnknown(s.warnings);
  }
  if (!s.passwords.present) {
    s.warnings.push_back(
        "no [passwords] section: the password policy is permissive (as the original kisee); "
        "add one (see kisee-quickstart) to enforce a minimum length and refuse common passwords");
  }
  return s;
}

Result<Settings> LoadSettings(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError(ErrorCode::kNotFound, fmt::format("cannot read {}", path.string()));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return MakeError(ErrorCode::kIo, fmt::format("cannot read {}", path.string()));
  }
  return ParseSettings(text.str(), path);
}

Result<std::filesystem::path> LocateSettings(
    const std::optional<std::filesystem::path>& explicit_path) {
  if (explicit_path) {
    return *explicit_path;
  }
  std::vector<std::filesystem::path> candidates = {"settings.toml"};
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    candidates.emplace_back(std::filesystem::path(home) / "settings.toml");
  }
  candidates.emplace_back("/etc/settings.toml");
  for (const auto& candidate : candidates) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) {
      return candidate;
    }
  }
  return MakeError(ErrorCode::kNotFound, "Failed to locate the settings.toml file.");
}

}  // namespace kisee::idp
