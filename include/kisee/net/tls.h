// TLS contexts for the server (HTTPS and mutual TLS) and the client. A
// context parses its keys, certificates and CRLs once; handshakes reuse
// them. Contexts are immutable and shared: to change trust material (SIGHUP
// in certified), build a new one and hand it over.
#pragma once

#include <memory>
#include <string>

#include "kisee/core/error.h"
#include "kisee/core/secret.h"

namespace kisee::net {

// TlsVersion is a minimum protocol version.
enum class TlsVersion {
  kTls12,
  kTls13,
};

// TlsServerOptions configures a TlsServerContext. Move-only (holds a key).
struct TlsServerOptions {
  // certificate_chain_pem: the server certificate, then any intermediates.
  std::string certificate_chain_pem;
  // private_key_pem: the key of the server certificate (PKCS#8 or the
  // traditional PEM forms; Ed25519, EC or RSA).
  SecretBytes private_key_pem;
  TlsVersion min_version = TlsVersion::kTls12;

  // Mutual TLS. When require_client_certificate is set, a client must
  // present a certificate that verifies against client_ca_pem (one or more
  // CA certificates, PEM) and, if crl_pem is given, is not revoked by one of
  // its CRLs (PEM, one or more). Clients of a CA without a CRL are accepted
  // on the chain alone. Mutual TLS is always TLS 1.3 only.
  bool require_client_certificate = false;
  std::string client_ca_pem;
  std::string crl_pem;
  int verify_depth = 4;
  // trust_partial_chains: every client CA certificate is a trust anchor,
  // self-signed or not (OpenSSL's X509_V_FLAG_PARTIAL_CHAIN, which the
  // original certified sets): a chain may end at any of them.
  bool trust_partial_chains = false;

  // session_resumption: off by default. Off, the server sends no session
  // tickets and keeps no session cache, which makes full handshakes cheaper
  // (no ticket encryption, no cache locking); mTLS clients of certified do
  // not resume anyway.
  bool session_resumption = false;
};

// TlsServerContext is a ready server-side TLS configuration (an SSL_CTX
// inside). No renegotiation, no compression. Immutable; thread-safe.
class TlsServerContext {
 public:
  // Create parses and checks everything in `options` (the key must match the
  // certificate; mTLS needs at least one CA). Errors: kInvalidArgument with a
  // one-line message naming the bad item (never key material).
  static Result<std::shared_ptr<const TlsServerContext>> Create(const TlsServerOptions& options);

  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  // requires_client_certificate tells whether this context does mTLS.
  bool requires_client_certificate() const;

  // Impl and impl() are for the net library's own use (the SSL_CTX inside).
  struct Impl;
  Impl& impl() const { return *impl_; }

 private:
  explicit TlsServerContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// TlsClientOptions configures a TlsClientContext. Move-only (holds a key).
struct TlsClientOptions {
  // trust_anchors_pem: the CA certificates (PEM, one or more) that server
  // certificates must chain to. Required: there is no default trust store.
  std::string trust_anchors_pem;
  // certificate_chain_pem / private_key_pem: the client certificate (then
  // intermediates) and its key, for mTLS. Both empty: no client certificate.
  std::string certificate_chain_pem;
  SecretBytes private_key_pem;
  TlsVersion min_version = TlsVersion::kTls13;
  // trust_partial_chains: every trust anchor may end a chain, self-signed or
  // not (X509_V_FLAG_PARTIAL_CHAIN), e.g. a pinned intermediate CA.
  bool trust_partial_chains = false;
};

// TlsClientContext is a ready client-side TLS configuration. Every
// connection verifies the server's chain and its name (DNS name or IP
// address of the URL) and sends SNI for DNS names. Immutable; thread-safe.
class TlsClientContext {
 public:
  // Create parses and checks `options`. Errors: kInvalidArgument with a
  // one-line message.
  static Result<std::shared_ptr<const TlsClientContext>> Create(const TlsClientOptions& options);

  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  // Impl and impl() are for the net library's own use (the SSL_CTX inside).
  struct Impl;
  Impl& impl() const { return *impl_; }

 private:
  explicit TlsClientContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kisee::net
