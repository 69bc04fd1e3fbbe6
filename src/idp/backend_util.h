// Helpers shared by the backends: typed reads of [identity_backend.options],
// the username rules of the stores that create accounts, and serialised
// printing of operator lines (admin credentials, development reset lines).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "idp/backend.h"
#include "kisee/core/error.h"
#include "kisee/idp/settings.h"

namespace kisee::idp {

// IntOption returns options[name] when it is a non-negative integer,
// `fallback` when absent. kInvalidArgument (a one-line message naming the
// option) for any other value.
Result<std::int64_t> IntOption(const Options& options, std::string_view name,
                               std::int64_t fallback);

// StringOption returns options[name] when it is a string, `fallback` when
// absent; kInvalidArgument otherwise.
Result<std::string> StringOption(const Options& options, std::string_view name,
                                 std::string fallback);

// OptionalStringOption is StringOption without a default: std::nullopt when
// absent (an empty string counts as absent).
Result<std::optional<std::string>> OptionalStringOption(const Options& options,
                                                        std::string_view name);

// BoolOption returns options[name] when it is a boolean, `fallback` when
// absent; kInvalidArgument otherwise.
Result<bool> BoolOption(const Options& options, std::string_view name, bool fallback);

// CheckUsername refuses usernames shorter than `min_length` characters
// ("Username too short"), longer than 150 bytes, not UTF-8, or holding
// characters that would make /users/<username>/ ambiguous (controls, space,
// / ? # %).
// kInvalidArgument with the message shown to the client.
Status CheckUsername(std::string_view username, std::int64_t min_length);

// PrintOperatorLine writes `text` and a newline to `out` and flushes, whole
// even when several threads print at once.
void PrintOperatorLine(std::ostream& out, std::string_view text);

// PrintResetLine prints the original's development line "Password reset
// challenge for user <username> is <token>" (scripts and tests read it).
void PrintResetLine(std::ostream& out, const User& user, std::string_view token);

// MailResetToken hands a reset token to `deliver_mail` (BackendContext's
// [email] sender). kFailedPrecondition when there is none (no [email]
// section), so the recovery job logs that nothing could be sent.
Status MailResetToken(const std::function<Status(const User&, std::string_view)>& deliver_mail,
                      const User& user, std::string_view token);

// PrintAdminCredentials prints the first-start administrator password in the
// shape every store uses ("username: root\npassword: ...").
void PrintAdminCredentials(std::ostream& out, std::string_view password);

// IsTruthy reads a database boolean rendered as text ("t", "true", "1",
// "yes", "on", any case).
bool IsTruthy(std::string_view text);

}  // namespace kisee::idp
