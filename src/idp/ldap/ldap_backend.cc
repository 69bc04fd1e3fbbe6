#include "idp/ldap/ldap_backend.h"

#include <fmt/format.h>
#include <ldap.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <vector>

#include "idp/backend_util.h"
#include "idp/module.h"
#include "kisee/core/random.h"
#include "kisee/core/secret.h"

namespace kisee::idp {
namespace {

using SteadyClock = std::chrono::steady_clock;

// How long calls fail fast after the directory could not be reached.
constexpr auto kFailFastWindow = std::chrono::milliseconds(1000);

struct LdapOptions {
  std::string uri;
  std::string base_dn;
  std::string user_filter;
  std::string email_filter;
  std::string username_attribute;
  std::string email_attribute;
  std::string bind_dn;
  SecretBytes bind_password;
  bool starttls = false;
  std::string ca_file;
  std::int64_t timeout_s = 5;
  std::size_t pool_size = 4;
  bool writable = false;
  bool print_resets = false;
};

// IsDown is true for the result codes that mean "the directory is not
// reachable now" rather than "no" (RFC 4511 busy/unavailable, and libldap's
// client-side codes for a lost or impossible connection).
bool IsDown(int rc) {
  return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR ||
         rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY || rc == LDAP_TIMELIMIT_EXCEEDED ||
         rc == LDAP_LOCAL_ERROR || rc == LDAP_NO_MEMORY;
}

// Entry is what kisee reads from one directory entry.
struct Entry {
  std::string dn;
  User user;
  std::string change_marker;  // entryCSN or modifyTimestamp
};

// Connection is one LDAP session. `reader` says it is bound as bind_dn
// (a user bind replaces that identity).
struct Connection {
  LDAP* ld = nullptr;
  bool reader = false;
  bool broken = false;

  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (ld != nullptr) {
      ldap_unbind_ext_s(ld, nullptr, nullptr);
    }
  }
};

std::string FirstValue(LDAP* ld, LDAPMessage* entry, const std::string& attribute) {
  berval** values = ldap_get_values_len(ld, entry, attribute.c_str());
  std::string out;
  if (values != nullptr && values[0] != nullptr) {
    out.assign(values[0]->bv_val, values[0]->bv_len);
  }
  ldap_value_free_len(values);
  return out;
}

std::string Substitute(std::string_view filter, std::string_view key, std::string_view value) {
  std::string out(filter);
  const std::string escaped = EscapeLdapFilterValue(value);
  for (std::size_t pos = out.find(key); pos != std::string::npos;
       pos = out.find(key, pos + escaped.size())) {
    out.replace(pos, key.size(), escaped);
  }
  return out;
}

class LdapBackend final : public IdentityBackend {
 public:
  LdapBackend(const BackendContext& context, LdapOptions options)
      : options_(std::move(options)),
        policy_(context.policy),
        out_(context.out),
        deliver_mail_(context.deliver_mail),
        failures_(context.clock) {}

  Status Check() {
    KISEE_ASSIGN_OR_RETURN(auto conn, Acquire());
    Release(std::move(conn));
    return Ok();
  }

  Result<std::optional<User>> Identify(std::string_view username,
                                       std::string_view password) override {
    // Never an empty simple bind: the directory would take it for an
    // anonymous bind and answer success.
    if (password.empty()) {
      return std::optional<User>();
    }
    KISEE_ASSIGN_OR_RETURN(auto conn, Acquire());
    auto found = Search(*conn, Substitute(options_.user_filter, "{username}", username));
    if (!found) {
      Release(std::move(conn));
      return std::unexpected(found.error());
    }
    // An unknown user costs a bind too (to a DN that does not exist), so
    // that timing does not tell unknown users from wrong passwords.
    const std::string dn = *found ? (*found)->dn : "cn=kisee-no-such-user," + options_.base_dn;
    berval cred{static_cast<ber_len_t>(password.size()), const_cast<char*>(password.data())};
    conn->reader = false;
    const int rc =
        ldap_sasl_bind_s(conn->ld, dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
    if (!*found) {
      conn->broken = IsDown(rc);
      Release(std::move(conn));
      if (IsDown(rc)) {
        return Down(rc);
      }
      return std::optional<User>();
    }
    if (rc == LDAP_SUCCESS) {
      Release(std::move(conn));
      return std::optional<User>((*found)->user);
    }
    if (IsDown(rc)) {
      conn->broken = true;
      Release(std::move(conn));
      return Down(rc);
    }
    // LDAP_INVALID_CREDENTIALS, and anything else the directory says about
    // this bind (a locked account, say), is a failed login.
    Release(std::move(conn));
    return std::optional<User>();
  }

  Status RegisterUser(std::string_view, std::string_view, std::string_view, bool) override {
    return MakeError(ErrorCode::kPermissionDenied, "Registration is not available.");
  }

  Result<std::optional<User>> GetUserByEmail(std::string_view email) override {
    KISEE_ASSIGN_OR_RETURN(auto entry, Find(Substitute(options_.email_filter, "{email}", email)));
    if (!entry) {
      return std::optional<User>();
    }
    return std::optional<User>(entry->user);
  }

  Result<std::optional<User>> GetUserByUsername(std::string_view username) override {
    KISEE_ASSIGN_OR_RETURN(auto entry,
                           Find(Substitute(options_.user_filter, "{username}", username)));
    if (!entry) {
      return std::optional<User>();
    }
    return std::optional<User>(entry->user);
  }

  Status SetPasswordForUser(const User& user, std::string_view password) override {
    if (!options_.writable) {
      return MakeError(ErrorCode::kPermissionDenied, "Password changes are not available.");
    }
    KISEE_RETURN_IF_ERROR(policy_.Check(password));
    KISEE_ASSIGN_OR_RETURN(auto conn, Acquire());
    auto found = Search(*conn, Substitute(options_.user_filter, "{username}", user.username));
    if (!found) {
      Release(std::move(conn));
      return std::unexpected(found.error());
    }
    if (!*found) {
      Release(std::move(conn));
      return MakeError(ErrorCode::kNotFound, "No such user");
    }
    berval id{static_cast<ber_len_t>((*found)->dn.size()), (*found)->dn.data()};
    berval new_password{static_cast<ber_len_t>(password.size()),
                        const_cast<char*>(password.data())};
    berval generated{0, nullptr};
    const int rc =
        ldap_passwd_s(conn->ld, &id, nullptr, &new_password, &generated, nullptr, nullptr);
    if (generated.bv_val != nullptr) {
      ber_memfree(generated.bv_val);
    }
    if (rc != LDAP_SUCCESS) {
      conn->broken = IsDown(rc);
      Release(std::move(conn));
      if (IsDown(rc)) {
        return Down(rc);
      }
      return MakeError(ErrorCode::kInternal,
                       fmt::format("ldap: password modify refused: {}", ldap_err2string(rc)));
    }
    Release(std::move(conn));
    std::lock_guard lock(mutex_);
    nonces_.erase(user.user_id);
    return Ok();
  }

  Status SendResetPasswordChallenge(const User& user, std::string_view token) override {
    if (options_.print_resets) {
      PrintResetLine(out_, user, token);
      return Ok();
    }
    return MailResetToken(deliver_mail_, user, token);
  }

  bool IsConnectionAlive() override {
    auto conn = Acquire();
    if (!conn) {
      return false;
    }
    // A base-scope read of base_dn: the cheapest question that needs the
    // directory's database, not only its listener.
    LDAPMessage* result = nullptr;
    char no_attributes[] = LDAP_NO_ATTRS;
    char* attributes[] = {no_attributes, nullptr};
    timeval limit{static_cast<time_t>(options_.timeout_s), 0};
    const int rc =
        ldap_search_ext_s((*conn)->ld, options_.base_dn.c_str(), LDAP_SCOPE_BASE, "(objectClass=*)",
                          attributes, 0, nullptr, nullptr, &limit, 1, &result);
    ldap_msgfree(result);
    (*conn)->broken = IsDown(rc);
    Release(std::move(*conn));
    return rc == LDAP_SUCCESS;
  }

  Result<std::string> ResetStamp(const User& user) override {
    KISEE_ASSIGN_OR_RETURN(auto entry,
                           Find(Substitute(options_.user_filter, "{username}", user.username)));
    if (!entry) {
      return MakeError(ErrorCode::kNotFound, "No such user");
    }
    std::lock_guard lock(mutex_);
    return entry->change_marker + "|" + nonces_[user.user_id];
  }

  Result<std::string> NewResetStamp(const User& user) override {
    KISEE_ASSIGN_OR_RETURN(auto entry,
                           Find(Substitute(options_.user_filter, "{username}", user.username)));
    if (!entry) {
      return MakeError(ErrorCode::kNotFound, "No such user");
    }
    std::lock_guard lock(mutex_);
    std::string& nonce = nonces_[user.user_id];
    nonce = RandomId();
    return entry->change_marker + "|" + nonce;
  }

  FailureStore& failure_store() override { return failures_; }
  bool can_register() const override { return false; }
  bool can_change_passwords() const override { return options_.writable; }

 private:
  std::unexpected<Error> Down(int rc) {
    {
      std::lock_guard lock(mutex_);
      fail_fast_until_ = SteadyClock::now() + kFailFastWindow;
    }
    return MakeError(ErrorCode::kUnavailable,
                     fmt::format("ldap {}: {}", options_.uri, ldap_err2string(rc)));
  }

  // Find searches with a pooled reader connection.
  Result<std::optional<Entry>> Find(const std::string& filter) {
    KISEE_ASSIGN_OR_RETURN(auto conn, Acquire());
    auto found = Search(*conn, filter);
    Release(std::move(conn));
    return found;
  }

  // Search returns the one entry `filter` matches under base_dn; none or
  // several (an ambiguous filter must not pick someone) is std::nullopt.
  Result<std::optional<Entry>> Search(Connection& conn, const std::string& filter) {
    if (!conn.reader) {
      KISEE_RETURN_IF_ERROR(BindReader(conn));
    }
    std::vector<std::string> names = {options_.username_attribute, options_.email_attribute,
                                      "entryCSN", "modifyTimestamp"};
    std::vector<char*> attributes;
    for (std::string& name : names) {
      attributes.push_back(name.data());
    }
    attributes.push_back(nullptr);
    LDAPMessage* result = nullptr;
    timeval limit{static_cast<time_t>(options_.timeout_s), 0};
    const int rc =
        ldap_search_ext_s(conn.ld, options_.base_dn.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(),
                          attributes.data(), 0, nullptr, nullptr, &limit, 2, &result);
    std::unique_ptr<LDAPMessage, int (*)(LDAPMessage*)> owned(result, &ldap_msgfree);
    if (rc == LDAP_SIZELIMIT_EXCEEDED) {
      spdlog::warn(
          "ldap backend: user_filter/email_filter matched several entries; treated as "
          "no user");
      return std::optional<Entry>();
    }
    if (rc == LDAP_NO_SUCH_OBJECT) {
      spdlog::warn("ldap backend: base_dn {} does not exist", options_.base_dn);
      return std::optional<Entry>();
    }
    if (rc != LDAP_SUCCESS) {
      if (IsDown(rc)) {
        conn.broken = true;
        return Down(rc);
      }
      return MakeError(ErrorCode::kInternal, fmt::format("ldap search: {}", ldap_err2string(rc)));
    }
    if (ldap_count_entries(conn.ld, result) != 1) {
      return std::optional<Entry>();
    }
    LDAPMessage* first = ldap_first_entry(conn.ld, result);
    char* dn = ldap_get_dn(conn.ld, first);
    Entry entry;
    entry.dn = dn != nullptr ? dn : "";
    ldap_memfree(dn);
    const std::string name = FirstValue(conn.ld, first, options_.username_attribute);
    entry.user = User{.user_id = name,
                      .username = name,
                      .email = FirstValue(conn.ld, first, options_.email_attribute),
                      .is_superuser = false};
    entry.change_marker = FirstValue(conn.ld, first, "entryCSN");
    if (entry.change_marker.empty()) {
      entry.change_marker = FirstValue(conn.ld, first, "modifyTimestamp");
    }
    if (entry.dn.empty() || name.empty()) {
      return std::optional<Entry>();
    }
    return std::optional<Entry>(std::move(entry));
  }

  Status BindReader(Connection& conn) {
    berval cred{static_cast<ber_len_t>(options_.bind_password.size()),
                const_cast<char*>(options_.bind_password.chars().data())};
    // Without bind_dn: an anonymous bind (empty name and password), which is
    // what the search account is then meant to be.
    const char* dn = options_.bind_dn.empty() ? "" : options_.bind_dn.c_str();
    if (options_.bind_dn.empty()) {
      cred = berval{0, nullptr};
    }
    const int rc =
        ldap_sasl_bind_s(conn.ld, dn, LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
    if (rc != LDAP_SUCCESS) {
      conn.broken = true;
      if (IsDown(rc)) {
        return Down(rc);
      }
      return MakeError(ErrorCode::kUnavailable,
                       fmt::format("ldap: bind as bind_dn refused: {}", ldap_err2string(rc)));
    }
    conn.reader = true;
    return Ok();
  }

  Result<std::unique_ptr<Connection>> Open() {
    auto conn = std::make_unique<Connection>();
    int rc = ldap_initialize(&conn->ld, options_.uri.c_str());
    if (rc != LDAP_SUCCESS) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("ldap: bad uri {}: {}", options_.uri, ldap_err2string(rc)));
    }
    const int version = LDAP_VERSION3;
    ldap_set_option(conn->ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(conn->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    // NETWORK_TIMEOUT bounds connecting; TIMEOUT bounds every synchronous
    // call's wait for its answer (a directory that stopped answering).
    const timeval limit{static_cast<time_t>(options_.timeout_s), 0};
    ldap_set_option(conn->ld, LDAP_OPT_NETWORK_TIMEOUT, &limit);
    ldap_set_option(conn->ld, LDAP_OPT_TIMEOUT, &limit);
    if (!options_.ca_file.empty()) {
      ldap_set_option(conn->ld, LDAP_OPT_X_TLS_CACERTFILE, options_.ca_file.c_str());
    }
    const int demand = LDAP_OPT_X_TLS_DEMAND;
    ldap_set_option(conn->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
    // The TLS options above apply to this handle only once it has its own
    // context.
    const int client = 0;
    ldap_set_option(conn->ld, LDAP_OPT_X_TLS_NEWCTX, &client);
    if (options_.starttls) {
      rc = ldap_start_tls_s(conn->ld, nullptr, nullptr);
      if (rc != LDAP_SUCCESS) {
        // Never fall back to clear text.
        return Down(rc);
      }
    }
    KISEE_RETURN_IF_ERROR(BindReader(*conn));
    return conn;
  }

  Result<std::unique_ptr<Connection>> Acquire() {
    const auto deadline = SteadyClock::now() + std::chrono::seconds(options_.timeout_s);
    std::unique_lock lock(mutex_);
    while (idle_.empty() && open_ >= options_.pool_size) {
      if (available_.wait_until(lock, deadline) == std::cv_status::timeout) {
        return MakeError(ErrorCode::kUnavailable, "ldap: all connections busy");
      }
    }
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    if (SteadyClock::now() < fail_fast_until_) {
      return MakeError(ErrorCode::kUnavailable,
                       fmt::format("ldap {}: unreachable (retrying)", options_.uri));
    }
    ++open_;
    lock.unlock();
    auto conn = Open();
    if (!conn) {
      lock.lock();
      --open_;
      available_.notify_one();
      return std::unexpected(conn.error());
    }
    return std::move(*conn);
  }

  void Release(std::unique_ptr<Connection> conn) {
    std::lock_guard lock(mutex_);
    if (conn->broken) {
      --open_;
      // The directory went away: the idle sessions are as dead as this one.
      open_ -= idle_.size();
      idle_.clear();
    } else {
      idle_.push_back(std::move(conn));
    }
    available_.notify_all();
  }

  const LdapOptions options_;
  const PasswordPolicy& policy_;
  std::ostream& out_;
  std::function<Status(const User&, std::string_view)> deliver_mail_;
  MemoryFailureStore failures_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mutex_
  std::size_t open_ = 0;                           // guarded by mutex_
  SteadyClock::time_point fail_fast_until_;        // guarded by mutex_
  std::map<std::string, std::string> nonces_;      // guarded by mutex_
};

}  // namespace

std::string EscapeLdapFilterValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '*':
        out += "\\2a";
        break;
      case '(':
        out += "\\28";
        break;
      case ')':
        out += "\\29";
        break;
      case '\\':
        out += "\\5c";
        break;
      case '\0':
        out += "\\00";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Result<std::unique_ptr<IdentityBackend>> CreateLdapBackend(const BackendContext& context) {
  const Options& o = context.settings.backend.options;
  LdapOptions options;
  KISEE_ASSIGN_OR_RETURN(options.uri, StringOption(o, "uri", ""));
  KISEE_ASSIGN_OR_RETURN(options.base_dn, StringOption(o, "base_dn", ""));
  if (options.uri.empty() || options.base_dn.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "missing required setting identity_backend.options.uri or base_dn");
  }
  if (!options.uri.starts_with("ldap://") && !options.uri.starts_with("ldaps://")) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "identity_backend.options.uri must start with ldap:// or ldaps://");
  }
  KISEE_ASSIGN_OR_RETURN(options.user_filter, StringOption(o, "user_filter", "(uid={username})"));
  KISEE_ASSIGN_OR_RETURN(options.email_filter, StringOption(o, "email_filter", "(mail={email})"));
  KISEE_ASSIGN_OR_RETURN(options.username_attribute, StringOption(o, "username_attribute", "uid"));
  KISEE_ASSIGN_OR_RETURN(options.email_attribute, StringOption(o, "email_attribute", "mail"));
  KISEE_ASSIGN_OR_RETURN(options.bind_dn, StringOption(o, "bind_dn", ""));
  KISEE_ASSIGN_OR_RETURN(std::string bind_password, StringOption(o, "bind_password", ""));
  options.bind_password = SecretBytes(bind_password);
  SecureWipe(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(bind_password.data()),
                                     bind_password.size()));
  KISEE_ASSIGN_OR_RETURN(options.starttls, BoolOption(o, "starttls", false));
  KISEE_ASSIGN_OR_RETURN(std::string ca_file, StringOption(o, "ca_file", ""));
  if (!ca_file.empty()) {
    options.ca_file = context.settings.ResolvePath(ca_file).string();
  }
  KISEE_ASSIGN_OR_RETURN(options.timeout_s, IntOption(o, "timeout", 5));
  KISEE_ASSIGN_OR_RETURN(std::int64_t pool_size, IntOption(o, "pool_size", 4));
  KISEE_ASSIGN_OR_RETURN(options.writable, BoolOption(o, "writable", false));
  KISEE_ASSIGN_OR_RETURN(std::string delivery, StringOption(o, "reset_delivery", "email"));
  if (delivery != "email" && delivery != "stdout") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "identity_backend.options.reset_delivery must be \"email\" or \"stdout\"");
  }
  if (options.timeout_s < 1 || pool_size < 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "identity_backend.options.timeout and pool_size must be at least 1");
  }
  if (options.starttls && options.uri.starts_with("ldaps://")) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "identity_backend.options.starttls makes no sense with an ldaps:// uri");
  }
  if (options.writable && options.bind_dn.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "identity_backend.options.writable needs bind_dn (password changes are made "
                     "as that account)");
  }
  options.pool_size = static_cast<std::size_t>(pool_size);
  options.print_resets = delivery == "stdout";
  auto backend = std::make_unique<LdapBackend>(context, std::move(options));
  KISEE_RETURN_IF_ERROR(backend->Check());
  if (backend->can_change_passwords() && delivery == "email" && !context.deliver_mail) {
    spdlog::warn("ldap backend: no [email] section, password-reset tokens cannot be delivered");
  }
  return std::unique_ptr<IdentityBackend>(std::move(backend));
}

}  // namespace kisee::idp

extern "C" __attribute__((visibility("default"))) const kisee::idp::ModuleApi* kisee_module_api() {
  static const kisee::idp::ModuleApi api = [] {
    kisee::idp::ModuleApi a = kisee::idp::MakeModuleApi();
    a.create_backend = &kisee::idp::CreateLdapBackend;
    return a;
  }();
  return &api;
}
