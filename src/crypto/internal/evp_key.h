// The bridge between kisee keys and OpenSSL's EVP_PKEY, for the libraries
// that build on OpenSSL directly (pki: X.509 certificates, CSRs, CRLs; net:
// TLS contexts). Not part of the public API.
//
// Typical use in pki:
//   X509_set_pubkey(cert, GetEvpPkey(subject_public_key));   // takes its own reference
//   X509_sign(cert, GetEvpPkey(issuer_key), SignatureDigest(issuer_key.type()));
//   KISEE_ASSIGN_OR_RETURN(auto key, PublicKeyFromEvp(X509_get0_pubkey(cert)));
#pragma once

#include <openssl/evp.h>

#include "kisee/core/error.h"
#include "kisee/crypto/key_type.h"
#include "kisee/crypto/keys.h"

namespace kisee::crypto::internal {

// GetEvpPkey returns the key's EVP_PKEY, borrowed: valid while `key` or any
// copy of it lives. For a PrivateKey it holds the private and public parts.
// WARNING: the object is shared by every copy of the key and by other
// threads. Only pass it to functions that read it or take their own
// reference (X509_set_pubkey, X509_sign, EVP_DigestSignInit_ex,
// SSL_CTX_use_PrivateKey); never set parameters on it or free it.
EVP_PKEY* GetEvpPkey(const PublicKey& key);
EVP_PKEY* GetEvpPkey(const PrivateKey& key);

// PublicKeyFromEvp makes a PublicKey from the public part of `pkey`
// (borrowed; the caller keeps ownership). kInvalidArgument when its type is
// not one of KeyType or its point is invalid.
Result<PublicKey> PublicKeyFromEvp(const EVP_PKEY* pkey);

// PrivateKeyFromEvp makes a PrivateKey from the private part of `pkey`
// (borrowed); the public key is recomputed. kInvalidArgument when `pkey`
// holds no private key or has an unsupported type.
Result<PrivateKey> PrivateKeyFromEvp(const EVP_PKEY* pkey);

// SignatureDigest returns the digest to pass with a key of `type` to
// X509_sign, X509_REQ_sign, X509_CRL_sign or EVP_DigestSignInit: SHA-256 for
// every EC curve (certified.md §2), nullptr for Ed25519/Ed448 (EdDSA hashes
// internally). The pointer is static; never free it.
const EVP_MD* SignatureDigest(KeyType type);

}  // namespace kisee::crypto::internal
