// Certificate revocation lists (RFC 5280 §5), as certified's CAs publish
// them (`certified crl`) and `certified serve` enforces them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kisee/core/bytes.h"
#include "kisee/core/clock.h"
#include "kisee/core/error.h"
#include "kisee/pki/certificate.h"
#include "kisee/pki/name.h"

namespace kisee::pki {

namespace internal {
struct CrlData;
struct PkiAccess;
}  // namespace internal

// RevocationList is a parsed CRL. Immutable; copies share it; thread-safe.
class RevocationList {
 public:
  struct Entry {
    std::string serial_hex;  // as Certificate::serial_hex
    TimePoint revoked_at;
  };

  // FromPem parses the first "X509 CRL" PEM block; FromDer one DER CRL.
  // Errors: kInvalidArgument.
  static Result<RevocationList> FromPem(std::string_view pem);
  static Result<RevocationList> FromDer(ByteView der);

  // der / ToPem encode the CRL (ToPem: one "X509 CRL" block).
  const Bytes& der() const;
  std::string ToPem() const;
  // issuer names the CA; this_update / next_update are the CRL's dates.
  const Name& issuer() const;
  TimePoint this_update() const;
  TimePoint next_update() const;
  // number: the CRL number extension (0 if absent).
  std::uint64_t number() const;
  // entries lists the revoked certificates (borrowed).
  const std::vector<Entry>& entries() const;
  // IsRevoked tells whether `serial_hex` (any case, any zero padding) is listed.
  bool IsRevoked(std::string_view serial_hex) const;

  // VerifySignature checks that `issuer` signed this CRL. Errors:
  // kUnauthenticated.
  Status VerifySignature(const Certificate& issuer) const;

 private:
  friend struct internal::PkiAccess;
  explicit RevocationList(std::shared_ptr<const internal::CrlData> data);
  std::shared_ptr<const internal::CrlData> data_;
};

}  // namespace kisee::pki
