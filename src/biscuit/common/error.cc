#include "kisee/biscuit/error.h"

#include <fmt/format.h>

namespace kisee::biscuit {

ErrorCategory CategoryOf(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kDeserialization:
    case ErrorKind::kSerialization:
    case ErrorKind::kBlockDeserialization:
    case ErrorKind::kSignatureDeserialization:
    case ErrorKind::kInvalidSignature:
    case ErrorKind::kInvalidKey:
    case ErrorKind::kVersion:
    case ErrorKind::kSymbolTableOverlap:
    case ErrorKind::kPublicKeyTableOverlap:
    case ErrorKind::kUnknownPublicKey:
    case ErrorKind::kUnknownSymbol:
    case ErrorKind::kUnknownRootKey:
      return ErrorCategory::kFormat;
    case ErrorKind::kAppendOnSealed:
    case ErrorKind::kAlreadySealed:
      return ErrorCategory::kToken;
    case ErrorKind::kUnauthorized:
    case ErrorKind::kNoMatchingPolicy:
    case ErrorKind::kInvalidBlockRule:
      return ErrorCategory::kLogic;
    case ErrorKind::kInvalidType:
    case ErrorKind::kOverflow:
    case ErrorKind::kDivideByZero:
    case ErrorKind::kShadowedVariable:
    case ErrorKind::kUnknownVariable:
    case ErrorKind::kInvalidStack:
    case ErrorKind::kUndefinedExtern:
    case ErrorKind::kExternEvalError:
      return ErrorCategory::kExecution;
    case ErrorKind::kTooManyFacts:
    case ErrorKind::kTooManyIterations:
    case ErrorKind::kTimeout:
    case ErrorKind::kUnexpectedQueryResult:
      return ErrorCategory::kRunLimit;
    case ErrorKind::kParse:
    case ErrorKind::kMissingParameter:
    case ErrorKind::kUnusedParameter:
      return ErrorCategory::kLanguage;
    case ErrorKind::kInvalidArgument:
      return ErrorCategory::kInvalidArgument;
  }
  return ErrorCategory::kInvalidArgument;
}

std::string_view ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kDeserialization:
      return "DeserializationError";
    case ErrorKind::kSerialization:
      return "SerializationError";
    case ErrorKind::kBlockDeserialization:
      return "BlockDeserializationError";
    case ErrorKind::kSignatureDeserialization:
      return "BlockSignatureDeserializationError";
    case ErrorKind::kInvalidSignature:
      return "InvalidSignature";
    case ErrorKind::kInvalidKey:
      return "InvalidKey";
    case ErrorKind::kVersion:
      return "Version";
    case ErrorKind::kSymbolTableOverlap:
      return "SymbolTableOverlap";
    case ErrorKind::kPublicKeyTableOverlap:
      return "PublicKeyTableOverlap";
    case ErrorKind::kUnknownPublicKey:
      return "UnknownPublicKey";
    case ErrorKind::kUnknownSymbol:
      return "UnknownSymbol";
    case ErrorKind::kUnknownRootKey:
      return "UnknownRootKey";
    case ErrorKind::kAppendOnSealed:
      return "AppendOnSealed";
    case ErrorKind::kAlreadySealed:
      return "AlreadySealed";
    case ErrorKind::kUnauthorized:
      return "Unauthorized";
    case ErrorKind::kNoMatchingPolicy:
      return "NoMatchingPolicy";
    case ErrorKind::kInvalidBlockRule:
      return "InvalidBlockRule";
    case ErrorKind::kInvalidType:
      return "InvalidType";
    case ErrorKind::kOverflow:
      return "Overflow";
    case ErrorKind::kDivideByZero:
      return "DivideByZero";
    case ErrorKind::kShadowedVariable:
      return "ShadowedVariable";
    case ErrorKind::kUnknownVariable:
      return "UnknownVariable";
    case ErrorKind::kInvalidStack:
      return "InvalidStack";
    case ErrorKind::kUndefinedExtern:
      return "UndefinedExtern";
    case ErrorKind::kExternEvalError:
      return "ExternEvalError";
    case ErrorKind::kTooManyFacts:
      return "TooManyFacts";
    case ErrorKind::kTooManyIterations:
      return "TooManyIterations";
    case ErrorKind::kTimeout:
      return "Timeout";
    case ErrorKind::kUnexpectedQueryResult:
      return "UnexpectedQueryResult";
    case ErrorKind::kParse:
      return "ParseError";
    case ErrorKind::kMissingParameter:
      return "MissingParameter";
    case ErrorKind::kUnusedParameter:
      return "UnusedParameter";
    case ErrorKind::kInvalidArgument:
      return "InvalidArgument";
  }
  return "Unknown";
}

std::string_view ErrorCategoryName(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::kFormat:
      return "Format";
    case ErrorCategory::kToken:
      return "Token";
    case ErrorCategory::kLogic:
      return "FailedLogic";
    case ErrorCategory::kExecution:
      return "Execution";
    case ErrorCategory::kRunLimit:
      return "RunLimit";
    case ErrorCategory::kLanguage:
      return "Language";
    case ErrorCategory::kInvalidArgument:
      return "InvalidArgument";
  }
  return "Unknown";
}

Error Error::Logic(std::optional<MatchedPolicy> policy, std::vector<FailedCheck> checks) {
  std::string message;
  if (policy.has_value()) {
    message = fmt::format("{} policy {} matched, {} check(s) failed",
                          policy->allow ? "allow" : "deny", policy->index, checks.size());
  } else {
    message = fmt::format("no policy matched, {} check(s) failed", checks.size());
  }
  Error error(policy.has_value() ? ErrorKind::kUnauthorized : ErrorKind::kNoMatchingPolicy,
              std::move(message));
  error.failed_checks_ = std::move(checks);
  error.policy_ = policy;
  return error;
}

std::string Error::ToString() const {
  std::string out =
      fmt::format("{}/{}: {}", ErrorCategoryName(category()), ErrorKindName(kind_), message_);
  for (const FailedCheck& check : failed_checks_) {
    if (check.block_id.has_value()) {
      out += fmt::format("; block {} check {}: {}", *check.block_id, check.check_id, check.rule);
    } else {
      out += fmt::format("; authorizer check {}: {}", check.check_id, check.rule);
    }
  }
  return out;
}

kisee::Error Error::ToKisee() const {
  ErrorCode code = ErrorCode::kInvalidArgument;
  switch (category()) {
    case ErrorCategory::kFormat:
      code = kind_ == ErrorKind::kInvalidSignature ? ErrorCode::kUnauthenticated
                                                   : ErrorCode::kInvalidArgument;
      break;
    case ErrorCategory::kLogic:
      code = ErrorCode::kPermissionDenied;
      break;
    case ErrorCategory::kRunLimit:
      code = ErrorCode::kResourceExhausted;
      break;
    case ErrorCategory::kToken:
      code = ErrorCode::kFailedPrecondition;
      break;
    default:
      code = ErrorCode::kInvalidArgument;
  }
  return kisee::Error(code, ToString());
}

}  // namespace kisee::biscuit
