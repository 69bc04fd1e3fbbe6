#include <algorithm>
#include <cctype>
#include <cmath>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "jwt/json.h"
#include "kisee/core/bytes.h"
#include "kisee/jwt/jwt.h"

namespace kisee::jwt {

using Json = nlohmann::ordered_json;

namespace {

std::unexpected<Error> Malformed(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, "malformed JWT: " + std::move(message));
}

std::unexpected<Error> Untrusted(std::string message) {
  return MakeError(ErrorCode::kUnauthenticated, "untrusted JWT: " + std::move(message));
}

std::string Lowercase(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

// Quoted returns a short, printable excerpt of attacker-controlled text for
// an error message.
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text.substr(0, 32)) {
    out.push_back(std::isprint(static_cast<unsigned char>(c)) != 0 ? c : '?');
  }
  out += text.size() > 32 ? "...\"" : "\"";
  return out;
}

// CheckRegisteredClaimTypes refuses registered claims of the wrong JSON type (RFC 7519
// §4.1): a string exp would otherwise be silently ignored.
Status CheckRegisteredClaimTypes(const Json& claims) {
  for (const char* name : {"exp", "nbf", "iat"}) {
    auto it = claims.find(name);
    if (it != claims.end() && !it->is_number()) {
      return Malformed(std::string("\"") + name + "\" is not a number");
    }
    // A NumericDate must be finite to compare with the clock.
    if (it != claims.end() && it->is_number_float() && !std::isfinite(it->get<double>())) {
      return Malformed(std::string("\"") + name + "\" is not finite");
    }
  }
  for (const char* name : {"iss", "sub", "jti"}) {
    auto it = claims.find(name);
    if (it != claims.end() && !it->is_string()) {
      return Malformed(std::string("\"") + name + "\" is not a string");
    }
  }
  return Ok();
}

Status ValidateClaims(const Json& claims, const JwtValidator& validator) {
  KISEE_RETURN_IF_ERROR(CheckRegisteredClaimTypes(claims));
  if (validator.expected_issuer().has_value()) {
    auto iss = claims.find("iss");
    if (iss == claims.end() || iss->get_ref<const std::string&>() != *validator.expected_issuer()) {
      return MakeError(ErrorCode::kPermissionDenied, "JWT issuer does not match");
    }
  }
  const double now = static_cast<double>(validator.clock().NowSeconds());
  const double leeway = static_cast<double>(validator.leeway().count());
  auto exp = claims.find("exp");
  if (exp == claims.end()) {
    if (validator.expiration_required()) {
      return MakeError(ErrorCode::kPermissionDenied, "JWT has no \"exp\" claim");
    }
  } else if (now >= exp->get<double>() + leeway) {
    // RFC 7519 §4.1.4: the current time must be before exp.
    return MakeError(ErrorCode::kDeadlineExceeded, "JWT expired");
  }
  auto nbf = claims.find("nbf");
  if (nbf != claims.end() && now + leeway < nbf->get<double>()) {
    return MakeError(ErrorCode::kFailedPrecondition, "JWT not yet valid (nbf)");
  }
  return Ok();
}

// DecodePart decodes one part of the compact serialization.
Result<Bytes> DecodePart(std::string_view part, std::string_view what) {
  Result<Bytes> bytes = Base64UrlDecode(part);
  if (!bytes) {
    return Malformed(std::string(what) + " is not base64url without padding");
  }
  return bytes;
}

}  // namespace

// --- JwtValidatorBuilder ---------------------------------------------------------

JwtValidatorBuilder& JwtValidatorBuilder::ExpectIssuer(std::string issuer) {
  expected_issuer_ = std::move(issuer);
  return *this;
}

JwtValidatorBuilder& JwtValidatorBuilder::SetLeeway(std::chrono::seconds leeway) {
  leeway_ = leeway;
  return *this;
}

JwtValidatorBuilder& JwtValidatorBuilder::AllowMissingExpiration() {
  expiration_required_ = false;
  return *this;
}

JwtValidatorBuilder& JwtValidatorBuilder::SetClock(const Clock& clock) {
  clock_ = &clock;
  return *this;
}

Result<JwtValidator> JwtValidatorBuilder::Build() const {
  if (leeway_ < std::chrono::seconds(0) || leeway_ > kMaxLeeway) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "JWT leeway must be between 0 and " + std::to_string(kMaxLeeway.count()) +
                         " seconds, got " + std::to_string(leeway_.count()));
  }
  if (expected_issuer_.has_value() && expected_issuer_->empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "expected JWT issuer is empty");
  }
  JwtValidator validator;
  validator.expected_issuer_ = expected_issuer_;
  validator.leeway_ = leeway_;
  validator.expiration_required_ = expiration_required_;
  validator.clock_ = clock_ != nullptr ? clock_ : &SystemClock();
  return validator;
}

// --- VerifiedJwt -----------------------------------------------------------------

VerifiedJwt::VerifiedJwt(std::shared_ptr<const Json> claims, std::string kid,
                         JwsAlgorithm algorithm)
    : claims_(std::move(claims)), kid_(std::move(kid)), algorithm_(algorithm) {}

std::optional<std::string> VerifiedJwt::StringClaim(std::string_view name) const {
  auto it = claims_->find(name);
  if (it == claims_->end() || !it->is_string()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

std::optional<std::int64_t> VerifiedJwt::NumericClaim(std::string_view name) const {
  auto it = claims_->find(name);
  if (it == claims_->end() || !it->is_number()) {
    return std::nullopt;
  }
  if (it->is_number_integer() && !it->is_number_unsigned()) {
    return it->get<std::int64_t>();
  }
  const double value = std::floor(it->get<double>());
  // Clamp: a date beyond the int64 range is "forever" either way.
  constexpr double kMax = 9.2e18;
  if (!(value > -kMax)) {
    return -static_cast<std::int64_t>(kMax);
  }
  return value < kMax ? static_cast<std::int64_t>(value) : static_cast<std::int64_t>(kMax);
}

// --- JwtVerifier -----------------------------------------------------------------

JwtVerifier::JwtVerifier(std::vector<VerificationKey> keys) : keys_(std::move(keys)) {}

Result<JwtVerifier> JwtVerifier::Create(std::vector<VerificationKey> keys) {
  if (keys.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "a JWT verifier needs at least one key");
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    for (std::size_t j = i + 1; j < keys.size(); ++j) {
      if (keys[i].kid() == keys[j].kid()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "two JWT keys share the kid " + Quoted(keys[i].kid()));
      }
    }
  }
  return JwtVerifier(std::move(keys));
}

Result<VerifiedJwt> JwtVerifier::VerifyAndDecode(std::string_view compact,
                                                 const JwtValidator& validator) const {
  try {
    return DoVerifyAndDecode(compact, validator);
  } catch (const std::exception&) {
    // Every JSON access below is checked before use; this only keeps a
    // missed case or an allocation failure from escaping as an exception.
    return MakeError(ErrorCode::kInvalidArgument, "malformed JWT: could not be processed");
  }
}

Result<VerifiedJwt> JwtVerifier::DoVerifyAndDecode(std::string_view compact,
                                                   const JwtValidator& validator) const {
  if (compact.size() > kMaxTokenSize) {
    return Malformed("longer than " + std::to_string(kMaxTokenSize) + " bytes");
  }
  const std::size_t first_dot = compact.find('.');
  const std::size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : compact.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      compact.find('.', second_dot + 1) != std::string_view::npos) {
    return Malformed("expected three dot-separated parts (JWS compact serialization)");
  }
  const std::string_view header_part = compact.substr(0, first_dot);
  const std::string_view payload_part = compact.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_part = compact.substr(second_dot + 1);

  // 1. Header: which key, and is the algorithm the one pinned to it?
  KISEE_ASSIGN_OR_RETURN(Bytes header_bytes, DecodePart(header_part, "header"));
  Result<Json> parsed_header = internal::ParseJsonObject(AsChars(header_bytes), "header");
  if (!parsed_header) {
    return Malformed(parsed_header.error().message());
  }
  const Json& header = *parsed_header;
  auto alg_it = header.find("alg");
  if (alg_it == header.end() || !alg_it->is_string()) {
    return Malformed("header has no \"alg\" string");
  }
  const std::string& alg = alg_it->get_ref<const std::string&>();
  // RFC 8725 §2.1 and §3.1: never accept "none" (in any spelling) and never
  // let the token switch a public key into an HMAC secret.
  const std::string lower_alg = Lowercase(alg);
  if (lower_alg == "none") {
    return Untrusted("alg \"none\" is refused");
  }
  if (lower_alg.starts_with("hs")) {
    return Untrusted("HMAC algorithms are refused (" + Quoted(alg) + ")");
  }
  if (header.contains("crit")) {
    // RFC 7515 §4.1.11: extensions we do not understand make the token invalid.
    return Malformed("unsupported \"crit\" header");
  }
  auto typ_it = header.find("typ");
  if (typ_it != header.end() && !typ_it->is_string()) {
    return Malformed("\"typ\" is not a string");
  }

  const VerificationKey* key = nullptr;
  auto kid_it = header.find("kid");
  if (kid_it != header.end()) {
    if (!kid_it->is_string()) {
      return Malformed("\"kid\" is not a string");
    }
    const std::string& kid = kid_it->get_ref<const std::string&>();
    for (const VerificationKey& candidate : keys_) {
      if (candidate.kid() == kid) {
        key = &candidate;
        break;
      }
    }
    if (key == nullptr) {
      return Untrusted("unknown kid " + Quoted(kid));
    }
  } else if (keys_.size() == 1) {
    key = &keys_.front();
  } else {
    return Untrusted("no kid, and several keys could have signed");
  }
  if (alg != JwsAlgorithmName(key->algorithm())) {
    return Untrusted("alg " + Quoted(alg) + " is not the key's algorithm \"" +
                     std::string(JwsAlgorithmName(key->algorithm())) + "\"");
  }

  // 2. Signature over the ASCII of "header.payload" as received.
  KISEE_ASSIGN_OR_RETURN(Bytes signature, DecodePart(signature_part, "signature"));
  const std::string_view signing_input = compact.substr(0, second_dot);
  Status verified =
      key->public_key().Verify(AsBytes(signing_input), signature, crypto::SignatureFormat::kRaw);
  if (!verified) {
    return Untrusted("bad signature (" + verified.error().message() + ")");
  }

  // 3. Claims, read only once they are known to come from the key holder.
  KISEE_ASSIGN_OR_RETURN(Bytes payload_bytes, DecodePart(payload_part, "payload"));
  Result<Json> claims = internal::ParseJsonObject(AsChars(payload_bytes), "claims");
  if (!claims) {
    return Malformed(claims.error().message());
  }
  KISEE_RETURN_IF_ERROR(ValidateClaims(*claims, validator));
  return VerifiedJwt(std::make_shared<const Json>(std::move(*claims)), key->kid(),
                     key->algorithm());
}

}  // namespace kisee::jwt
