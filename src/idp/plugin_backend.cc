#include "idp/plugin_backend.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <map>
#include <mutex>

#include "idp/backend_util.h"
#include "kisee/idp/plugin.h"

// The host's output slot of one plugin call (opaque to plugins).
struct kisee_out {
  std::optional<kisee::idp::User> user;
  std::optional<std::string> text;
};

namespace kisee::idp {
namespace {

std::string_view View(kisee_str s) {
  return s.size == 0 || s.data == nullptr ? std::string_view() : std::string_view(s.data, s.size);
}

kisee_str Str(std::string_view s) { return kisee_str{s.data(), s.size()}; }

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  return text;
}

// HostContext is kisee_host.context: what the host callbacks need.
struct HostContext {
  const crypto::PasswordHasher* hasher;
  const PasswordPolicy* policy;
  std::string plugin_name;
};

void HostLog(void* context, int level, const char* message) {
  const auto* host = static_cast<const HostContext*>(context);
  const char* text = message != nullptr ? message : "";
  switch (level) {
    case KISEE_LOG_DEBUG:
      spdlog::debug("plugin {}: {}", host->plugin_name, text);
      break;
    case KISEE_LOG_INFO:
      spdlog::info("plugin {}: {}", host->plugin_name, text);
      break;
    case KISEE_LOG_WARN:
      spdlog::warn("plugin {}: {}", host->plugin_name, text);
      break;
    default:
      spdlog::error("plugin {}: {}", host->plugin_name, text);
      break;
  }
}

void HostSetUser(kisee_out* out, const kisee_user* user) {
  if (out == nullptr || user == nullptr) {
    return;
  }
  out->user = User{.user_id = std::string(View(user->user_id)),
                   .username = std::string(View(user->username)),
                   .email = std::string(View(user->email)),
                   .is_superuser = user->is_superuser != 0};
}

void HostSetText(kisee_out* out, kisee_str text) {
  if (out != nullptr) {
    out->text = std::string(View(text));
  }
}

std::size_t HostHash(void* context, kisee_str password, char* buffer, std::size_t capacity) {
  auto done = static_cast<const HostContext*>(context)->hasher->Hash(View(password));
  if (!done || buffer == nullptr || done->size() + 1 > capacity) {
    return 0;
  }
  std::memcpy(buffer, done->data(), done->size());
  buffer[done->size()] = '\0';
  return done->size();
}

int HostVerify(void* context, kisee_str password, kisee_str encoded) {
  return static_cast<const HostContext*>(context)->hasher->Verify(View(password), View(encoded))
             ? 1
             : 0;
}

void HostVerifyDummy(void* context, kisee_str password) {
  static_cast<const HostContext*>(context)->hasher->VerifyDummy(View(password));
}

int HostNeedsRehash(void* context, kisee_str encoded) {
  return static_cast<const HostContext*>(context)->hasher->NeedsRehash(View(encoded)) ? 1 : 0;
}

kisee_status HostCheckPolicy(void* context, kisee_str password, kisee_out* reason) {
  auto ok = static_cast<const HostContext*>(context)->policy->Check(View(password));
  if (ok) {
    return KISEE_OK;
  }
  HostSetText(reason, Str(ok.error().message()));
  return KISEE_REJECTED;
}

// User fields are copied into a holder so that the kisee_user handed to the
// plugin points into memory that lives as long as the call.
struct CUser {
  explicit CUser(const User& user)
      : value{Str(user.user_id), Str(user.username), Str(user.email), user.is_superuser ? 1 : 0} {}
  kisee_user value;
};

class PluginBackend final : public IdentityBackend {
 public:
  PluginBackend(const BackendContext& context, const kisee_backend_plugin* table,
                std::unique_ptr<HostContext> host_context, std::string settings_dir)
      : table_(table),
        host_context_(std::move(host_context)),
        settings_dir_(std::move(settings_dir)),
        hasher_(context.hasher),
        deliver_mail_(context.deliver_mail),
        failures_(context.clock) {
    host_ = kisee_host{.abi_version = KISEE_PLUGIN_ABI_VERSION,
                       .struct_size = sizeof(kisee_host),
                       .context = host_context_.get(),
                       .settings_dir = settings_dir_.c_str(),
                       .log = &HostLog,
                       .set_user = &HostSetUser,
                       .set_text = &HostSetText,
                       .hash_password = &HostHash,
                       .verify_password = &HostVerify,
                       .verify_dummy = &HostVerifyDummy,
                       .needs_rehash = &HostNeedsRehash,
                       .check_password_policy = &HostCheckPolicy};
  }

  ~PluginBackend() override {
    if (instance_ != nullptr) {
      table_->destroy(instance_);
    }
  }

  Status Start(const Options& options) {
    std::vector<std::string> names;
    names.reserve(options.size());
    for (const auto& [name, value] : options) {
      names.push_back(name);
    }
    std::vector<kisee_option> c_options;
    std::size_t i = 0;
    for (const auto& [name, value] : options) {
      kisee_option o{.name = Str(names[i++]),
                     .type = KISEE_OPTION_STRING,
                     .string = {nullptr, 0},
                     .integer = 0,
                     .real = 0,
                     .boolean = 0};
      if (const auto* s = std::get_if<std::string>(&value)) {
        o.string = Str(*s);
      } else if (const auto* n = std::get_if<std::int64_t>(&value)) {
        o.type = KISEE_OPTION_INTEGER;
        o.integer = *n;
      } else if (const auto* d = std::get_if<double>(&value)) {
        o.type = KISEE_OPTION_FLOAT;
        o.real = *d;
      } else if (const auto* b = std::get_if<bool>(&value)) {
        o.type = KISEE_OPTION_BOOL;
        o.boolean = *b ? 1 : 0;
      }
      c_options.push_back(o);
    }
    kisee_out error;
    void* instance = nullptr;
    kisee_status status = KISEE_ERROR;
    try {
      status = table_->create(&host_, c_options.data(), c_options.size(), &instance, &error);
    } catch (...) {
      return MakeError(ErrorCode::kFailedPrecondition, "create() threw an exception");
    }
    if (status != KISEE_OK || instance == nullptr) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       OneLine(error.text ? *error.text : "create() failed without a reason"));
    }
    instance_ = instance;
    std::uint32_t flags = (table_->register_user != nullptr ? KISEE_CAN_REGISTER : 0u) |
                          (table_->set_password != nullptr ? KISEE_CAN_CHANGE_PASSWORDS : 0u);
    if (table_->capabilities != nullptr) {
      try {
        flags &= table_->capabilities(instance_);
      } catch (...) {
        return MakeError(ErrorCode::kFailedPrecondition, "capabilities() threw an exception");
      }
    }
    can_register_ = (flags & KISEE_CAN_REGISTER) != 0;
    can_change_passwords_ = (flags & KISEE_CAN_CHANGE_PASSWORDS) != 0;
    return Ok();
  }

  Result<std::optional<User>> Identify(std::string_view username,
                                       std::string_view password) override {
    if (password.empty()) {
      hasher_.VerifyDummy(password);
      return std::optional<User>();
    }
    kisee_out out;
    KISEE_ASSIGN_OR_RETURN(kisee_status status, Call("identify", out, [&] {
                             return table_->identify(instance_, Str(username), Str(password), &out);
                           }));
    return UserResult("identify", status, out);
  }

  Status RegisterUser(std::string_view username, std::string_view password, std::string_view email,
                      bool is_superuser) override {
    if (!can_register_) {
      return MakeError(ErrorCode::kPermissionDenied, "Registration is not available.");
    }
    kisee_out out;
    KISEE_ASSIGN_OR_RETURN(kisee_status status, Call("register_user", out, [&] {
                             return table_->register_user(instance_, Str(username), Str(password),
                                                          Str(email), is_superuser ? 1 : 0, &out);
                           }));
    return StatusResult("register_user", status, out, "User already exist");
  }

  Result<std::optional<User>> GetUserByEmail(std::string_view email) override {
    kisee_out out;
    KISEE_ASSIGN_OR_RETURN(kisee_status status, Call("get_user_by_email", out, [&] {
                             return table_->get_user_by_email(instance_, Str(email), &out);
                           }));
    return UserResult("get_user_by_email", status, out);
  }

  Result<std::optional<User>> GetUserByUsername(std::string_view username) override {
    kisee_out out;
    KISEE_ASSIGN_OR_RETURN(kisee_status status, Call("get_user_by_username", out, [&] {
                             return table_->get_user_by_username(instance_, Str(username), &out);
                           }));
    return UserResult("get_user_by_username", status, out);
  }

  Status SetPasswordForUser(const User& user, std::string_view password) override {
    if (!can_change_passwords_) {
      return MakeError(ErrorCode::kPermissionDenied, "Password changes are not available.");
    }
    CUser c_user(user);
    kisee_out out;
    KISEE_ASSIGN_OR_RETURN(kisee_status status, Call("set_password", out, [&] {
                             return table_->set_password(instance_, &c_user.value, Str(password),
                                                         &out);
                           }));
    if (status == KISEE_NOT_FOUND) {
      return MakeError(ErrorCode::kNotFound, "No such user");
    }
    KISEE_RETURN_IF_ERROR(StatusResult("set_password", status, out, "User already exist"));
    BumpMemoryStamp(user);
    return Ok();
  }

  Status SendResetPasswordChallenge(const User& user, std::string_view token) override {
    if (table_->send_reset == nullptr) {
      return MailResetToken(deliver_mail_, user, token);
    }
    CUser c_user(user);
    kisee_out out;
    KISEE_ASSIGN_OR_RETURN(kisee_status status, Call("send_reset", out, [&] {
                             return table_->send_reset(instance_, &c_user.value, Str(token));
                           }));
    return StatusResult("send_reset", status, out, "");
  }

  bool IsConnectionAlive() override {
    if (table_->is_alive == nullptr) {
      return true;
    }
    try {
      return table_->is_alive(instance_) != 0;
    } catch (...) {
      return false;
    }
  }

  Result<std::string> ResetStamp(const User& user) override {
    return Stamp(user, table_->reset_stamp, "reset_stamp");
  }

  Result<std::string> NewResetStamp(const User& user) override {
    if (table_->new_reset_stamp == nullptr) {
      BumpMemoryStamp(user);
    }
    return Stamp(user, table_->new_reset_stamp, "new_reset_stamp");
  }

  FailureStore& failure_store() override { return failures_; }
  bool can_register() const override { return can_register_; }
  bool can_change_passwords() const override { return can_change_passwords_; }

 private:
  using StampFn = kisee_status (*)(void*, const kisee_user*, kisee_out*);

  // Call runs one plugin function; an exception (a C++ plugin breaking the
  // contract) becomes an error instead of taking kisee down.
  template <typename Fn>
  Result<kisee_status> Call(const char* what, kisee_out& out, Fn fn) {
    try {
      return fn();
    } catch (...) {
      (void)out;
      return MakeError(ErrorCode::kInternal,
                       fmt::format("plugin {}: {}() threw an exception", name(), what));
    }
  }

  std::string name() const { return host_context_->plugin_name; }

  Error Misbehaved(const char* what, const kisee_out& out, kisee_status status) const {
    const std::string detail = out.text ? OneLine(*out.text) : "";
    if (status == KISEE_UNAVAILABLE) {
      return Error(ErrorCode::kUnavailable,
                   fmt::format("plugin {}: {}: store unavailable {}", name(), what, detail));
    }
    return Error(ErrorCode::kInternal, fmt::format("plugin {}: {}() returned {} {}", name(), what,
                                                   static_cast<int>(status), detail));
  }

  Result<std::optional<User>> UserResult(const char* what, kisee_status status,
                                         const kisee_out& out) const {
    if (status == KISEE_NOT_FOUND) {
      return std::optional<User>();
    }
    if (status == KISEE_OK) {
      if (!out.user || out.user->user_id.empty() || out.user->username.empty()) {
        return MakeError(
            ErrorCode::kInternal,
            fmt::format("plugin {}: {}() returned KISEE_OK without a user", name(), what));
      }
      return std::optional<User>(*out.user);
    }
    return std::unexpected(Misbehaved(what, out, status));
  }

  Status StatusResult(const char* what, kisee_status status, const kisee_out& out,
                      std::string_view exists_message) const {
    switch (status) {
      case KISEE_OK:
        return Ok();
      case KISEE_ALREADY_EXISTS:
        return MakeError(ErrorCode::kAlreadyExists,
                         out.text ? OneLine(*out.text) : std::string(exists_message));
      case KISEE_REJECTED:
        return MakeError(ErrorCode::kInvalidArgument,
                         out.text ? OneLine(*out.text) : std::string("Rejected"));
      default:
        return std::unexpected(Misbehaved(what, out, status));
    }
  }

  Result<std::string> Stamp(const User& user, StampFn fn, const char* what) {
    if (fn == nullptr || (table_->reset_stamp == nullptr || table_->new_reset_stamp == nullptr)) {
      KISEE_ASSIGN_OR_RETURN(auto exists, GetUserByUsername(user.username));
      if (!exists) {
        return MakeError(ErrorCode::kNotFound, "No such user");
      }
      std::lock_guard lock(mutex_);
      return std::to_string(memory_stamps_[user.user_id]);
    }
    CUser c_user(user);
    kisee_out out;
    KISEE_ASSIGN_OR_RETURN(kisee_status status,
                           Call(what, out, [&] { return fn(instance_, &c_user.value, &out); }));
    if (status == KISEE_NOT_FOUND) {
      return MakeError(ErrorCode::kNotFound, "No such user");
    }
    if (status != KISEE_OK || !out.text) {
      return std::unexpected(Misbehaved(what, out, status));
    }
    return *out.text;
  }

  void BumpMemoryStamp(const User& user) {
    std::lock_guard lock(mutex_);
    memory_stamps_[user.user_id] = ++next_stamp_;
  }

  const kisee_backend_plugin* table_;
  std::unique_ptr<HostContext> host_context_;
  const std::string settings_dir_;
  const crypto::PasswordHasher& hasher_;
  std::function<Status(const User&, std::string_view)> deliver_mail_;
  MemoryFailureStore failures_;
  kisee_host host_;
  void* instance_ = nullptr;
  bool can_register_ = false;
  bool can_change_passwords_ = false;
  std::mutex mutex_;
  std::map<std::string, std::uint64_t> memory_stamps_;  // guarded by mutex_
  std::uint64_t next_stamp_ = 0;                        // guarded by mutex_
};

}  // namespace

Result<std::unique_ptr<IdentityBackend>> CreatePluginBackend(const BackendContext& context,
                                                             std::string_view path_text) {
  const std::filesystem::path path = context.settings.ResolvePath(std::string(path_text));
  auto fail = [&](std::string_view why) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     OneLine(fmt::format("plugin {}: {}", path.string(), why)));
  };
  if (path_text.empty()) {
    return fail("no path after \"plugin:\"");
  }
  // Loaded once for the life of the process: backends are never unloaded.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return fail(why != nullptr ? why : "cannot be loaded");
  }
  auto entry = reinterpret_cast<kisee_plugin_entry_fn>(dlsym(handle, KISEE_PLUGIN_ENTRY));
  if (entry == nullptr) {
    dlclose(handle);
    return fail(fmt::format("no {} symbol: not a kisee backend plugin of ABI version {}",
                            KISEE_PLUGIN_ENTRY, KISEE_PLUGIN_ABI_VERSION));
  }
  const kisee_backend_plugin* table = nullptr;
  try {
    table = entry(KISEE_PLUGIN_ABI_VERSION);
  } catch (...) {
    table = nullptr;
  }
  if (table == nullptr) {
    dlclose(handle);
    return fail(fmt::format("cannot serve plugin ABI version {}", KISEE_PLUGIN_ABI_VERSION));
  }
  if (const std::uint32_t version = table->abi_version; version != KISEE_PLUGIN_ABI_VERSION) {
    // `table` lives in the library: read from it before unloading.
    dlclose(handle);
    return fail(fmt::format("built for plugin ABI version {}, this kisee speaks version {}",
                            version, KISEE_PLUGIN_ABI_VERSION));
  }
  if (table->struct_size < sizeof(kisee_backend_plugin) || table->create == nullptr ||
      table->destroy == nullptr || table->identify == nullptr ||
      table->get_user_by_username == nullptr || table->get_user_by_email == nullptr) {
    dlclose(handle);
    return fail("its function table lacks a required function");
  }
  if ((table->reset_stamp == nullptr) != (table->new_reset_stamp == nullptr)) {
    dlclose(handle);
    return fail("reset_stamp and new_reset_stamp must be given together");
  }
  auto host_context = std::make_unique<HostContext>(HostContext{
      .hasher = &context.hasher,
      .policy = &context.policy,
      .plugin_name = table->name != nullptr ? std::string(table->name) : path.filename().string()});
  auto backend = std::make_unique<PluginBackend>(context, table, std::move(host_context),
                                                 context.settings.directory.string());
  if (auto started = backend->Start(context.settings.backend.options); !started) {
    // The library stays loaded: create() may have left threads or handlers.
    return fail(started.error().message());
  }
  spdlog::info("plugin backend {} loaded from {}", table->name != nullptr ? table->name : "",
               path.string());
  if (backend->can_change_passwords() && table->send_reset == nullptr && !context.deliver_mail) {
    spdlog::warn("plugin backend: no [email] section, password-reset tokens cannot be delivered");
  }
  return std::unique_ptr<IdentityBackend>(std::move(backend));
}

}  // namespace kisee::idp
