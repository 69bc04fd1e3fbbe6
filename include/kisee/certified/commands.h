// The operations behind `certified <command>` (certified.md §3), as library
// calls so that the CLI stays a thin layer and tests can drive them. Each
// returns the text the command prints on success, or an Error whose message
// is the one line the command prints on failure.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kisee/certified/config.h"
#include "kisee/core/clock.h"
#include "kisee/core/error.h"
#include "kisee/crypto/key_type.h"

namespace kisee::certified {

// InitOptions are the arguments of `certified init`.
struct InitOptions {
  std::string name;  // a person's name (CN); ignored with `org`
  std::string org;   // an organisation: requires `unit`, excludes `uid`
  std::string unit;
  std::string uid;
  std::string domain;  // "a.b" → DC=a, DC=b
  std::string country;
  std::string state;
  std::string city;
  std::vector<std::string> emails;
  std::vector<std::string> hosts;
  std::vector<std::string> uris;
  std::vector<std::string> scopes;  // put in the identity certificate
  crypto::KeyType key_type = crypto::KeyType::kEd25519;
  bool overwrite = false;
};

// Init creates a configuration directory at `dir`: a self-signed CA named
// after the entity + "P=Signing Certificate", an identity certificate it
// issues, known_servers/ and known_clients/ each holding a copy of CA.crt
// as self.crt. Returns "Generated new config for <name> at <dir>.".
// Errors: "Name or org must be provided.", "Host, Email, or URI must also be
// provided.", "If org is defined, unit must also be defined.", "If org is
// defined, uid must not be defined.", a non-empty `dir` without overwrite.
Result<std::string> Init(const fs::path& dir, const InitOptions& options);

// IntroduceOptions are the arguments of `certified introduce`.
struct IntroduceOptions {
  std::vector<std::string> scopes;
  // services: optional {alias: url} entries for the "services" member, which
  // add-intro turns into service records.
  std::map<std::string, std::string> services;
  std::chrono::seconds lifetime = std::chrono::hours(24 * 365);
};

// Introduce signs the subject of `request` (a PEM CSR, a PEM certificate or
// b64-DER) with this directory's CA and returns the introduction JSON,
// indented by 2: {"signed_cert": b64, "ca_cert": b64[, "services": {...}]}.
// Refuses CA requests ("Unable to sign for a CA (insufficient path
// length).") and a subject equal to the CA's.
Result<std::string> Introduce(const ConfigDir& config, std::string_view request,
                              const IntroduceOptions& options);

// AddIntro installs an introduction: id/<RFC 4514 of ca_cert's subject>.crt
// (a leaf issued directly by ca_cert whose key is id.key's), and a service
// record for each "services" entry.
Status AddIntro(const ConfigDir& config, std::string_view introduction_json, bool overwrite);

// AddClient trusts `certificate` (PEM or b64-DER; a CA) as known_clients/<name>.crt.
Status AddClient(const ConfigDir& config, std::string_view name, std::string_view certificate,
                 bool overwrite);

// AddService writes known_servers/<name>.yaml from `certificate` (PEM,
// b64-DER or JSON {"ca_cert": b64}): url (default https://<name>), cert,
// auths (`auths` plus the certificate's own subject).
Status AddService(const ConfigDir& config, std::string_view name, std::string_view certificate,
                  std::vector<std::string> auths, std::optional<std::string> url, bool overwrite);

// SetOrg joins an organisation (see certified.md §3). Requires `overwrite`
// ("This function requires --overwrite").
Status SetOrg(const ConfigDir& config, std::string_view introduction_json, bool overwrite);

// GetIdent returns the b64-DER of id.crt.
Result<std::string> GetIdent(const ConfigDir& config);

// GetIdentRequest returns a PEM certificate signing request for id.crt's
// subject and SAN, signed with id.key (for CAs that want a CSR rather than
// a certificate; `introduce` accepts both).
Result<std::string> GetIdentRequest(const ConfigDir& config);

// GetSigner returns {"ca_cert": "<b64>"} on one line.
Result<std::string> GetSigner(const ConfigDir& config);

// List describes my identity, my signer, every introduction, known client
// and known service (subject, serial, expiry), one item per line.
Result<std::string> List(const ConfigDir& config);

// Revoke adds a certificate this CA signed to its CRL (CA.crl, re-signed).
// `target` is a serial in hex or a certificate (PEM or b64-DER) issued by
// this CA. Returns "Revoked <serial>.".
Result<std::string> Revoke(const ConfigDir& config, std::string_view target,
                           const Clock& clock = SystemClock());

// kCrlLifetime is the nextUpdate distance of the CRLs certified signs.
inline constexpr std::chrono::seconds kCrlLifetime = std::chrono::hours(24 * 365);

// Crl re-signs CA.crl with fresh dates (creating an empty one if needed)
// and returns it as PEM.
Result<std::string> Crl(const ConfigDir& config, const Clock& clock = SystemClock());

// RenewOptions are the arguments of `certified renew`.
struct RenewOptions {
  std::optional<crypto::KeyType> key_type;  // default: the current key's type
  std::chrono::seconds lifetime = std::chrono::hours(24 * 365);
};

// Renew replaces id.key/id.crt with a fresh key and a certificate from this
// directory's CA for the same subject, SAN and scopes. The previous pair
// moves to retired/id-<serial>.{crt,key} and stays until it expires (message
// still uses it for introductions made for the old key). Returns a summary.
Result<std::string> Renew(const ConfigDir& config, const RenewOptions& options);

// IdentityKeys returns id.key first, then every retired key that has not
// expired, with its certificate (for choosing the key of an introduction).
struct KeyAndCertificate {
  crypto::PrivateKey key;
  std::optional<pki::Certificate> certificate;
};
Result<std::vector<KeyAndCertificate>> IdentityKeys(const ConfigDir& config);

}  // namespace kisee::certified
