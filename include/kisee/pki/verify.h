// Chain verification: a certificate is trusted when a path leads from it to
// one of the trust anchors, every certificate is valid at the given time,
// no certificate is revoked by a CRL of its issuer (when there is one), and
// (optionally) the leaf may authenticate a TLS client.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "kisee/core/clock.h"
#include "kisee/core/error.h"
#include "kisee/pki/certificate.h"
#include "kisee/pki/crl.h"

namespace kisee::pki {

// VerifiedChain is a chain that VerifyChain accepted: leaf first, trust
// anchor last. Only VerifyChain and FromTlsVerifiedChain make one.
class VerifiedChain {
 public:
  // certificates is the chain, leaf first; leaf is its first element.
  const std::vector<Certificate>& certificates() const { return chain_; }
  const Certificate& leaf() const { return chain_.front(); }
  // scopes: the scopes of the leaf, which a trusted CA issued.
  std::vector<std::string> scopes() const { return chain_.front().scopes(); }

  // FromTlsVerifiedChain wraps a chain that a TLS stack has already verified
  // against its trust anchors (e.g. net::TlsPeer::verified_chain_der), leaf
  // first. Errors: kInvalidArgument for an empty or unparsable chain.
  static Result<VerifiedChain> FromTlsVerifiedChain(std::span<const Bytes> chain_der);

 private:
  friend Result<VerifiedChain> VerifyChain(const Certificate&, std::span<const Certificate>,
                                           std::span<const Certificate>,
                                           std::span<const RevocationList>, TimePoint, bool);
  explicit VerifiedChain(std::vector<Certificate> chain) : chain_(std::move(chain)) {}
  std::vector<Certificate> chain_;
};

// VerifyChain verifies `leaf` with the untrusted `intermediates` against
// `anchors` at time `at`. A chain may end at any anchor, not only at a
// self-signed one (as the original's VERIFY_X509_PARTIAL_CHAIN). `crls` are
// checked for issuers that have one; other issuers are judged on the chain
// alone. With `client_auth`, the leaf must allow TLS client authentication.
// Errors: kUnauthenticated with OpenSSL's reason ("certificate has
// expired", "certificate revoked", "unable to get local issuer
// certificate"...).
Result<VerifiedChain> VerifyChain(const Certificate& leaf,
                                  std::span<const Certificate> intermediates,
                                  std::span<const Certificate> anchors,
                                  std::span<const RevocationList> crls, TimePoint at,
                                  bool client_auth = false);

}  // namespace kisee::pki
