// pki internals shared by its translation units: the parsed data behind
// Certificate, CertificateRequest and RevocationList, and conversions
// between kisee values and OpenSSL objects. Not part of the public API.
#pragma once

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <optional>
#include <string>
#include <vector>

#include "crypto/internal/openssl.h"
#include "kisee/pki/certificate.h"
#include "kisee/pki/crl.h"
#include "kisee/pki/name.h"

namespace kisee::pki::internal {

using crypto::internal::OpenSslError;
using crypto::internal::UniquePtr;

struct CertificateData {
  UniquePtr<X509> x509;
  Bytes der;
  Name subject;
  Name issuer;
  std::string serial_hex;
  TimePoint not_before;
  TimePoint not_after;
  bool self_signed = false;
  bool is_ca = false;
  std::optional<int> path_length;
  std::optional<crypto::PublicKey> public_key;
  std::string public_key_error;  // why public_key is empty
};

struct RequestData {
  UniquePtr<X509_REQ> request;
  Bytes der;
  Name subject;
  std::optional<crypto::PublicKey> public_key;
  std::vector<AltName> alt_names;
  bool is_ca = false;
};

struct CrlData {
  UniquePtr<X509_CRL> crl;
  Bytes der;
  Name issuer;
  TimePoint this_update;
  TimePoint next_update;
  std::uint64_t number = 0;
  std::vector<RevocationList::Entry> entries;
};

// PkiAccess reaches into the value types for the pki translation units.
struct PkiAccess {
  // FromX509 takes ownership of `x509` and parses its fields.
  static Result<Certificate> FromX509(UniquePtr<X509> x509);
  static Result<RevocationList> FromCrl(UniquePtr<X509_CRL> crl);
  static Result<CertificateRequest> FromRequest(UniquePtr<X509_REQ> request);
  // Get0 borrow the OpenSSL object (valid while the value lives).
  static X509* Get0(const Certificate& certificate) { return certificate.data_->x509.get(); }
  static X509_CRL* Get0(const RevocationList& crl) { return crl.data_->crl.get(); }
};

// NameToX509 encodes `name` (see Name::ToDer).
Result<UniquePtr<X509_NAME>> NameToX509(const Name& name);
// NameFromX509 reads `name` (borrowed).
Result<Name> NameFromX509(const X509_NAME* name);

// AltNamesToGeneral encodes SAN entries; AltNamesFromGeneral reads them
// (entries of other kinds are skipped).
Result<UniquePtr<GENERAL_NAMES>> AltNamesToGeneral(const std::vector<AltName>& names);
std::vector<AltName> AltNamesFromGeneral(const GENERAL_NAMES* names);

// TimeFromAsn1 converts an ASN1_TIME (UTCTime or GeneralizedTime).
TimePoint TimeFromAsn1(const ASN1_TIME* time);
// SerialFromAsn1 formats an ASN1_INTEGER serial with SerialToHex.
std::string SerialFromAsn1(const ASN1_INTEGER* serial);
// SerialToAsn1 parses a hex serial. Errors: kInvalidArgument.
Result<UniquePtr<ASN1_INTEGER>> SerialToAsn1(std::string_view hex);
// NormalizeSerial returns `hex` lowercased without leading zeros ("0" for zero),
// or "" if it is not hex.
std::string NormalizeSerial(std::string_view hex);

// Asn1StringToUtf8 converts any character string type to UTF-8.
Result<std::string> Asn1StringToUtf8(const ASN1_STRING* text);

// DerOf encodes an object with its i2d function.
template <typename T, typename F>
Result<Bytes> DerOf(const T* object, F i2d) {
  int length = i2d(object, nullptr);
  if (length <= 0)
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "DER encoding failed"));
  Bytes out(static_cast<std::size_t>(length));
  unsigned char* cursor = out.data();
  if (i2d(object, &cursor) != length) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "DER encoding failed"));
  }
  return out;
}

// PemOf encodes an object with its PEM_write_bio function.
template <typename T, typename F>
std::string PemOf(T* object, F write) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get(), object) != 1) {
    crypto::internal::ClearOpenSslErrors();
    return {};
  }
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

}  // namespace kisee::pki::internal
