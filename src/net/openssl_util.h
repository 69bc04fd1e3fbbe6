// OpenSSL ownership and error helpers for the net library: one UniquePtr
// alias with registered deleters (BoringSSL's pattern), and the error queue
// drained into one line.
#pragma once

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

namespace kisee::net::internal {

template <typename T>
struct OpenSslDeleter;

#define KISEE_NET_MAKE_DELETER(type, free_fn)      \
  template <>                                      \
  struct OpenSslDeleter<type> {                    \
    void operator()(type* p) const { free_fn(p); } \
  }

KISEE_NET_MAKE_DELETER(BIO, BIO_free);
KISEE_NET_MAKE_DELETER(X509, X509_free);
KISEE_NET_MAKE_DELETER(X509_CRL, X509_CRL_free);
KISEE_NET_MAKE_DELETER(EVP_PKEY, EVP_PKEY_free);

#undef KISEE_NET_MAKE_DELETER

// UniquePtr owns an OpenSSL object; a raw pointer is always borrowed.
template <typename T>
using UniquePtr = std::unique_ptr<T, OpenSslDeleter<T>>;

// DrainOpenSslErrors empties this thread's OpenSSL error queue and returns
// the reasons, "; "-separated ("" if the queue was empty).
std::string DrainOpenSslErrors();

// MemoryBio returns a read-only BIO over `data` (borrowed: it must outlive
// the BIO).
UniquePtr<BIO> MemoryBio(std::string_view data);

}  // namespace kisee::net::internal
