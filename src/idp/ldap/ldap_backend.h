// The ldap backend (the kisee-ldap module): users live in a directory;
// kisee finds the user's entry with a filter and authenticates by binding as
// that entry (kisee-api.md §6).
//
// Decisions of this backend:
// - user_id and username are the value of username_attribute; the e-mail
//   comes from email_attribute; is_superuser is false.
// - Read-only unless writable = true: registration is never available (an
//   LDAP directory provisions its own accounts); with writable = true,
//   password changes use the password-modify extended operation (RFC 3062)
//   bound as bind_dn, and the directory hashes the new password its way.
// - An empty password is a wrong password: it is never sent in a bind (an
//   empty simple bind is an unauthenticated, i.e. anonymous, bind).
// - Values substituted into the filters are escaped (RFC 4515).
// - Reset stamps: the entry's entryCSN (or modifyTimestamp), which the
//   directory changes on every modification, password changes included,
//   plus a nonce kept in this process that a newer reset token replaces. A
//   used token is thus refused by every instance; superseding holds within
//   one instance.
// - Login-failure counters are per instance (memory): a directory that must
//   share lockouts has its own password policy (ppolicy).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "idp/backend.h"

namespace kisee::idp {

// EscapeLdapFilterValue escapes `value` for use inside an LDAP search filter
// (RFC 4515 §3): '*', '(', ')', '\' and NUL become \2a, \28, \29, \5c, \00.
std::string EscapeLdapFilterValue(std::string_view value);

// CreateLdapBackend reads the options: uri (required; ldap:// or ldaps://),
// base_dn (required), user_filter ("(uid={username})"), email_filter
// ("(mail={email})"), username_attribute ("uid"), email_attribute ("mail"),
// bind_dn and bind_password (the search account; anonymous when absent),
// starttls (false), ca_file (PEM CA for ldaps/starttls; default the system's),
// timeout (seconds, 5), pool_size (4), writable (false), reset_delivery
// ("email" or "stdout"). Checks at start that the directory answers (a bind
// as bind_dn). Errors: kInvalidArgument for bad options, kUnavailable when
// the directory cannot be reached or refuses bind_dn.
Result<std::unique_ptr<IdentityBackend>> CreateLdapBackend(const BackendContext& context);

}  // namespace kisee::idp
