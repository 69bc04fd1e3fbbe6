#include "kisee/pki/authority.h"

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "crypto/internal/evp_key.h"
#include "kisee/core/random.h"
#include "kisee/pki/scope.h"
#include "pki/internal/pki.h"

namespace kisee::pki {
namespace {

using crypto::internal::ClearOpenSslErrors;
using crypto::internal::GetEvpPkey;
using crypto::internal::SignatureDigest;
using internal::OpenSslError;
using internal::PkiAccess;
using internal::UniquePtr;

std::unexpected<Error> Failure(std::string_view what) {
  return std::unexpected(OpenSslError(ErrorCode::kInternal, what));
}

// RandomSerial returns a positive serial of at most 159 bits: 20 random
// bytes with the top bit cleared (RFC 5280 allows 20 octets; a positive
// INTEGER of 160 bits would need 21).
Result<UniquePtr<ASN1_INTEGER>> RandomSerial() {
  Bytes raw = RandomBytes(20);
  raw[0] &= 0x7f;
  if (std::all_of(raw.begin(), raw.end(), [](std::uint8_t b) { return b == 0; })) raw[19] = 1;
  UniquePtr<BIGNUM> number(BN_bin2bn(raw.data(), static_cast<int>(raw.size()), nullptr));
  UniquePtr<ASN1_INTEGER> serial(number ? BN_to_ASN1_INTEGER(number.get(), nullptr) : nullptr);
  if (!serial) return Failure("cannot make a serial number");
  return serial;
}

// AddConfExtension adds an extension given in OpenSSL's configuration
// syntax. Only constant texts are passed here, never user data.
Status AddConfExtension(X509* certificate, X509V3_CTX* context, int nid, const char* value) {
  UniquePtr<X509_EXTENSION> extension(X509V3_EXT_conf_nid(nullptr, context, nid, value));
  if (!extension || X509_add_ext(certificate, extension.get(), -1) != 1) {
    return Failure("cannot add an extension");
  }
  return Ok();
}

Result<UniquePtr<CERTIFICATEPOLICIES>> ScopePolicies(const std::vector<std::string>& scopes) {
  UniquePtr<CERTIFICATEPOLICIES> policies(sk_POLICYINFO_new_null());
  if (!policies) return Failure("out of memory");
  for (const std::string& scope : scopes) {
    KISEE_RETURN_IF_ERROR(ValidateScope(scope));
    UniquePtr<POLICYINFO> policy(POLICYINFO_new());
    UniquePtr<POLICYQUALINFO> qualifier(POLICYQUALINFO_new());
    UniquePtr<USERNOTICE> notice(USERNOTICE_new());
    UniquePtr<ASN1_STRING> text(ASN1_STRING_type_new(V_ASN1_UTF8STRING));
    std::string oid = ScopeOid(scope);
    if (!policy || !qualifier || !notice || !text ||
        ASN1_STRING_set(text.get(), scope.data(), static_cast<int>(scope.size())) != 1) {
      return Failure("out of memory");
    }
    ASN1_OBJECT_free(policy->policyid);
    policy->policyid = OBJ_txt2obj(oid.c_str(), 1);
    ASN1_OBJECT_free(qualifier->pqualid);
    qualifier->pqualid = OBJ_nid2obj(NID_id_qt_unotice);
    notice->exptext = text.release();
    qualifier->d.usernotice = notice.release();
    policy->qualifiers = sk_POLICYQUALINFO_new_null();
    if (policy->policyid == nullptr || policy->qualifiers == nullptr ||
        sk_POLICYQUALINFO_push(policy->qualifiers, qualifier.get()) == 0) {
      return Failure("cannot build a certificate policy");
    }
    qualifier.release();
    if (sk_POLICYINFO_push(policies.get(), policy.get()) == 0) return Failure("out of memory");
    policy.release();
  }
  return policies;
}

struct Draft {
  const Name* subject;
  const std::vector<AltName>* alt_names;
  const crypto::PublicKey* public_key;
  bool is_ca;
  std::optional<int> path_length;
  const std::vector<std::string>* scopes;
};

// Build fills, extends and signs a certificate. `issuer` is null for a
// self-signed one.
Result<Certificate> Build(const Draft& draft, const CertificateAuthority* issuer,
                          const crypto::PrivateKey& signing_key, const IssueOptions& options) {
  if (draft.subject->empty() && draft.alt_names->empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a certificate needs a subject name or a subjectAltName");
  }
  UniquePtr<X509> x509(X509_new());
  if (!x509 || X509_set_version(x509.get(), X509_VERSION_3) != 1) return Failure("X509_new");
  KISEE_ASSIGN_OR_RETURN(auto serial, RandomSerial());
  KISEE_ASSIGN_OR_RETURN(auto subject_name, internal::NameToX509(*draft.subject));
  X509* issuer_x509 = issuer != nullptr ? PkiAccess::Get0(issuer->certificate()) : x509.get();
  if (issuer != nullptr &&
      X509_NAME_cmp(subject_name.get(), X509_get_subject_name(issuer_x509)) == 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "Cannot have subject == issuer for normal certificate.");
  }
  if (X509_set_serialNumber(x509.get(), serial.get()) != 1 ||
      X509_set_subject_name(x509.get(), subject_name.get()) != 1 ||
      X509_set_issuer_name(x509.get(), issuer != nullptr ? X509_get_subject_name(issuer_x509)
                                                         : subject_name.get()) != 1 ||
      X509_set_pubkey(x509.get(), GetEvpPkey(*draft.public_key)) != 1) {
    return Failure("cannot fill the certificate");
  }
  std::time_t now = std::chrono::system_clock::to_time_t(options.clock->Now());
  // certified.md §2: notAfter = now + lifetime, whatever the issuer's own
  // expiry (a chain is checked certificate by certificate anyway).
  TimePoint not_after = options.clock->Now() + options.lifetime;
  if (ASN1_TIME_set(X509_getm_notBefore(x509.get()), now) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x509.get()),
                    std::chrono::system_clock::to_time_t(not_after)) == nullptr) {
    return Failure("cannot set the validity");
  }

  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer_x509, x509.get(), nullptr, nullptr, 0);
  KISEE_RETURN_IF_ERROR(AddConfExtension(x509.get(), &context, NID_subject_key_identifier, "hash"));
  if (draft.is_ca) {
    std::string basic = "critical,CA:TRUE";
    if (draft.path_length) basic += ",pathlen:" + std::to_string(*draft.path_length);
    KISEE_RETURN_IF_ERROR(
        AddConfExtension(x509.get(), &context, NID_basic_constraints, basic.c_str()));
    KISEE_RETURN_IF_ERROR(AddConfExtension(x509.get(), &context, NID_key_usage,
                                           "critical,digitalSignature,keyCertSign,cRLSign"));
  } else {
    KISEE_RETURN_IF_ERROR(
        AddConfExtension(x509.get(), &context, NID_basic_constraints, "critical,CA:FALSE"));
    KISEE_RETURN_IF_ERROR(AddConfExtension(x509.get(), &context, NID_key_usage,
                                           "critical,digitalSignature,keyEncipherment"));
    KISEE_RETURN_IF_ERROR(AddConfExtension(x509.get(), &context, NID_ext_key_usage,
                                           "clientAuth,serverAuth,codeSigning"));
  }
  if (issuer != nullptr) {
    KISEE_RETURN_IF_ERROR(
        AddConfExtension(x509.get(), &context, NID_authority_key_identifier, "keyid:always"));
  }
  if (!draft.alt_names->empty()) {
    KISEE_ASSIGN_OR_RETURN(auto general, internal::AltNamesToGeneral(*draft.alt_names));
    // The SAN is critical only when the subject is empty (RFC 5280 §4.2.1.6).
    if (X509_add1_ext_i2d(x509.get(), NID_subject_alt_name, general.get(),
                          draft.subject->empty() ? 1 : 0, X509V3_ADD_DEFAULT) != 1) {
      return Failure("cannot add the subjectAltName");
    }
  }
  if (!draft.scopes->empty()) {
    KISEE_ASSIGN_OR_RETURN(auto policies, ScopePolicies(*draft.scopes));
    if (X509_add1_ext_i2d(x509.get(), NID_certificate_policies, policies.get(), 0,
                          X509V3_ADD_DEFAULT) != 1) {
      return Failure("cannot add the certificate policies");
    }
  }
  if (X509_sign(x509.get(), GetEvpPkey(signing_key), SignatureDigest(signing_key.type())) <= 0) {
    return Failure("cannot sign the certificate");
  }
  ClearOpenSslErrors();
  return PkiAccess::FromX509(std::move(x509));
}

}  // namespace

Result<CertificateAuthority> CertificateAuthority::Create(Certificate certificate,
                                                          crypto::PrivateKey key) {
  if (!certificate.is_ca()) {
    return MakeError(ErrorCode::kInvalidArgument, "Loaded certificate is not a CA.");
  }
  KISEE_ASSIGN_OR_RETURN(auto public_key, certificate.public_key());
  if (!(public_key == key.public_key())) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the CA's private key does not match its certificate");
  }
  return CertificateAuthority(std::move(certificate), std::move(key));
}

Result<CertificateAuthority> CertificateAuthority::CreateRoot(
    const Name& subject, crypto::PrivateKey key, const IssueOptions& options, int path_length,
    const std::vector<std::string>& scopes) {
  if (path_length < 0) {
    return MakeError(ErrorCode::kInvalidArgument, "the path length cannot be negative");
  }
  std::vector<AltName> no_alt_names;
  Draft draft{&subject, &no_alt_names, &key.public_key(), true, path_length, &scopes};
  KISEE_ASSIGN_OR_RETURN(auto certificate, Build(draft, nullptr, key, options));
  return CertificateAuthority(std::move(certificate), std::move(key));
}

Result<Certificate> CertificateAuthority::Issue(const CertificateSubject& subject,
                                                const IssueOptions& options) const {
  Draft draft{&subject.name, &subject.alt_names, &subject.public_key,
              subject.is_ca, std::nullopt,       &subject.scopes};
  if (subject.is_ca) {
    int requested = std::max(subject.path_length, 0);
    std::optional<int> mine = certificate_.path_length();
    int granted = mine ? std::min(requested, *mine - 1) : requested;
    if (granted < 0) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "Unable to sign for a CA (insufficient path length).");
    }
    draft.path_length = granted;
  }
  return Build(draft, this, key_, options);
}

Result<RevocationList> CertificateAuthority::SignCrl(const std::vector<RevokedEntry>& revoked,
                                                     std::uint64_t number,
                                                     std::chrono::seconds next_update_in,
                                                     const Clock& clock) const {
  UniquePtr<X509_CRL> crl(X509_CRL_new());
  X509* issuer = PkiAccess::Get0(certificate_);
  if (!crl || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer)) != 1) {
    return Failure("X509_CRL_new");
  }
  std::time_t now = std::chrono::system_clock::to_time_t(clock.Now());
  UniquePtr<ASN1_STRING> this_update(ASN1_TIME_set(nullptr, now));
  UniquePtr<ASN1_STRING> next_update(ASN1_TIME_set(nullptr, now + next_update_in.count()));
  if (!this_update || !next_update || X509_CRL_set1_lastUpdate(crl.get(), this_update.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next_update.get()) != 1) {
    return Failure("cannot set the CRL dates");
  }
  for (const RevokedEntry& entry : revoked) {
    KISEE_ASSIGN_OR_RETURN(auto serial, internal::SerialToAsn1(entry.serial_hex));
    UniquePtr<X509_REVOKED> item(X509_REVOKED_new());
    UniquePtr<ASN1_STRING> date(
        ASN1_TIME_set(nullptr, std::chrono::system_clock::to_time_t(entry.revoked_at)));
    if (!item || !date || X509_REVOKED_set_serialNumber(item.get(), serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(item.get(), date.get()) != 1 ||
        X509_CRL_add0_revoked(crl.get(), item.get()) != 1) {
      return Failure("cannot add a revoked certificate");
    }
    item.release();  // owned by the CRL
  }
  X509_CRL_sort(crl.get());
  UniquePtr<BIGNUM> crl_number(BN_new());
  if (!crl_number || BN_set_word(crl_number.get(), number) != 1) return Failure("BN_new");
  UniquePtr<ASN1_INTEGER> number_value(BN_to_ASN1_INTEGER(crl_number.get(), nullptr));
  if (!number_value || X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number_value.get(), 0,
                                             X509V3_ADD_DEFAULT) != 1) {
    return Failure("cannot add the CRL number");
  }
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, nullptr, nullptr, crl.get(), 0);
  UniquePtr<X509_EXTENSION> aki(
      X509V3_EXT_conf_nid(nullptr, &context, NID_authority_key_identifier, "keyid:always"));
  if (!aki || X509_CRL_add_ext(crl.get(), aki.get(), -1) != 1) {
    return Failure("cannot add the CRL's authority key identifier");
  }
  if (X509_CRL_sign(crl.get(), GetEvpPkey(key_), SignatureDigest(key_.type())) <= 0) {
    return Failure("cannot sign the CRL");
  }
  ClearOpenSslErrors();
  return PkiAccess::FromCrl(std::move(crl));
}

}  // namespace kisee::pki
