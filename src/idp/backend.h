// The identity backend interface (the C++ counterpart of the original's
// IdentityProvider class) and the factory that builds the configured one.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "idp/limits.h"
#include "idp/password_policy.h"
#include "kisee/core/clock.h"
#include "kisee/core/error.h"
#include "kisee/crypto/password.h"
#include "kisee/idp/settings.h"

namespace kisee::idp {

// User is what a backend knows about one account. user_id is the stable id
// used in `sub`, in PATCH /users/{user_id}/ and in the recover link.
struct User {
  std::string user_id;
  std::string username;
  std::string email;
  bool is_superuser = false;
};

// IdentityBackend stores and checks users. Every method may block (disk,
// network, password hashing): callers run them off the I/O threads.
// Implementations are thread-safe.
//
// Error codes: kAlreadyExists (409) and kInvalidArgument (400, message shown
// to the client) from RegisterUser; kUnavailable (503) when the store cannot
// be reached; anything else is an internal failure.
class IdentityBackend {
 public:
  virtual ~IdentityBackend() = default;

  // Identify returns the user when `password` is right, std::nullopt when the
  // user is unknown or the password wrong (both cost the same time). An empty
  // password never matches.
  virtual Result<std::optional<User>> Identify(std::string_view username,
                                               std::string_view password) = 0;
  // RegisterUser creates an account after the backend's own checks and the
  // password policy.
  virtual Status RegisterUser(std::string_view username, std::string_view password,
                              std::string_view email, bool is_superuser) = 0;
  virtual Result<std::optional<User>> GetUserByEmail(std::string_view email) = 0;
  virtual Result<std::optional<User>> GetUserByUsername(std::string_view username) = 0;
  // SetPasswordForUser replaces the password (after the password policy;
  // kInvalidArgument with the reason when it refuses).
  virtual Status SetPasswordForUser(const User& user, std::string_view password) = 0;
  // SendResetPasswordChallenge delivers `token` to the user out of band.
  virtual Status SendResetPasswordChallenge(const User& user, std::string_view token) = 0;
  // IsConnectionAlive is false when the store cannot be reached.
  virtual bool IsConnectionAlive() = 0;

  // ResetStamp returns an opaque value that changes whenever the user's
  // password changes or a newer reset token is issued; reset tokens carry a
  // keyed digest of it, which makes them single-use and supersedable even
  // across processes sharing the store. kNotFound when the user is gone.
  virtual Result<std::string> ResetStamp(const User& user) = 0;
  // NewResetStamp changes the stamp (superseding earlier reset tokens) and
  // returns the new one.
  virtual Result<std::string> NewResetStamp(const User& user) = 0;

  // failure_store is where login failures are counted (shared by every
  // process using the same store when the backend can).
  virtual FailureStore& failure_store() = 0;

  // can_register is false for a read-only store: POST /users/ answers 403
  // "Registration is not available." and GET /users/ has no register link.
  virtual bool can_register() const { return true; }
  // can_change_passwords is false for a read-only store: PATCH /users/{id}/
  // answers 403 "Password changes are not available." and no reset token is
  // sent.
  virtual bool can_change_passwords() const { return true; }
};

// BackendContext is what the factory hands to a backend. Borrowed references
// must outlive the backend.
struct BackendContext {
  const Settings& settings;
  const crypto::PasswordHasher& hasher;
  const PasswordPolicy& policy;
  const Clock& clock;
  // out receives what the backend prints for the operator (the admin
  // credentials, the demo's reset line). Access is serialised by the backend.
  std::ostream& out;
  // deliver_mail sends a reset e-mail (to, subject, body); may be empty when
  // no [email] section exists. It must not block for long (it queues).
  std::function<Status(const User&, std::string_view token)> deliver_mail;
};

// CreateBackend builds the backend named by settings.backend.class_name:
// "demo" (alias "kisee.providers.demo.DemoBackend"), "sqlite", "postgresql",
// "sql", "ldap", or "plugin:<path of a shared library>" (kisee/idp/plugin.h).
// postgresql, sql with the postgresql driver, and ldap load their module
// (module.h). Errors: kInvalidArgument for an unknown class or bad options,
// kUnavailable / kIo when the store cannot be opened, kFailedPrecondition
// when a module or plugin cannot be loaded; all one line.
Result<std::unique_ptr<IdentityBackend>> CreateBackend(const BackendContext& context);

}  // namespace kisee::idp
