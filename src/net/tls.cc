#include "kisee/net/tls.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <exception>
#include <vector>

#include "net/openssl_util.h"
#include "net/tls_impl.h"

namespace kisee::net {
namespace {

namespace ssl = boost::asio::ssl;
using internal::DrainOpenSslErrors;
using internal::MemoryBio;
using internal::UniquePtr;

std::unexpected<Error> TlsError(std::string message) {
  std::string details = DrainOpenSslErrors();
  if (!details.empty()) message += ": " + details;
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

// AtEndOfPem tells whether the last PEM read failed only because no further
// PEM block follows (the normal end of a concatenated file), and clears the
// queue in that case.
bool AtEndOfPem() {
  unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
    ERR_clear_error();
    return true;
  }
  return false;
}

// A passphrase callback that refuses: an encrypted key is an error, never a
// prompt on the terminal (OpenSSL's default).
int NoPassphrase(char*, int, int, void*) { return -1; }

Result<std::vector<UniquePtr<X509>>> ParseCertificates(std::string_view pem,
                                                       std::string_view what) {
  std::vector<UniquePtr<X509>> certificates;
  auto bio = MemoryBio(pem);
  if (!bio) return TlsError("cannot read " + std::string(what));
  for (;;) {
    UniquePtr<X509> certificate(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
    if (!certificate) break;
    certificates.push_back(std::move(certificate));
  }
  if (!AtEndOfPem()) return TlsError("invalid PEM certificate in " + std::string(what));
  if (certificates.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "no PEM certificate in " + std::string(what));
  }
  return certificates;
}

Result<std::vector<UniquePtr<X509_CRL>>> ParseCrls(std::string_view pem) {
  std::vector<UniquePtr<X509_CRL>> crls;
  auto bio = MemoryBio(pem);
  if (!bio) return TlsError("cannot read the CRL");
  for (;;) {
    UniquePtr<X509_CRL> crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, NoPassphrase, nullptr));
    if (!crl) break;
    crls.push_back(std::move(crl));
  }
  if (!AtEndOfPem()) return TlsError("invalid PEM CRL");
  if (crls.empty()) return MakeError(ErrorCode::kInvalidArgument, "no PEM CRL in the CRL text");
  return crls;
}

Result<UniquePtr<EVP_PKEY>> ParsePrivateKey(const SecretBytes& pem) {
  auto bio = MemoryBio(pem.chars());
  if (!bio) return TlsError("cannot read the private key");
  UniquePtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  // The error queue may name the PEM structure but never holds key bytes.
  if (!key) return TlsError("invalid PEM private key (or an encrypted one)");
  return key;
}

// UseChainAndKey installs a certificate chain (leaf first) and its key.
Status UseChainAndKey(SSL_CTX* ctx, std::string_view chain_pem, const SecretBytes& key_pem,
                      std::string_view what) {
  KISEE_ASSIGN_OR_RETURN(auto chain, ParseCertificates(chain_pem, what));
  KISEE_ASSIGN_OR_RETURN(auto key, ParsePrivateKey(key_pem));
  if (SSL_CTX_use_certificate(ctx, chain[0].get()) != 1) {
    return TlsError("cannot use the " + std::string(what));
  }
  for (std::size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, chain[i].get()) != 1) {
      return TlsError("cannot use the intermediates of the " + std::string(what));
    }
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) {
    int reason = ERR_GET_REASON(ERR_peek_last_error());
    if (reason == X509_R_KEY_VALUES_MISMATCH || reason == X509_R_KEY_TYPE_MISMATCH) {
      ERR_clear_error();
      return MakeError(ErrorCode::kInvalidArgument,
                       "the private key does not match the " + std::string(what));
    }
    return TlsError("cannot use the private key");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return MakeError(ErrorCode::kInvalidArgument,
                     "the private key does not match the " + std::string(what));
  }
  return Ok();
}

// AddTrustAnchors puts every certificate of `pem` in the context's store;
// returns how many.
Result<std::size_t> AddTrustAnchors(SSL_CTX* ctx, std::string_view pem, std::string_view what,
                                    STACK_OF(X509_NAME) * names) {
  KISEE_ASSIGN_OR_RETURN(auto anchors, ParseCertificates(pem, what));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (auto& anchor : anchors) {
    if (X509_STORE_add_cert(store, anchor.get()) != 1) {
      // The same CA twice in a concatenated trust folder is harmless.
      unsigned long last = ERR_peek_last_error();
      if (ERR_GET_REASON(last) != X509_R_CERT_ALREADY_IN_HASH_TABLE) {
        return TlsError("cannot add a certificate of " + std::string(what));
      }
      ERR_clear_error();
    }
    if (names != nullptr) {
      X509_NAME* name = X509_NAME_dup(X509_get_subject_name(anchor.get()));
      if (name == nullptr || sk_X509_NAME_push(names, name) == 0) {
        X509_NAME_free(name);
        return TlsError("out of memory");
      }
    }
  }
  return anchors.size();
}

// VerifyClient accepts a chain whose only flaw is that no CRL is known for
// its issuer: CRLs are given for the CAs that revoke (certified's own), and
// clients of the other trusted CAs are judged on their chain alone. Every
// other verification error stands.
int VerifyClient(int preverify_ok, X509_STORE_CTX* store) {
  if (preverify_ok == 0 && X509_STORE_CTX_get_error(store) == X509_V_ERR_UNABLE_TO_GET_CRL) {
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  return preverify_ok;
}

int ProtocolVersion(TlsVersion version) {
  return version == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

}  // namespace

TlsServerContext::TlsServerContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsServerContext::~TlsServerContext() = default;

bool TlsServerContext::requires_client_certificate() const { return impl_->mutual; }

Result<std::shared_ptr<const TlsServerContext>> TlsServerContext::Create(
    const TlsServerOptions& options) {
  ERR_clear_error();
  std::unique_ptr<Impl> impl;
  try {
    impl = std::make_unique<Impl>(ssl::context(ssl::context::tls_server));
  } catch (const std::exception& e) {
    return TlsError(std::string("cannot create a TLS context: ") + e.what());
  }
  SSL_CTX* ctx = impl->ssl.native_handle();
  // Mutual TLS is TLS 1.3 only (certified §5), whatever min_version says.
  TlsVersion min_version =
      options.require_client_certificate ? TlsVersion::kTls13 : options.min_version;
  if (SSL_CTX_set_min_proto_version(ctx, ProtocolVersion(min_version)) != 1) {
    return TlsError("cannot set the minimum TLS version");
  }
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Send exactly the configured chain. Without this, OpenSSL rebuilds (and
  // verifies) the server's chain from the trust store on every handshake
  // when no intermediates are configured: a second X509_verify_cert per
  // full handshake, and with mTLS the client CAs would be sent along.
  SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
  // TLS 1.2 only (TLS 1.3 suites are all AEAD with forward secrecy).
  if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1) {
    return TlsError("cannot set the TLS 1.2 cipher list");
  }
  static constexpr unsigned char kSessionContext[] = "kisee";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  if (options.session_resumption) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  } else {
    // Issuing TLS 1.3 tickets (encrypting and serialising the session) costs
    // more CPU than the handshake's signature, and clients that do not
    // resume (certified's) only pay for them; a cache adds locking.
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  }

  KISEE_RETURN_IF_ERROR(UseChainAndKey(ctx, options.certificate_chain_pem, options.private_key_pem,
                                       "server certificate"));

  if (options.require_client_certificate) {
    if (options.client_ca_pem.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "mutual TLS needs at least one client CA certificate");
    }
    STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
    if (names == nullptr) return TlsError("out of memory");
    auto added = AddTrustAnchors(ctx, options.client_ca_pem, "client CA certificates", names);
    if (!added) {
      sk_X509_NAME_pop_free(names, X509_NAME_free);
      return std::unexpected(added.error());
    }
    // Takes ownership of `names`: sent in CertificateRequest so clients
    // holding several identities can pick the right one.
    SSL_CTX_set_client_CA_list(ctx, names);
    if (!options.crl_pem.empty()) {
      KISEE_ASSIGN_OR_RETURN(auto crls, ParseCrls(options.crl_pem));
      X509_STORE* store = SSL_CTX_get_cert_store(ctx);
      for (auto& crl : crls) {
        if (X509_STORE_add_crl(store, crl.get()) != 1) return TlsError("cannot add the CRL");
      }
      X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, VerifyClient);
    SSL_CTX_set_verify_depth(ctx, options.verify_depth);
    if (options.trust_partial_chains) {
      X509_STORE_set_flags(SSL_CTX_get_cert_store(ctx), X509_V_FLAG_PARTIAL_CHAIN);
    }
    impl->mutual = true;
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  ERR_clear_error();
  return std::shared_ptr<const TlsServerContext>(new TlsServerContext(std::move(impl)));
}

TlsClientContext::TlsClientContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsClientContext::~TlsClientContext() = default;

Result<std::shared_ptr<const TlsClientContext>> TlsClientContext::Create(
    const TlsClientOptions& options) {
  ERR_clear_error();
  if (options.trust_anchors_pem.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "no trust anchors for the TLS client");
  }
  if (options.certificate_chain_pem.empty() != options.private_key_pem.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a client certificate needs its private key, and the reverse");
  }
  std::unique_ptr<Impl> impl;
  try {
    impl = std::make_unique<Impl>(ssl::context(ssl::context::tls_client));
  } catch (const std::exception& e) {
    return TlsError(std::string("cannot create a TLS context: ") + e.what());
  }
  SSL_CTX* ctx = impl->ssl.native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, ProtocolVersion(options.min_version)) != 1) {
    return TlsError("cannot set the minimum TLS version");
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);  // send the configured chain, as the server
  if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1) {
    return TlsError("cannot set the TLS 1.2 cipher list");
  }
  KISEE_RETURN_IF_ERROR(AddTrustAnchors(ctx, options.trust_anchors_pem, "trust anchors", nullptr));
  if (!options.certificate_chain_pem.empty()) {
    KISEE_RETURN_IF_ERROR(UseChainAndKey(ctx, options.certificate_chain_pem,
                                         options.private_key_pem, "client certificate"));
  }
  if (options.trust_partial_chains) {
    X509_STORE_set_flags(SSL_CTX_get_cert_store(ctx), X509_V_FLAG_PARTIAL_CHAIN);
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  ERR_clear_error();
  return std::shared_ptr<const TlsClientContext>(new TlsClientContext(std::move(impl)));
}

}  // namespace kisee::net
