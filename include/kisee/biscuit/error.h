// Biscuit errors: a typed tree in the reference's shape (Format, Signature,
// FailedLogic with the failed checks, Execution, RunLimit, Language ...), so
// callers can react to the category without parsing messages.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kisee/core/error.h"

namespace kisee::biscuit {

// ErrorCategory is the top level of the tree.
enum class ErrorCategory {
  kFormat,           // malformed bytes, bad signature, unsupported version
  kToken,            // an operation the token's state forbids (append on sealed ...)
  kLogic,            // authorization refused (failed checks, deny policy, no policy)
  kExecution,        // an expression failed while evaluating (overflow, type error ...)
  kRunLimit,         // the Datalog run hit a limit (facts, iterations, time)
  kLanguage,         // Datalog text that does not parse, missing/unused parameters
  kInvalidArgument,  // bad key strings, base64, PEM ...
};

// ErrorKind is the leaf of the tree; CategoryOf maps it to its category.
enum class ErrorKind {
  // Format
  kDeserialization,
  kSerialization,
  kBlockDeserialization,
  kSignatureDeserialization,  // a signature of the wrong size or encoding
  kInvalidSignature,          // a signature that does not verify
  kInvalidKey,
  kVersion,
  kSymbolTableOverlap,
  kPublicKeyTableOverlap,
  kUnknownPublicKey,
  kUnknownSymbol,
  kUnknownRootKey,
  // Token
  kAppendOnSealed,
  kAlreadySealed,
  // Logic
  kUnauthorized,
  kNoMatchingPolicy,
  kInvalidBlockRule,
  // Execution
  kInvalidType,
  kOverflow,
  kDivideByZero,
  kShadowedVariable,
  kUnknownVariable,
  kInvalidStack,
  kUndefinedExtern,
  kExternEvalError,
  // RunLimit
  kTooManyFacts,
  kTooManyIterations,
  kTimeout,
  kUnexpectedQueryResult,
  // Language
  kParse,
  kMissingParameter,
  kUnusedParameter,
  // InvalidArgument
  kInvalidArgument,
};

ErrorCategory CategoryOf(ErrorKind kind);
// ErrorKindName returns a stable name for `kind` (the reference's variant
// name, e.g. "InvalidSignature", "Overflow", "TooManyFacts").
std::string_view ErrorKindName(ErrorKind kind);
std::string_view ErrorCategoryName(ErrorCategory category);

// FailedCheck names a check that did not pass: from the authorizer
// (block_id empty) or from block `*block_id`, with its index and its text.
struct FailedCheck {
  std::optional<std::uint32_t> block_id;
  std::uint32_t check_id = 0;
  std::string rule;
  bool operator==(const FailedCheck&) const = default;
};

// MatchedPolicy is the policy that matched during an authorization.
struct MatchedPolicy {
  bool allow = false;
  std::size_t index = 0;
  bool operator==(const MatchedPolicy&) const = default;
};

// Error is one node of the tree with its details. Copyable, cheap enough to
// return by value. Messages never contain private keys.
class Error {
 public:
  Error(ErrorKind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

  // Unauthorized / NoMatchingPolicy carrying the failed checks.
  static Error Logic(std::optional<MatchedPolicy> policy, std::vector<FailedCheck> checks);

  ErrorKind kind() const { return kind_; }
  ErrorCategory category() const { return CategoryOf(kind_); }
  const std::string& message() const { return message_; }
  // failed_checks: for kUnauthorized and kNoMatchingPolicy, in evaluation
  // order (authorizer checks, authority checks, then later blocks).
  const std::vector<FailedCheck>& failed_checks() const { return failed_checks_; }
  // policy: for kUnauthorized, the policy that matched.
  const std::optional<MatchedPolicy>& policy() const { return policy_; }
  // block_rule_id: for kInvalidBlockRule, the reference's rule index.
  std::uint32_t block_rule_id() const { return block_rule_id_; }
  void set_block_rule_id(std::uint32_t id) { block_rule_id_ = id; }

  // ToString is a one-line description: "<Category>/<Kind>: <message>".
  std::string ToString() const;
  // ToKisee converts to the project-wide error type (code by category).
  kisee::Error ToKisee() const;

 private:
  ErrorKind kind_;
  std::string message_;
  std::vector<FailedCheck> failed_checks_;
  std::optional<MatchedPolicy> policy_;
  std::uint32_t block_rule_id_ = 0;
};

template <typename T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

// MakeError builds the unexpected value of a Result.
inline std::unexpected<Error> MakeError(ErrorKind kind, std::string message) {
  return std::unexpected<Error>(Error(kind, std::move(message)));
}

}  // namespace kisee::biscuit
