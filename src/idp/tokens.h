// Login and password-reset tokens (kisee-api.md §4): issuing, verifying, and
// the JWKS that publishes the verification keys.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "idp/backend.h"
#include "kisee/core/clock.h"
#include "kisee/core/error.h"
#include "kisee/idp/settings.h"

namespace kisee::idp {

// IssuedToken is a freshly signed compact JWT and its id.
struct IssuedToken {
  std::string jwt;
  std::string jti;
};

// TokenClaims is what the server reads back from a verified token.
struct TokenClaims {
  std::string sub;                                // login tokens
  std::optional<std::string> password_reset_for;  // reset tokens: the username
  std::string reset_binding;                      // reset tokens: digest of the user's reset stamp
  std::string jti;
};

// TokenService signs and verifies kisee's tokens. Thread-safe.
class TokenService {
 public:
  virtual ~TokenService() = default;

  // IssueLogin signs {iss, sub, exp, jti, iat} for `user`.
  virtual Result<IssuedToken> IssueLogin(const User& user) = 0;
  // IssueReset signs {iss, exp, jti, password_reset_for, kisee_rb}, where
  // kisee_rb binds the token to `stamp` (see BindingDigest).
  virtual Result<IssuedToken> IssueReset(const User& user, std::string_view stamp) = 0;
  // Verify checks signature (algorithm pinned to the key found by kid),
  // iss, exp and nbf. Errors: kUnauthenticated for anything wrong.
  virtual Result<TokenClaims> Verify(std::string_view compact) = 0;
  // BindingDigest is a short keyed digest of `stamp`: reset tokens carry it
  // and are accepted only while the user's current stamp digests the same.
  virtual std::string BindingDigest(std::string_view stamp) const = 0;
  // Jwks is the JSON Web Key Set of every verification key.
  virtual const std::string& Jwks() const = 0;
};

// CreateTokenService loads the keys of `settings.jwt` (private_key, optional
// public_key that must match, previous_keys). Errors: kInvalidArgument with a
// one-line message for a bad PEM or a mismatch.
Result<std::unique_ptr<TokenService>> CreateTokenService(const Settings& settings,
                                                         const Clock& clock);

}  // namespace kisee::idp
