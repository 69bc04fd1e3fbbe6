// X.509 certificates and certificate signing requests: parsing (PEM, DER,
// certified's b64-DER), the fields certified uses, and the b64-DER text
// encoding itself.
//
// Certificate and CertificateRequest are immutable values sharing their
// parsed object: copies are cheap and every method is safe to call from
// several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kisee/core/bytes.h"
#include "kisee/core/clock.h"
#include "kisee/core/error.h"
#include "kisee/crypto/keys.h"
#include "kisee/pki/name.h"

namespace kisee::pki {

namespace internal {
struct CertificateData;
struct RequestData;
struct PkiAccess;
}  // namespace internal

// EncodeB64Der writes certified's b64-DER: standard base64 with the URL-safe
// characters '-' and '_', '=' padding kept, one line.
std::string EncodeB64Der(ByteView der);

// DecodeB64Der reads b64-DER. Both alphabets are accepted; whitespace and
// missing padding are errors (kInvalidArgument).
Result<Bytes> DecodeB64Der(std::string_view text);

// AltName is one subjectAltName entry.
struct AltName {
  enum class Kind { kEmail, kDns, kIp, kUri };
  Kind kind;
  // value: the e-mail address, the DNS name (A-labels), the IP address as
  // text ("127.0.0.1", "::1", or "10.0.0.0/8" for a network), or the URI.
  std::string value;
  bool operator==(const AltName&) const = default;
};

// MakeAltNames builds the SAN entries of certified.md §2 in its order: the
// e-mails, then the hosts (an IP address if one parses, else an IP network
// "a.b.c.d/len", else a DNS name converted to A-labels by IDNA 2008 with the
// UTS #46 mapping; a leading "*." is kept), then the URIs. Errors:
// kInvalidArgument for a host that is none of these.
Result<std::vector<AltName>> MakeAltNames(const std::vector<std::string>& emails,
                                          const std::vector<std::string>& hosts,
                                          const std::vector<std::string>& uris);

// Certificate is a parsed X.509 certificate.
class Certificate {
 public:
  // FromDer parses one DER certificate (trailing bytes are an error).
  // Errors: kInvalidArgument.
  static Result<Certificate> FromDer(ByteView der);
  // FromPem parses the first PEM "CERTIFICATE" block of `pem`.
  static Result<Certificate> FromPem(std::string_view pem);
  // ChainFromPem parses every PEM "CERTIFICATE" block, in order (at least one).
  static Result<std::vector<Certificate>> ChainFromPem(std::string_view pem);
  // FromB64Der parses b64-DER text, as found in JSON and YAML values: any
  // whitespace is an error (certified.md §1).
  static Result<Certificate> FromB64Der(std::string_view text);
  // Parse accepts what certified's commands accept in a file: a PEM
  // certificate or b64-DER text, with surrounding whitespace (a trailing
  // newline) ignored.
  static Result<Certificate> Parse(std::string_view text);

  // der returns the DER encoding (borrowed from the certificate).
  const Bytes& der() const;
  // ToPem returns one PEM block ending with a newline.
  std::string ToPem() const;
  // ToB64Der returns the b64-DER text (one line).
  std::string ToB64Der() const { return EncodeB64Der(der()); }

  // subject and issuer are the parsed names (borrowed).
  const Name& subject() const;
  const Name& issuer() const;
  // serial_hex is the serial number as lowercase hex, left-padded to 40
  // digits (certified.md §2); longer serials are printed in full.
  const std::string& serial_hex() const;
  // not_before / not_after bound the validity period.
  TimePoint not_before() const;
  TimePoint not_after() const;
  // self_signed tells whether subject and issuer are the same name.
  bool self_signed() const;
  // is_ca: BasicConstraints says CA:TRUE.
  bool is_ca() const;
  // path_length: the CA's pathLenConstraint; nullopt when absent or not a CA.
  std::optional<int> path_length() const;
  // public_key: the subject's key. kInvalidArgument for key types outside
  // crypto::KeyType (e.g. RSA certificates of other CAs).
  Result<crypto::PublicKey> public_key() const;
  std::vector<AltName> alt_names() const;
  // scopes: the certified scopes of the certificatePolicies extension
  // (see scope.h), in order. Policies that do not follow the scheme are
  // ignored.
  std::vector<std::string> scopes() const;

  // VerifyIssuedBy checks that `issuer` signed this certificate and that the
  // issuer names match. Errors: kUnauthenticated.
  Status VerifyIssuedBy(const Certificate& issuer) const;

  // Two certificates are equal when their DER is.
  friend bool operator==(const Certificate& a, const Certificate& b) { return a.der() == b.der(); }

 private:
  friend struct internal::PkiAccess;
  explicit Certificate(std::shared_ptr<const internal::CertificateData> data);
  std::shared_ptr<const internal::CertificateData> data_;
};

// CertificateRequest is a PKCS#10 request whose signature was checked.
class CertificateRequest {
 public:
  // FromPem / FromDer parse and verify the self-signature. Errors:
  // kInvalidArgument (malformed), kUnauthenticated (bad signature).
  static Result<CertificateRequest> FromPem(std::string_view pem);
  static Result<CertificateRequest> FromDer(ByteView der);

  // Create makes a request for `subject` and `alt_names` signed by `key`.
  static Result<CertificateRequest> Create(const crypto::PrivateKey& key, const Name& subject,
                                           const std::vector<AltName>& alt_names);

  // der / ToPem encode the request; subject, public_key and alt_names are
  // what it asks to be certified (borrowed or copied as typed).
  const Bytes& der() const;
  std::string ToPem() const;
  const Name& subject() const;
  const crypto::PublicKey& public_key() const;
  std::vector<AltName> alt_names() const;
  // is_ca: the request asks for BasicConstraints CA:TRUE.
  bool is_ca() const;

 private:
  friend struct internal::PkiAccess;
  explicit CertificateRequest(std::shared_ptr<const internal::RequestData> data);
  std::shared_ptr<const internal::RequestData> data_;
};

// SerialToHex formats a big-endian serial as certified prints it.
std::string SerialToHex(ByteView serial);

// FormatTime prints a time as "2025-01-31T12:00:00Z".
std::string FormatTime(TimePoint time);

}  // namespace kisee::pki
