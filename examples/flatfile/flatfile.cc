// An example kisee backend plugin: users in a `username:email:hash` text
// file (see README.md). It relies on nothing of kisee but the C ABI of
// kisee/idp/plugin.h.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "kisee/idp/plugin.h"

namespace {

std::string_view View(kisee_str s) {
  return s.size == 0 || s.data == nullptr ? std::string_view() : std::string_view(s.data, s.size);
}

kisee_str Str(std::string_view s) { return kisee_str{s.data(), s.size()}; }

struct Account {
  std::string username;
  std::string email;
  std::string hash;
};

// FileLock holds an exclusive flock on <path>.lock: the writers of every
// process sharing the file take turns.
class FileLock {
 public:
  explicit FileLock(const std::string& path)
      : fd_(::open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ >= 0) {
      ::flock(fd_, LOCK_EX);
    }
  }
  ~FileLock() {
    if (fd_ >= 0) {
      ::flock(fd_, LOCK_UN);
      ::close(fd_);
    }
  }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

bool ValidField(std::string_view text) {
  for (unsigned char c : text) {
    if (c == ':' || c < 0x20 || c == 0x7f) {
      return false;
    }
  }
  return true;
}

class FlatFile {
 public:
  FlatFile(const kisee_host* host, std::string path, bool writable)
      : host_(host), path_(std::move(path)), writable_(writable) {}

  bool writable() const { return writable_; }

  void Log(int level, const std::string& message) const {
    host_->log(host_->context, level, message.c_str());
  }

  // Reload re-reads the file when it changed since the last read (another
  // process may have written it). REQUIRES: mutex_ held.
  bool Reload() {
    struct stat now {};
    if (::stat(path_.c_str(), &now) != 0) {
      return false;
    }
    if (loaded_ && now.st_ino == seen_.st_ino && now.st_size == seen_.st_size &&
        now.st_mtim.tv_sec == seen_.st_mtim.tv_sec &&
        now.st_mtim.tv_nsec == seen_.st_mtim.tv_nsec) {
      return true;
    }
    std::ifstream in(path_);
    if (!in) {
      return false;
    }
    std::vector<Account> accounts;
    std::string line;
    int skipped = 0;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') {
        continue;
      }
      const std::size_t first = line.find(':');
      const std::size_t second = first == std::string::npos ? first : line.find(':', first + 1);
      if (second == std::string::npos || first == 0) {
        ++skipped;
        continue;
      }
      accounts.push_back(Account{line.substr(0, first), line.substr(first + 1, second - first - 1),
                                 line.substr(second + 1)});
    }
    if (skipped > 0) {
      Log(KISEE_LOG_WARN, std::to_string(skipped) + " malformed line(s) in " + path_ + " ignored");
    }
    accounts_ = std::move(accounts);
    seen_ = now;
    loaded_ = true;
    return true;
  }

  // Save writes every account to a temporary file and renames it over the
  // file, so that readers never see half of it. REQUIRES: mutex_ held and
  // the FileLock.
  bool Save() {
    const std::string temp = path_ + ".tmp";
    {
      std::ofstream out(temp, std::ios::trunc);
      out << "# kisee flat-file users: username:email:password hash\n";
      for (const Account& a : accounts_) {
        out << a.username << ':' << a.email << ':' << a.hash << '\n';
      }
      out.flush();
      if (!out) {
        return false;
      }
    }
    // The new file keeps the old one's permissions (hashes stay private).
    ::chmod(temp.c_str(), seen_.st_mode & 07777);
    if (std::rename(temp.c_str(), path_.c_str()) != 0) {
      return false;
    }
    loaded_ = false;
    return Reload();
  }

  const Account* Find(std::string_view username) const {
    for (const Account& a : accounts_) {
      if (a.username == username) {
        return &a;
      }
    }
    return nullptr;
  }

  const Account* FindByEmail(std::string_view email) const {
    for (const Account& a : accounts_) {
      if (a.email.size() == email.size() &&
          ::strncasecmp(a.email.data(), email.data(), email.size()) == 0) {
        return &a;
      }
    }
    return nullptr;
  }

  void SetUser(kisee_out* out, const Account& a) const {
    kisee_user user{Str(a.username), Str(a.username), Str(a.email), 0};
    host_->set_user(out, &user);
  }

  // HashFor asks the host for an argon2id hash of `password` ("" on failure).
  std::string HashFor(kisee_str password) const {
    char buffer[KISEE_HASH_MAX];
    const std::size_t size = host_->hash_password(host_->context, password, buffer, sizeof(buffer));
    return std::string(buffer, size);
  }

  const kisee_host* host_;
  const std::string path_;
  const bool writable_;
  std::mutex mutex_;
  std::vector<Account> accounts_;              // guarded by mutex_
  struct stat seen_ {};                        // guarded by mutex_
  bool loaded_ = false;                        // guarded by mutex_
  std::map<std::string, std::string> nonces_;  // guarded by mutex_
};

struct Instance {
  FlatFile file;
};

FlatFile& Of(void* instance) { return static_cast<Instance*>(instance)->file; }

kisee_status Create(const kisee_host* host, const kisee_option* options, std::size_t count,
                    void** instance, kisee_out* error) {
  std::string path;
  bool writable = true;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string_view name = View(options[i].name);
    if (name == "path" && options[i].type == KISEE_OPTION_STRING) {
      path = std::string(View(options[i].string));
    } else if (name == "writable" && options[i].type == KISEE_OPTION_BOOL) {
      writable = options[i].boolean != 0;
    } else {
      host->set_text(error, Str("unknown or mistyped option " + std::string(name) +
                                " (known: path, writable)"));
      return KISEE_ERROR;
    }
  }
  if (path.empty()) {
    host->set_text(error, Str("identity_backend.options.path is required"));
    return KISEE_ERROR;
  }
  if (path[0] != '/') {
    path = std::string(host->settings_dir) + "/" + path;
  }
  if (writable && ::access(path.c_str(), F_OK) != 0) {
    // Password hashes: readable by kisee's account only.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);
    }
  }
  auto* made = new Instance{FlatFile(host, path, writable)};
  std::lock_guard lock(made->file.mutex_);
  if (!made->file.Reload()) {
    delete made;
    host->set_text(error, Str("cannot read " + path));
    return KISEE_ERROR;
  }
  *instance = made;
  return KISEE_OK;
}

void Destroy(void* instance) { delete static_cast<Instance*>(instance); }

kisee_status Identify(void* instance, kisee_str username, kisee_str password, kisee_out* out) {
  FlatFile& f = Of(instance);
  std::string hash;
  {
    std::lock_guard lock(f.mutex_);
    if (!f.Reload()) {
      return KISEE_UNAVAILABLE;
    }
    const Account* a = f.Find(View(username));
    if (a == nullptr) {
      f.host_->verify_dummy(f.host_->context, password);
      return KISEE_NOT_FOUND;
    }
    hash = a->hash;
    f.SetUser(out, *a);
  }
  // Hashing takes milliseconds: not under the mutex.
  if (f.host_->verify_password(f.host_->context, password, Str(hash)) == 0) {
    return KISEE_NOT_FOUND;
  }
  // Imported (bcrypt, sha512-crypt, yescrypt) or outdated hashes are
  // replaced, unless the password changed meanwhile.
  if (f.writable() && f.host_->needs_rehash(f.host_->context, Str(hash)) != 0) {
    const std::string upgraded = f.HashFor(password);
    FileLock file_lock(f.path_);
    std::lock_guard lock(f.mutex_);
    if (!upgraded.empty() && file_lock.ok() && f.Reload()) {
      for (Account& a : f.accounts_) {
        if (a.username == View(username) && a.hash == hash) {
          a.hash = upgraded;
          if (!f.Save()) {
            f.Log(KISEE_LOG_WARN, "could not upgrade a password hash");
          }
        }
      }
    }
  }
  return KISEE_OK;
}

kisee_status GetUserByUsername(void* instance, kisee_str username, kisee_out* out) {
  FlatFile& f = Of(instance);
  std::lock_guard lock(f.mutex_);
  if (!f.Reload()) {
    return KISEE_UNAVAILABLE;
  }
  const Account* a = f.Find(View(username));
  if (a == nullptr) {
    return KISEE_NOT_FOUND;
  }
  f.SetUser(out, *a);
  return KISEE_OK;
}

kisee_status GetUserByEmail(void* instance, kisee_str email, kisee_out* out) {
  FlatFile& f = Of(instance);
  std::lock_guard lock(f.mutex_);
  if (!f.Reload()) {
    return KISEE_UNAVAILABLE;
  }
  const Account* a = f.FindByEmail(View(email));
  if (a == nullptr) {
    return KISEE_NOT_FOUND;
  }
  f.SetUser(out, *a);
  return KISEE_OK;
}

kisee_status Reject(FlatFile& f, kisee_out* message, std::string_view reason) {
  f.host_->set_text(message, Str(reason));
  return KISEE_REJECTED;
}

kisee_status RegisterUser(void* instance, kisee_str username, kisee_str password, kisee_str email,
                          int /*is_superuser*/, kisee_out* message) {
  FlatFile& f = Of(instance);
  if (!f.writable()) {
    return KISEE_ERROR;  // not called: capabilities() says so
  }
  const std::string_view name = View(username);
  // Usernames become URL path segments and fields of the file.
  if (name.size() < 3) {
    return Reject(f, message, "Username too short");
  }
  if (name.size() > 150 || !ValidField(name) || !ValidField(View(email)) ||
      name.find_first_of("/?#% ") != std::string_view::npos) {
    return Reject(f, message, "Username contains invalid characters");
  }
  if (f.host_->check_password_policy(f.host_->context, password, message) != KISEE_OK) {
    return KISEE_REJECTED;
  }
  const std::string hash = f.HashFor(password);
  if (hash.empty()) {
    return KISEE_ERROR;
  }
  FileLock file_lock(f.path_);
  std::lock_guard lock(f.mutex_);
  if (!file_lock.ok() || !f.Reload()) {
    return KISEE_UNAVAILABLE;
  }
  if (f.Find(name) != nullptr || f.FindByEmail(View(email)) != nullptr) {
    return KISEE_ALREADY_EXISTS;
  }
  f.accounts_.push_back(Account{std::string(name), std::string(View(email)), hash});
  return f.Save() ? KISEE_OK : KISEE_UNAVAILABLE;
}

kisee_status SetPassword(void* instance, const kisee_user* user, kisee_str password,
                         kisee_out* message) {
  FlatFile& f = Of(instance);
  if (!f.writable()) {
    return KISEE_ERROR;  // not called: capabilities() says so
  }
  if (f.host_->check_password_policy(f.host_->context, password, message) != KISEE_OK) {
    return KISEE_REJECTED;
  }
  const std::string hash = f.HashFor(password);
  if (hash.empty()) {
    return KISEE_ERROR;
  }
  FileLock file_lock(f.path_);
  std::lock_guard lock(f.mutex_);
  if (!file_lock.ok() || !f.Reload()) {
    return KISEE_UNAVAILABLE;
  }
  for (Account& a : f.accounts_) {
    if (a.username == View(user->username)) {
      a.hash = hash;
      f.nonces_.erase(a.username);
      return f.Save() ? KISEE_OK : KISEE_UNAVAILABLE;
    }
  }
  return KISEE_NOT_FOUND;
}

// The stamp is the stored hash (changed by a password change, in the file
// every process reads) and a nonce of this process (changed by a newer
// reset token).
kisee_status Stamp(void* instance, const kisee_user* user, kisee_out* out, bool renew) {
  FlatFile& f = Of(instance);
  std::lock_guard lock(f.mutex_);
  if (!f.Reload()) {
    return KISEE_UNAVAILABLE;
  }
  const Account* a = f.Find(View(user->username));
  if (a == nullptr) {
    return KISEE_NOT_FOUND;
  }
  std::string& nonce = f.nonces_[a->username];
  if (renew) {
    static std::mutex random_mutex;
    static std::random_device random;
    std::lock_guard random_lock(random_mutex);
    nonce = std::to_string(random()) + "-" + std::to_string(random());
  }
  const std::string stamp = a->hash + "|" + nonce;
  f.host_->set_text(out, Str(stamp));
  return KISEE_OK;
}

kisee_status ResetStamp(void* instance, const kisee_user* user, kisee_out* out) {
  return Stamp(instance, user, out, false);
}

kisee_status NewResetStamp(void* instance, const kisee_user* user, kisee_out* out) {
  return Stamp(instance, user, out, true);
}

int IsAlive(void* instance) {
  FlatFile& f = Of(instance);
  return ::access(f.path_.c_str(), R_OK) == 0 ? 1 : 0;
}

std::uint32_t Capabilities(void* instance) {
  return Of(instance).writable() ? KISEE_CAN_REGISTER | KISEE_CAN_CHANGE_PASSWORDS : 0u;
}

kisee_backend_plugin MakeTable() {
  kisee_backend_plugin table{};
  table.abi_version = KISEE_PLUGIN_ABI_VERSION;
  table.struct_size = sizeof(kisee_backend_plugin);
  table.name = "flatfile";
  table.create = &Create;
  table.destroy = &Destroy;
  table.identify = &Identify;
  table.get_user_by_username = &GetUserByUsername;
  table.get_user_by_email = &GetUserByEmail;
  table.register_user = &RegisterUser;
  table.set_password = &SetPassword;
  table.reset_stamp = &ResetStamp;
  table.new_reset_stamp = &NewResetStamp;
  table.send_reset = nullptr;  // kisee e-mails the tokens ([email])
  table.is_alive = &IsAlive;
  table.capabilities = &Capabilities;  // writable = false turns writes off
  return table;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const kisee_backend_plugin*
kisee_backend_plugin_v1(uint32_t host_abi_version) {
  if (host_abi_version != KISEE_PLUGIN_ABI_VERSION) {
    return nullptr;
  }
  static const kisee_backend_plugin table = MakeTable();
  return &table;
}
