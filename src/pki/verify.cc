#include "kisee/pki/verify.h"

#include <openssl/x509_vfy.h>

#include "pki/internal/pki.h"

namespace kisee::pki {
namespace {

using crypto::internal::ClearOpenSslErrors;
using internal::OpenSslError;
using internal::PkiAccess;
using internal::UniquePtr;

// AcceptMissingCrl lets a chain through when its only flaw is that no CRL is
// known for an issuer: CRLs are given for the CAs that revoke, the others
// are judged on the chain alone. Every other error stands.
int AcceptMissingCrl(int ok, X509_STORE_CTX* context) {
  if (ok == 0 && X509_STORE_CTX_get_error(context) == X509_V_ERR_UNABLE_TO_GET_CRL) {
    X509_STORE_CTX_set_error(context, X509_V_OK);
    return 1;
  }
  return ok;
}

std::unexpected<Error> Internal(std::string_view what) {
  return std::unexpected(OpenSslError(ErrorCode::kInternal, what));
}

}  // namespace

Result<VerifiedChain> VerifiedChain::FromTlsVerifiedChain(std::span<const Bytes> chain_der) {
  if (chain_der.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty certificate chain");
  std::vector<Certificate> chain;
  chain.reserve(chain_der.size());
  for (const Bytes& der : chain_der) {
    KISEE_ASSIGN_OR_RETURN(auto certificate, Certificate::FromDer(der));
    chain.push_back(std::move(certificate));
  }
  return VerifiedChain(std::move(chain));
}

Result<VerifiedChain> VerifyChain(const Certificate& leaf,
                                  std::span<const Certificate> intermediates,
                                  std::span<const Certificate> anchors,
                                  std::span<const RevocationList> crls, TimePoint at,
                                  bool client_auth) {
  UniquePtr<X509_STORE> store(X509_STORE_new());
  if (!store) return Internal("X509_STORE_new");
  for (const Certificate& anchor : anchors) {
    if (X509_STORE_add_cert(store.get(), PkiAccess::Get0(anchor)) != 1) {
      // The same anchor twice is harmless.
      ClearOpenSslErrors();
    }
  }
  unsigned long flags = X509_V_FLAG_PARTIAL_CHAIN;
  for (const RevocationList& crl : crls) {
    if (X509_STORE_add_crl(store.get(), PkiAccess::Get0(crl)) != 1) ClearOpenSslErrors();
  }
  if (!crls.empty()) flags |= X509_V_FLAG_CRL_CHECK;
  X509_STORE_set_flags(store.get(), flags);
  X509_STORE_set_verify_cb(store.get(), AcceptMissingCrl);

  UniquePtr<STACK_OF(X509)> untrusted(sk_X509_new_null());
  if (!untrusted) return Internal("out of memory");
  for (const Certificate& certificate : intermediates) {
    if (sk_X509_push(untrusted.get(), PkiAccess::Get0(certificate)) == 0)
      return Internal("out of memory");
    X509_up_ref(PkiAccess::Get0(certificate));
  }
  UniquePtr<X509_STORE_CTX> context(X509_STORE_CTX_new());
  if (!context || X509_STORE_CTX_init(context.get(), store.get(), PkiAccess::Get0(leaf),
                                      untrusted.get()) != 1) {
    return Internal("X509_STORE_CTX_init");
  }
  X509_STORE_CTX_set_time(context.get(), 0, std::chrono::system_clock::to_time_t(at));
  if (client_auth) X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(context.get()) != 1) {
    int error = X509_STORE_CTX_get_error(context.get());
    ClearOpenSslErrors();
    return MakeError(ErrorCode::kUnauthenticated, std::string("certificate verification failed: ") +
                                                      X509_verify_cert_error_string(error));
  }
  UniquePtr<STACK_OF(X509)> verified(X509_STORE_CTX_get1_chain(context.get()));
  if (!verified) return Internal("X509_STORE_CTX_get1_chain");
  std::vector<Certificate> chain;
  for (int i = 0; i < sk_X509_num(verified.get()); ++i) {
    X509* certificate = sk_X509_value(verified.get(), i);
    X509_up_ref(certificate);
    KISEE_ASSIGN_OR_RETURN(auto parsed, PkiAccess::FromX509(UniquePtr<X509>(certificate)));
    chain.push_back(std::move(parsed));
  }
  return VerifiedChain(std::move(chain));
}

}  // namespace kisee::pki
