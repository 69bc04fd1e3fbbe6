#include "net/test_pki.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace kisee::net::testing {
namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "test PKI: %s failed\n", what);
  ERR_print_errors_fp(stderr);
  std::abort();
}

template <typename T>
T* Check(T* p, const char* what) {
  if (p == nullptr) Die(what);
  return p;
}

void Check(int ok, const char* what) {
  if (ok <= 0) Die(what);
}

EVP_PKEY* NewKey(KeyType type) {
  if (type == KeyType::kEd25519) {
    return Check(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), "ed25519 keygen");
  }
  return Check(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), "P-256 keygen");
}

const EVP_MD* DigestFor(EVP_PKEY* key) {
  // Ed25519 signs the message itself: no separate digest.
  return EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
}

std::string CertPem(X509* certificate) {
  BIO* bio = Check(BIO_new(BIO_s_mem()), "BIO_new");
  Check(PEM_write_bio_X509(bio, certificate), "PEM_write_bio_X509");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return pem;
}

std::string CertDer(X509* certificate) {
  int length = i2d_X509(certificate, nullptr);
  Check(length, "i2d_X509");
  std::string der(static_cast<std::size_t>(length), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(certificate, &out);
  return der;
}

std::string KeyPem(EVP_PKEY* key) {
  BIO* bio = Check(BIO_new(BIO_s_mem()), "BIO_new");
  Check(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr),
        "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return pem;
}

void AddExtension(X509* certificate, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension =
      Check(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()), "X509V3_EXT_conf_nid");
  Check(X509_add_ext(certificate, extension, -1), "X509_add_ext");
  X509_EXTENSION_free(extension);
}

X509* NewCertificate(const std::string& common_name, std::uint64_t serial, EVP_PKEY* key) {
  X509* certificate = Check(X509_new(), "X509_new");
  Check(X509_set_version(certificate, 2), "X509_set_version");
  Check(ASN1_INTEGER_set_uint64(X509_get_serialNumber(certificate), serial), "serial");
  Check(X509_gmtime_adj(X509_getm_notBefore(certificate), -3600) != nullptr, "notBefore");
  Check(X509_gmtime_adj(X509_getm_notAfter(certificate), 7 * 24 * 3600) != nullptr, "notAfter");
  Check(X509_set_pubkey(certificate, key), "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(certificate);
  Check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                   -1, 0),
        "subject");
  return certificate;
}

}  // namespace

struct TestCa::State {
  EVP_PKEY* key = nullptr;
  X509* certificate = nullptr;
};

TestCa::TestCa(const std::string& common_name, KeyType key_type) : state_(new State) {
  state_->key = NewKey(key_type);
  X509* certificate = NewCertificate(common_name, 1, state_->key);
  Check(X509_set_issuer_name(certificate, X509_get_subject_name(certificate)), "issuer");
  AddExtension(certificate, certificate, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  AddExtension(certificate, certificate, NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(certificate, certificate, NID_subject_key_identifier, "hash");
  Check(X509_sign(certificate, state_->key, DigestFor(state_->key)), "X509_sign");
  state_->certificate = certificate;
  self_.certificate_pem = CertPem(certificate);
  self_.key_pem = KeyPem(state_->key);
  self_.der = CertDer(certificate);
}

TestCa::~TestCa() {
  X509_free(state_->certificate);
  EVP_PKEY_free(state_->key);
  delete state_;
}

Issued TestCa::Issue(const std::string& common_name, const std::string& sans, std::uint64_t serial,
                     KeyType key_type) const {
  EVP_PKEY* key = NewKey(key_type);
  X509* certificate = NewCertificate(common_name, serial, key);
  Check(X509_set_issuer_name(certificate, X509_get_subject_name(state_->certificate)), "issuer");
  AddExtension(certificate, state_->certificate, NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(certificate, state_->certificate, NID_key_usage, "critical,digitalSignature");
  AddExtension(certificate, state_->certificate, NID_ext_key_usage, "clientAuth,serverAuth");
  AddExtension(certificate, state_->certificate, NID_subject_key_identifier, "hash");
  AddExtension(certificate, state_->certificate, NID_authority_key_identifier, "keyid:always");
  if (!sans.empty()) AddExtension(certificate, state_->certificate, NID_subject_alt_name, sans);
  Check(X509_sign(certificate, state_->key, DigestFor(state_->key)), "X509_sign");
  Issued issued{CertPem(certificate), KeyPem(key), CertDer(certificate)};
  X509_free(certificate);
  EVP_PKEY_free(key);
  return issued;
}

std::string TestCa::Crl(const std::vector<std::uint64_t>& serials) const {
  X509_CRL* crl = Check(X509_CRL_new(), "X509_CRL_new");
  Check(X509_CRL_set_version(crl, 1), "CRL version");
  Check(X509_CRL_set_issuer_name(crl, X509_get_subject_name(state_->certificate)), "CRL issuer");
  ASN1_TIME* last = Check(X509_gmtime_adj(nullptr, -60), "lastUpdate");
  ASN1_TIME* next = Check(X509_gmtime_adj(nullptr, 24 * 3600), "nextUpdate");
  Check(X509_CRL_set1_lastUpdate(crl, last), "lastUpdate");
  Check(X509_CRL_set1_nextUpdate(crl, next), "nextUpdate");
  for (std::uint64_t serial : serials) {
    X509_REVOKED* revoked = Check(X509_REVOKED_new(), "X509_REVOKED_new");
    ASN1_INTEGER* number = Check(ASN1_INTEGER_new(), "ASN1_INTEGER_new");
    Check(ASN1_INTEGER_set_uint64(number, serial), "revoked serial");
    Check(X509_REVOKED_set_serialNumber(revoked, number), "revoked serial");
    Check(X509_REVOKED_set_revocationDate(revoked, last), "revocation date");
    Check(X509_CRL_add0_revoked(crl, revoked), "X509_CRL_add0_revoked");
    ASN1_INTEGER_free(number);
  }
  Check(X509_CRL_sort(crl), "X509_CRL_sort");
  Check(X509_CRL_sign(crl, state_->key, DigestFor(state_->key)), "X509_CRL_sign");
  BIO* bio = Check(BIO_new(BIO_s_mem()), "BIO_new");
  Check(PEM_write_bio_X509_CRL(bio, crl), "PEM_write_bio_X509_CRL");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  ASN1_TIME_free(last);
  ASN1_TIME_free(next);
  X509_CRL_free(crl);
  return pem;
}

void WriteFile(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) Die("open");
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0) Die("write");
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

std::string TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/kisee-net-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) Die("mkdtemp");
  return pattern;
}

}  // namespace kisee::net::testing
