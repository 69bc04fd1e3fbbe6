#include "kisee/pki/crl.h"

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/internal/pki.h"

namespace kisee::pki {

using crypto::internal::ClearOpenSslErrors;
using internal::OpenSslError;
using internal::UniquePtr;

namespace {
int NoPassphrase(char*, int, int, void*) { return -1; }
}  // namespace

RevocationList::RevocationList(std::shared_ptr<const internal::CrlData> data)
    : data_(std::move(data)) {}

Result<RevocationList> RevocationList::FromPem(std::string_view pem) {
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  UniquePtr<X509_CRL> crl(bio ? PEM_read_bio_X509_CRL(bio.get(), nullptr, NoPassphrase, nullptr)
                              : nullptr);
  if (!crl) return std::unexpected(OpenSslError(ErrorCode::kInvalidArgument, "invalid PEM CRL"));
  return internal::PkiAccess::FromCrl(std::move(crl));
}

Result<RevocationList> RevocationList::FromDer(ByteView der) {
  const unsigned char* cursor = der.data();
  UniquePtr<X509_CRL> crl(d2i_X509_CRL(nullptr, &cursor, static_cast<long>(der.size())));
  if (!crl || cursor != der.data() + der.size()) {
    return std::unexpected(OpenSslError(ErrorCode::kInvalidArgument, "invalid DER CRL"));
  }
  return internal::PkiAccess::FromCrl(std::move(crl));
}

const Bytes& RevocationList::der() const { return data_->der; }
std::string RevocationList::ToPem() const {
  return internal::PemOf(data_->crl.get(), PEM_write_bio_X509_CRL);
}
const Name& RevocationList::issuer() const { return data_->issuer; }
TimePoint RevocationList::this_update() const { return data_->this_update; }
TimePoint RevocationList::next_update() const { return data_->next_update; }
std::uint64_t RevocationList::number() const { return data_->number; }
const std::vector<RevocationList::Entry>& RevocationList::entries() const { return data_->entries; }

bool RevocationList::IsRevoked(std::string_view serial_hex) const {
  std::string wanted = internal::NormalizeSerial(serial_hex);
  if (wanted.empty()) return false;
  for (const Entry& entry : data_->entries) {
    if (internal::NormalizeSerial(entry.serial_hex) == wanted) return true;
  }
  return false;
}

Status RevocationList::VerifySignature(const Certificate& issuer) const {
  X509* issuer_x509 = internal::PkiAccess::Get0(issuer);
  EVP_PKEY* key = X509_get0_pubkey(issuer_x509);
  if (X509_NAME_cmp(X509_CRL_get_issuer(data_->crl.get()), X509_get_subject_name(issuer_x509)) !=
          0 ||
      key == nullptr || X509_CRL_verify(data_->crl.get(), key) != 1) {
    ClearOpenSslErrors();
    return MakeError(ErrorCode::kUnauthenticated, "the CRL was not signed by that CA");
  }
  return Ok();
}

namespace internal {

Result<RevocationList> PkiAccess::FromCrl(UniquePtr<X509_CRL> crl) {
  auto data = std::make_shared<CrlData>();
  KISEE_ASSIGN_OR_RETURN(data->der, DerOf(crl.get(), i2d_X509_CRL));
  KISEE_ASSIGN_OR_RETURN(data->issuer, NameFromX509(X509_CRL_get_issuer(crl.get())));
  data->this_update = TimeFromAsn1(X509_CRL_get0_lastUpdate(crl.get()));
  data->next_update = TimeFromAsn1(X509_CRL_get0_nextUpdate(crl.get()));
  UniquePtr<ASN1_STRING> number(static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, nullptr, nullptr)));
  if (number) {
    std::uint64_t value = 0;
    if (ASN1_INTEGER_get_uint64(&value, number.get()) == 1) data->number = value;
  }
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    const X509_REVOKED* item = sk_X509_REVOKED_value(revoked, i);
    data->entries.push_back({SerialFromAsn1(X509_REVOKED_get0_serialNumber(item)),
                             TimeFromAsn1(X509_REVOKED_get0_revocationDate(item))});
  }
  ClearOpenSslErrors();
  data->crl = std::move(crl);
  return RevocationList(std::move(data));
}

}  // namespace internal
}  // namespace kisee::pki
