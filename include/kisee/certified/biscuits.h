// Biscuit tokens with certified identities (certified.md §4): the root key
// of an entity is its CA key (Ed25519 or P-256; other key types cannot sign
// biscuits), tokens name a client with `user(...)` and may expire.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kisee/biscuit/keys.h"
#include "kisee/certified/config.h"
#include "kisee/core/clock.h"
#include "kisee/core/error.h"
#include "kisee/crypto/keys.h"

namespace kisee::certified {

// BiscuitKeyPair converts a CA private key into a biscuit root key pair.
// kInvalidArgument "Key type <t> cannot sign biscuits (supported: ed25519,
// secp256r1)." for the other key types.
Result<biscuit::KeyPair> BiscuitKeyPair(const crypto::PrivateKey& key);

// BiscuitPublicKey converts a CA public key into a biscuit root public key
// (same errors).
Result<biscuit::PublicKey> BiscuitPublicKey(const crypto::PublicKey& key);

// MintOptions are the arguments of `certified biscuit mint`.
struct MintOptions {
  std::string user;                    // the client name, e.g. "cn:alice" or "uid:alice"
  std::optional<double> hours = 24.0;  // lifetime; nullopt or <= 0: no expiry check
  std::vector<std::string> facts;      // extra authority facts (Datalog)
  const Clock* clock = &SystemClock();
};

// MintBiscuit signs `user(<user>); check if time($time), $time < <expiry>;`
// plus the extra facts with this directory's CA key; returns the token
// (URL-safe base64).
Result<std::string> MintBiscuit(const ConfigDir& config, const MintOptions& options);

// AttenuateBiscuit appends a block of Datalog to `token` (no key needed).
Result<std::string> AttenuateBiscuit(std::string_view token, std::string_view block);

// InspectResult is what `certified biscuit inspect` prints and whether the
// token passed (signatures, and the authorizer when one was given).
struct InspectResult {
  std::string text;
  bool ok = false;
};

// InspectBiscuit verifies `token` against this directory's CA key and
// prints its blocks; with `authorizer_code` it also runs an authorizer with
// that code and time(now). Errors only for unusable inputs (no CA, a token
// that does not parse); a failed verification or authorization is
// InspectResult::ok == false.
Result<InspectResult> InspectBiscuit(const ConfigDir& config, std::string_view token,
                                     const std::optional<std::string>& authorizer_code);

}  // namespace kisee::certified
