// OpenSSL ownership and errors, shared by every library that calls OpenSSL
// directly (crypto, pki, net). Not part of the public API: public headers
// never include OpenSSL.
//
// Ownership follows BoringSSL's naming: a UniquePtr<T> owns, a raw pointer is
// always borrowed. Functions named get0 borrow, get1 return a new reference,
// set0/add0 take ownership (release() the UniquePtr only after they succeed).
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string_view>

#include "kisee/core/error.h"

namespace kisee::crypto::internal {

// Deleter<T> frees a T with its OpenSSL free function. Only the types
// registered below have one; using UniquePtr with another type fails to
// compile, which is the point (add a registration next to these).
template <typename T>
struct Deleter;

#define KISEE_OPENSSL_DELETER(type, free_function)                 \
  template <>                                                      \
  struct Deleter<type> {                                           \
    void operator()(type* object) const { free_function(object); } \
  }

KISEE_OPENSSL_DELETER(BIO, BIO_free_all);
KISEE_OPENSSL_DELETER(BIGNUM, BN_clear_free);  // clear: BIGNUMs often hold private scalars
KISEE_OPENSSL_DELETER(BN_CTX, BN_CTX_free);
KISEE_OPENSSL_DELETER(EC_GROUP, EC_GROUP_free);
KISEE_OPENSSL_DELETER(EC_POINT, EC_POINT_clear_free);
KISEE_OPENSSL_DELETER(ECDSA_SIG, ECDSA_SIG_free);
KISEE_OPENSSL_DELETER(EVP_MD, EVP_MD_free);
KISEE_OPENSSL_DELETER(EVP_MD_CTX, EVP_MD_CTX_free);
KISEE_OPENSSL_DELETER(EVP_PKEY, EVP_PKEY_free);
KISEE_OPENSSL_DELETER(EVP_PKEY_CTX, EVP_PKEY_CTX_free);
KISEE_OPENSSL_DELETER(OSSL_ENCODER_CTX, OSSL_ENCODER_CTX_free);
KISEE_OPENSSL_DELETER(OSSL_PARAM, OSSL_PARAM_free);
KISEE_OPENSSL_DELETER(OSSL_PARAM_BLD, OSSL_PARAM_BLD_free);
KISEE_OPENSSL_DELETER(PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free);
// For pki: certificates, requests, revocation lists and their parts.
// ASN1_INTEGER, ASN1_OCTET_STRING, ASN1_TIME... are all the one type
// ASN1_STRING in OpenSSL, so a single registration covers them.
KISEE_OPENSSL_DELETER(ASN1_STRING, ASN1_STRING_free);
KISEE_OPENSSL_DELETER(ASN1_OBJECT, ASN1_OBJECT_free);
KISEE_OPENSSL_DELETER(GENERAL_NAME, GENERAL_NAME_free);
KISEE_OPENSSL_DELETER(X509, X509_free);
KISEE_OPENSSL_DELETER(X509_CRL, X509_CRL_free);
KISEE_OPENSSL_DELETER(X509_EXTENSION, X509_EXTENSION_free);
KISEE_OPENSSL_DELETER(X509_NAME, X509_NAME_free);
KISEE_OPENSSL_DELETER(X509_REQ, X509_REQ_free);
KISEE_OPENSSL_DELETER(X509_REVOKED, X509_REVOKED_free);
KISEE_OPENSSL_DELETER(X509_STORE, X509_STORE_free);
KISEE_OPENSSL_DELETER(X509_STORE_CTX, X509_STORE_CTX_free);
// x509v3 extension values pki builds and reads (SAN, AKI, policies).
KISEE_OPENSSL_DELETER(AUTHORITY_KEYID, AUTHORITY_KEYID_free);
KISEE_OPENSSL_DELETER(BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free);
KISEE_OPENSSL_DELETER(GENERAL_NAMES, GENERAL_NAMES_free);
KISEE_OPENSSL_DELETER(CERTIFICATEPOLICIES, CERTIFICATEPOLICIES_free);
KISEE_OPENSSL_DELETER(POLICYINFO, POLICYINFO_free);
KISEE_OPENSSL_DELETER(POLICYQUALINFO, POLICYQUALINFO_free);
KISEE_OPENSSL_DELETER(USERNOTICE, USERNOTICE_free);
// Stacks that own their elements.
inline void FreeX509Stack(STACK_OF(X509) * stack) { sk_X509_pop_free(stack, X509_free); }
inline void FreeExtensionStack(STACK_OF(X509_EXTENSION) * stack) {
  sk_X509_EXTENSION_pop_free(stack, X509_EXTENSION_free);
}
KISEE_OPENSSL_DELETER(STACK_OF(X509), FreeX509Stack);
KISEE_OPENSSL_DELETER(STACK_OF(X509_EXTENSION), FreeExtensionStack);

#undef KISEE_OPENSSL_DELETER

// UniquePtr<T> owns one OpenSSL object of type T.
template <typename T>
using UniquePtr = std::unique_ptr<T, Deleter<T>>;

// OpenSslError drains this thread's OpenSSL error queue and returns an Error
// with `code` whose message is "<context>: <reason>; <reason>..." (OpenSSL's
// reason strings only, never data: they cannot contain key material). Call it
// right after the failing OpenSSL call.
Error OpenSslError(ErrorCode code, std::string_view context);

// ClearOpenSslErrors empties this thread's OpenSSL error queue. Call it when a
// failure is expected and handled (e.g. trying one DER structure, then
// another) so that stale entries do not leak into a later message.
void ClearOpenSslErrors();

}  // namespace kisee::crypto::internal
