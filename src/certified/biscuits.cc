#include "kisee/certified/biscuits.h"

#include <cctype>
#include <chrono>
#include <cmath>

#include "kisee/biscuit/authorizer.h"
#include "kisee/biscuit/biscuit.h"

namespace kisee::certified {
namespace {

std::unexpected<Error> FromBiscuit(const biscuit::Error& error, std::string_view context) {
  return std::unexpected(error.ToKisee().WithContext(context));
}

std::unexpected<Error> Unsupported(crypto::KeyType type) {
  return MakeError(ErrorCode::kInvalidArgument,
                   "Key type " + std::string(crypto::KeyTypeName(type)) +
                       " cannot sign biscuits (supported: ed25519, secp256r1).");
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

Result<biscuit::KeyPair> BiscuitKeyPair(const crypto::PrivateKey& key) {
  biscuit::Algorithm algorithm;
  switch (key.type()) {
    case crypto::KeyType::kEd25519:
      algorithm = biscuit::Algorithm::kEd25519;
      break;
    case crypto::KeyType::kSecp256r1:
      algorithm = biscuit::Algorithm::kSecp256r1;
      break;
    default:
      return Unsupported(key.type());
  }
  SecretBytes raw = key.ToRaw();
  auto converted = biscuit::PrivateKey::FromBytes(algorithm, raw.view());
  if (!converted) return FromBiscuit(converted.error(), "CA key");
  return biscuit::KeyPair(std::move(*converted));
}

Result<biscuit::PublicKey> BiscuitPublicKey(const crypto::PublicKey& key) {
  switch (key.type()) {
    case crypto::KeyType::kEd25519: {
      auto result = biscuit::PublicKey::FromBytes(biscuit::Algorithm::kEd25519, key.ToRaw());
      if (!result) return FromBiscuit(result.error(), "CA key");
      return *result;
    }
    case crypto::KeyType::kSecp256r1: {
      auto result = biscuit::PublicKey::FromBytes(biscuit::Algorithm::kSecp256r1,
                                                  key.ToRaw(crypto::PointFormat::kCompressed));
      if (!result) return FromBiscuit(result.error(), "CA key");
      return *result;
    }
    default:
      return Unsupported(key.type());
  }
}

Result<std::string> MintBiscuit(const ConfigDir& config, const MintOptions& options) {
  if (options.user.empty()) return MakeError(ErrorCode::kInvalidArgument, "--user is required");
  KISEE_ASSIGN_OR_RETURN(auto ca, config.LoadAuthority());
  KISEE_ASSIGN_OR_RETURN(auto root, BiscuitKeyPair(ca.key()));
  biscuit::BiscuitBuilder builder;
  if (auto status =
          builder.AddFact("user({client})", {{"client", biscuit::Value::String(options.user)}});
      !status) {
    return FromBiscuit(status.error(), "user");
  }
  if (options.hours && *options.hours > 0) {
    if (!std::isfinite(*options.hours) || *options.hours > 24.0 * 365 * 100) {
      return MakeError(ErrorCode::kInvalidArgument, "--hours is out of range");
    }
    auto expiry =
        options.clock->Now() + std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::duration<double, std::ratio<3600>>(*options.hours));
    auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(expiry.time_since_epoch()).count();
    if (auto status = builder.AddCheck(
            "check if time($time), $time < {expiry}",
            {{"expiry", biscuit::Value::Date(static_cast<std::uint64_t>(seconds))}});
        !status) {
      return FromBiscuit(status.error(), "expiry");
    }
  }
  for (const auto& fact : options.facts) {
    if (auto status = builder.AddFact(fact); !status) return FromBiscuit(status.error(), "--fact");
  }
  auto token = builder.Build(root);
  if (!token) return FromBiscuit(token.error(), "mint");
  auto text = token->ToBase64();
  if (!text) return FromBiscuit(text.error(), "mint");
  return *text;
}

Result<std::string> AttenuateBiscuit(std::string_view token, std::string_view block) {
  auto parsed = biscuit::UnverifiedBiscuit::FromBase64(Trim(token));
  if (!parsed) return FromBiscuit(parsed.error(), "token");
  biscuit::BlockBuilder builder;
  if (auto status = builder.AddCode(block); !status) return FromBiscuit(status.error(), "--block");
  auto attenuated = parsed->Append(builder);
  if (!attenuated) return FromBiscuit(attenuated.error(), "attenuate");
  auto text = attenuated->ToBase64();
  if (!text) return FromBiscuit(text.error(), "attenuate");
  return *text;
}

Result<InspectResult> InspectBiscuit(const ConfigDir& config, std::string_view token,
                                     const std::optional<std::string>& authorizer_code) {
  KISEE_ASSIGN_OR_RETURN(auto ca_cert, config.LoadCertificate(config.ca_cert_path()));
  KISEE_ASSIGN_OR_RETURN(auto ca_key, ca_cert.public_key());
  KISEE_ASSIGN_OR_RETURN(auto root, BiscuitPublicKey(ca_key));
  auto unverified = biscuit::UnverifiedBiscuit::FromBase64(Trim(token));
  if (!unverified) return FromBiscuit(unverified.error(), "token");
  InspectResult result;
  result.text = unverified->Print();
  auto verified = unverified->Verify(root);
  if (!verified) {
    result.text += "\nSignatures: invalid (" + verified.error().ToString() + ")";
    return result;
  }
  result.text += "\nSignatures: valid for root key " + root.ToString();
  result.ok = true;
  if (authorizer_code) {
    biscuit::AuthorizerBuilder builder;
    builder.AddTime();
    if (auto status = builder.AddCode(*authorizer_code); !status) {
      return FromBiscuit(status.error(), "--authorize-with");
    }
    auto authorizer = builder.Build(*verified);
    if (!authorizer) {
      result.text += "\nAuthorization: failed (" + authorizer.error().ToString() + ")";
      result.ok = false;
      return result;
    }
    auto outcome = authorizer->Authorize();
    if (outcome) {
      result.text += "\nAuthorization: allowed by policy " + std::to_string(*outcome);
    } else {
      result.text += "\nAuthorization: failed (" + outcome.error().ToString() + ")";
      result.ok = false;
    }
  }
  return result;
}

}  // namespace kisee::certified
