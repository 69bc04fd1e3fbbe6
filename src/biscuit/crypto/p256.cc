// ECDSA P-256 with SHA-256 through OpenSSL 3 (EVP only). Public keys travel
// compressed (33 bytes), signatures as DER.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "biscuit/crypto/crypto.h"
#include "kisee/core/random.h"

namespace kisee::biscuit::crypto {
namespace {

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(BIGNUM* p) const { BN_clear_free(p); }
  void operator()(EC_GROUP* p) const { EC_GROUP_free(p); }
  void operator()(EC_POINT* p) const { EC_POINT_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(PKCS8_PRIV_KEY_INFO* p) const { PKCS8_PRIV_KEY_INFO_free(p); }
};
template <typename T>
using UniquePtr = std::unique_ptr<T, Deleter>;

std::string DrainErrors(std::string_view what) {
  std::string out(what);
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    out += ": ";
    out += buf;
  }
  return out;
}

const EC_GROUP* Group() {
  static EC_GROUP* group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  return group;
}

// PublicPoint decodes a SEC1 point (compressed or not) on P-256.
UniquePtr<EC_POINT> PublicPoint(ByteView key) {
  UniquePtr<EC_POINT> point(EC_POINT_new(Group()));
  if (!point || EC_POINT_oct2point(Group(), point.get(), key.data(), key.size(), nullptr) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return point;
}

Result<UniquePtr<EVP_PKEY>> PkeyFromParts(ByteView scalar, ByteView public_octets) {
  UniquePtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  UniquePtr<BIGNUM> priv;
  if (!scalar.empty()) {
    priv.reset(BN_bin2bn(scalar.data(), static_cast<int>(scalar.size()), nullptr));
  }
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, public_octets.data(),
                                       public_octets.size()) != 1 ||
      (priv && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) != 1)) {
    return MakeError(ErrorKind::kInvalidKey, DrainErrors("P-256 key parameters"));
  }
  UniquePtr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld.get()));
  UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) != 1) {
    return MakeError(ErrorKind::kInvalidKey, DrainErrors("P-256 key"));
  }
  return UniquePtr<EVP_PKEY>(raw);
}

Result<Bytes> CompressedPublic(ByteView scalar) {
  if (scalar.size() != kP256PrivateKeySize) {
    return MakeError(ErrorKind::kInvalidKey, "P-256 private keys are 32 bytes");
  }
  UniquePtr<BIGNUM> priv(BN_bin2bn(scalar.data(), static_cast<int>(scalar.size()), nullptr));
  UniquePtr<EC_POINT> point(EC_POINT_new(Group()));
  if (!priv || !point || BN_is_zero(priv.get()) ||
      BN_cmp(priv.get(), EC_GROUP_get0_order(Group())) >= 0 ||
      EC_POINT_mul(Group(), point.get(), priv.get(), nullptr, nullptr, nullptr) != 1) {
    ERR_clear_error();
    return MakeError(ErrorKind::kInvalidKey, "invalid P-256 private key");
  }
  Bytes out(kP256PublicKeySize);
  if (EC_POINT_point2oct(Group(), point.get(), POINT_CONVERSION_COMPRESSED, out.data(), out.size(),
                         nullptr) != out.size()) {
    return MakeError(ErrorKind::kInvalidKey, DrainErrors("P-256 public key"));
  }
  return out;
}

}  // namespace

SecretBytes P256Generate() {
  while (true) {
    SecretBytes scalar(kP256PrivateKeySize);
    FillRandom(scalar.mutable_view());
    if (CompressedPublic(scalar.view())) {
      return scalar;
    }
  }
}

Result<Bytes> P256PublicFromPrivate(ByteView scalar) { return CompressedPublic(scalar); }

bool P256ValidPublicKey(ByteView key) {
  return key.size() == kP256PublicKeySize && (key[0] == 2 || key[0] == 3) &&
         PublicPoint(key) != nullptr;
}

Result<Bytes> P256Sign(ByteView scalar, ByteView message) {
  auto pub = CompressedPublic(scalar);
  if (!pub) return std::unexpected<Error>(pub.error());
  auto pkey = PkeyFromParts(scalar, *pub);
  if (!pkey) return std::unexpected<Error>(pkey.error());
  UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey->get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()) != 1) {
    return MakeError(ErrorKind::kInvalidKey, DrainErrors("P-256 sign"));
  }
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1) {
    return MakeError(ErrorKind::kInvalidKey, DrainErrors("P-256 sign"));
  }
  sig.resize(len);
  return sig;
}

Status P256Verify(ByteView public_key, ByteView message, ByteView signature) {
  if (!P256ValidPublicKey(public_key)) {
    return MakeError(ErrorKind::kInvalidKey, "invalid P-256 public key");
  }
  // Malformed DER is a deserialization error, not a failed verification.
  const unsigned char* p = signature.data();
  ECDSA_SIG* parsed = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(signature.size()));
  if (parsed == nullptr || p != signature.data() + signature.size()) {
    ECDSA_SIG_free(parsed);
    ERR_clear_error();
    return MakeError(ErrorKind::kSignatureDeserialization,
                     "block signature deserialization error: invalid DER ECDSA signature");
  }
  ECDSA_SIG_free(parsed);
  auto pkey = PkeyFromParts({}, public_key);
  if (!pkey) return std::unexpected<Error>(pkey.error());
  UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey->get()) != 1) {
    return MakeError(ErrorKind::kInvalidKey, DrainErrors("P-256 verify"));
  }
  int ok = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                            message.size());
  ERR_clear_error();
  if (ok != 1) {
    return MakeError(ErrorKind::kInvalidSignature, "signature error: invalid P-256 signature");
  }
  return {};
}

Result<Bytes> PublicKeyToDer(int algorithm, ByteView key) {
  UniquePtr<EVP_PKEY> pkey;
  if (algorithm == 0) {
    pkey.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size()));
  } else {
    auto made = PkeyFromParts({}, key);
    if (!made) return std::unexpected<Error>(made.error());
    pkey = std::move(*made);
    EVP_PKEY_set_utf8_string_param(pkey.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                   "compressed");
  }
  if (!pkey) return MakeError(ErrorKind::kInvalidKey, DrainErrors("public key"));
  int len = i2d_PUBKEY(pkey.get(), nullptr);
  if (len <= 0) return MakeError(ErrorKind::kInvalidKey, DrainErrors("public key DER"));
  Bytes out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  i2d_PUBKEY(pkey.get(), &p);
  return out;
}

Result<std::pair<int, Bytes>> PublicKeyFromDer(ByteView der) {
  const unsigned char* p = der.data();
  UniquePtr<EVP_PKEY> pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!pkey) {
    return MakeError(ErrorKind::kInvalidKey, DrainErrors("not a SubjectPublicKeyInfo"));
  }
  if (EVP_PKEY_is_a(pkey.get(), "ED25519")) {
    Bytes out(kEd25519KeySize);
    std::size_t len = out.size();
    if (EVP_PKEY_get_raw_public_key(pkey.get(), out.data(), &len) != 1) {
      return MakeError(ErrorKind::kInvalidKey, DrainErrors("Ed25519 public key"));
    }
    return std::make_pair(0, std::move(out));
  }
  if (EVP_PKEY_is_a(pkey.get(), "EC")) {
    Bytes raw(133);
    std::size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(pkey.get(), OSSL_PKEY_PARAM_PUB_KEY, raw.data(), raw.size(),
                                        &len) != 1) {
      return MakeError(ErrorKind::kInvalidKey, DrainErrors("EC public key"));
    }
    raw.resize(len);
    UniquePtr<EC_POINT> point = PublicPoint(raw);
    if (!point) return MakeError(ErrorKind::kInvalidKey, "not a P-256 public key");
    Bytes out(kP256PublicKeySize);
    if (EC_POINT_point2oct(Group(), point.get(), POINT_CONVERSION_COMPRESSED, out.data(),
                           out.size(), nullptr) != out.size()) {
      return MakeError(ErrorKind::kInvalidKey, DrainErrors("EC public key"));
    }
    return std::make_pair(1, std::move(out));
  }
  return MakeError(ErrorKind::kInvalidKey, "unsupported public key algorithm");
}

Result<SecretBytes> PrivateKeyToDer(int algorithm, ByteView key) {
  UniquePtr<EVP_PKEY> pkey;
  if (algorithm == 0) {
    pkey.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size()));
  } else {
    auto pub = CompressedPublic(key);
    if (!pub) return std::unexpected<Error>(pub.error());
    auto made = PkeyFromParts(key, *pub);
    if (!made) return std::unexpected<Error>(made.error());
    pkey = std::move(*made);
  }
  if (!pkey) return MakeError(ErrorKind::kInvalidKey, DrainErrors("private key"));
  UniquePtr<PKCS8_PRIV_KEY_INFO> info(EVP_PKEY2PKCS8(pkey.get()));
  if (!info) return MakeError(ErrorKind::kInvalidKey, DrainErrors("PKCS#8"));
  int len = i2d_PKCS8_PRIV_KEY_INFO(info.get(), nullptr);
  if (len <= 0) return MakeError(ErrorKind::kInvalidKey, DrainErrors("PKCS#8 DER"));
  SecretBytes out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  i2d_PKCS8_PRIV_KEY_INFO(info.get(), &p);
  return out;
}

Result<std::pair<int, SecretBytes>> PrivateKeyFromDer(ByteView der) {
  const unsigned char* p = der.data();
  UniquePtr<PKCS8_PRIV_KEY_INFO> info(
      d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size())));
  if (!info) return MakeError(ErrorKind::kInvalidKey, DrainErrors("not a PKCS#8 private key"));
  UniquePtr<EVP_PKEY> pkey(EVP_PKCS82PKEY(info.get()));
  if (!pkey) return MakeError(ErrorKind::kInvalidKey, DrainErrors("PKCS#8 key"));
  if (EVP_PKEY_is_a(pkey.get(), "ED25519")) {
    SecretBytes out(kEd25519KeySize);
    std::size_t len = out.size();
    if (EVP_PKEY_get_raw_private_key(pkey.get(), out.data(), &len) != 1) {
      return MakeError(ErrorKind::kInvalidKey, DrainErrors("Ed25519 private key"));
    }
    return std::make_pair(0, std::move(out));
  }
  if (EVP_PKEY_is_a(pkey.get(), "EC")) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_PRIV_KEY, &raw) != 1) {
      return MakeError(ErrorKind::kInvalidKey, DrainErrors("EC private key"));
    }
    UniquePtr<BIGNUM> bn(raw);
    SecretBytes out(kP256PrivateKeySize);
    if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(out.size())) < 0) {
      return MakeError(ErrorKind::kInvalidKey, "EC private key too large");
    }
    if (!CompressedPublic(out.view())) {
      return MakeError(ErrorKind::kInvalidKey, "not a P-256 private key");
    }
    return std::make_pair(1, std::move(out));
  }
  return MakeError(ErrorKind::kInvalidKey, "unsupported private key algorithm");
}

std::string ToPem(ByteView der, std::string_view label) {
  std::string b64 = Base64Encode(der, {Base64Alphabet::kStandard, Base64Padding::kRequired});
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) {
    out += b64.substr(i, 64) + "\n";
  }
  out += "-----END " + std::string(label) + "-----\n";
  return out;
}

Result<SecretBytes> FromPem(std::string_view pem, std::string_view label) {
  std::string begin = "-----BEGIN " + std::string(label) + "-----";
  std::string end = "-----END " + std::string(label) + "-----";
  auto b = pem.find(begin);
  auto e = pem.find(end);
  if (b == std::string_view::npos || e == std::string_view::npos || e < b) {
    return MakeError(ErrorKind::kInvalidKey, "not a PEM " + std::string(label));
  }
  std::string body;
  for (char c : pem.substr(b + begin.size(), e - b - begin.size())) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') body += c;
  }
  auto der = Base64Decode(body, {Base64Alphabet::kStandard, Base64Padding::kRequired});
  if (!der) return MakeError(ErrorKind::kInvalidKey, "invalid PEM base64");
  SecretBytes out{ByteView(*der)};
  SecureWipe(*der);
  return out;
}

}  // namespace kisee::biscuit::crypto
