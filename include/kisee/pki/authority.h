// Certificate authorities: self-signed CA certificates, identity (leaf) and
// sub-CA certificates issued with exactly the extensions of certified.md §2,
// and certificate revocation lists.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "kisee/core/clock.h"
#include "kisee/core/error.h"
#include "kisee/crypto/keys.h"
#include "kisee/pki/certificate.h"
#include "kisee/pki/crl.h"
#include "kisee/pki/name.h"

namespace kisee::pki {

// kDefaultLifetime is the validity of a new certificate: 365 days.
inline constexpr std::chrono::seconds kDefaultLifetime = std::chrono::hours(24 * 365);

// Validity options of an issued certificate: notBefore = now (from the
// clock), notAfter = now + lifetime (certified.md §2; not clamped to the
// issuer's notAfter).
struct IssueOptions {
  std::chrono::seconds lifetime = kDefaultLifetime;
  const Clock* clock = &SystemClock();  // borrowed; must outlive the call
};

// CertificateSubject says what to certify.
struct CertificateSubject {
  Name name;                       // may be empty only with alt_names
  std::vector<AltName> alt_names;  // SAN, critical only when `name` is empty
  crypto::PublicKey public_key;
  bool is_ca = false;
  int path_length = 0;              // requested pathLenConstraint for a CA
  std::vector<std::string> scopes;  // certificatePolicies (scope.h)
};

// RevokedEntry is one revoked certificate.
struct RevokedEntry {
  std::string serial_hex;  // as Certificate::serial_hex
  TimePoint revoked_at;
};

// CertificateAuthority signs with a CA certificate and its private key.
// Immutable; thread-safe.
class CertificateAuthority {
 public:
  // Create pairs a CA certificate with its key. Errors: kInvalidArgument
  // when the certificate is not a CA or the key does not match it.
  static Result<CertificateAuthority> Create(Certificate certificate, crypto::PrivateKey key);

  // CreateRoot makes a self-signed CA for `subject` (its name should end
  // with P=Signing Certificate): BasicConstraints critical CA:TRUE with
  // `path_length`, KeyUsage critical digitalSignature keyCertSign cRLSign,
  // Subject Key Identifier, and certificatePolicies when `scopes` is not
  // empty.
  static Result<CertificateAuthority> CreateRoot(const Name& subject, crypto::PrivateKey key,
                                                 const IssueOptions& options = {},
                                                 int path_length = 0,
                                                 const std::vector<std::string>& scopes = {});

  // Issue signs a certificate for `subject`:
  // - every certificate: v3, random serial of at most 159 bits, validity as
  //   `options`, Subject Key Identifier, Authority Key Identifier;
  // - a CA: BasicConstraints critical CA:TRUE pathlen = min(requested, my
  //   pathlen - 1); KeyUsage critical digitalSignature keyCertSign cRLSign.
  //   Below 0: kFailedPrecondition "Unable to sign for a CA (insufficient
  //   path length)."
  // - a leaf: BasicConstraints critical CA:FALSE; KeyUsage critical
  //   digitalSignature keyEncipherment; EKU clientAuth serverAuth
  //   codeSigning;
  // - SAN when alt_names is not empty; certificatePolicies when scopes is not.
  // Errors: kInvalidArgument (subject equal to my name, empty subject and
  // SAN, bad scope), kInternal (OpenSSL failure).
  Result<Certificate> Issue(const CertificateSubject& subject,
                            const IssueOptions& options = {}) const;

  // SignCrl makes a version 2 CRL listing `revoked`, with thisUpdate = now
  // and nextUpdate = now + `next_update_in`, a CRL number and the Authority
  // Key Identifier.
  Result<RevocationList> SignCrl(const std::vector<RevokedEntry>& revoked, std::uint64_t number,
                                 std::chrono::seconds next_update_in,
                                 const Clock& clock = SystemClock()) const;

  // certificate and key are the CA's (borrowed).
  const Certificate& certificate() const { return certificate_; }
  const crypto::PrivateKey& key() const { return key_; }

 private:
  CertificateAuthority(Certificate certificate, crypto::PrivateKey key)
      : certificate_(std::move(certificate)), key_(std::move(key)) {}
  Certificate certificate_;
  crypto::PrivateKey key_;
};

}  // namespace kisee::pki
