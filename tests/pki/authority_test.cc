#include "kisee/pki/authority.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/internal/openssl.h"
#include "kisee/crypto/key_type.h"
#include "kisee/pki/scope.h"
#include "kisee/pki/verify.h"

namespace kisee::pki {
namespace {

using crypto::KeyType;
using crypto::internal::UniquePtr;

crypto::PrivateKey NewKey(KeyType type = KeyType::kEd25519) {
  auto key = crypto::PrivateKey::Generate(type);
  EXPECT_TRUE(key);
  return *key;
}

Name OrgSigner() {
  return WithPseudonym(
      OrgName("Fictitious Organization", "Fraud Detection", "", "", "", "", "", ""),
      kSigningPseudonym);
}

CertificateAuthority NewRoot(KeyType type = KeyType::kEd25519, int path_length = 0) {
  auto ca = CertificateAuthority::CreateRoot(OrgSigner(), NewKey(type), {}, path_length);
  EXPECT_TRUE(ca) << (ca ? "" : ca.error().message());
  return *ca;
}

// Extensions lists a certificate's extensions as "<short name>[!]" (! =
// critical), in order, as OpenSSL sees them.
std::vector<std::string> Extensions(const Certificate& certificate) {
  const unsigned char* cursor = certificate.der().data();
  UniquePtr<X509> x509(d2i_X509(nullptr, &cursor, static_cast<long>(certificate.der().size())));
  std::vector<std::string> out;
  for (int i = 0; i < X509_get_ext_count(x509.get()); ++i) {
    X509_EXTENSION* extension = X509_get_ext(x509.get(), i);
    std::string name = OBJ_nid2sn(OBJ_obj2nid(X509_EXTENSION_get_object(extension)));
    if (X509_EXTENSION_get_critical(extension)) name += "!";
    out.push_back(name);
  }
  return out;
}

std::string KeyUsageAndBasic(const Certificate& certificate) {
  const unsigned char* cursor = certificate.der().data();
  UniquePtr<X509> x509(d2i_X509(nullptr, &cursor, static_cast<long>(certificate.der().size())));
  std::string out = "ku=" + std::to_string(X509_get_key_usage(x509.get()));
  out += " xku=" + std::to_string(X509_get_extended_key_usage(x509.get()));
  out += " ca=" + std::to_string(X509_check_ca(x509.get()));
  return out;
}

class EveryKeyType : public ::testing::TestWithParam<KeyType> {};

TEST_P(EveryKeyType, IssuesRootAndIdentityThatVerify) {
  CertificateAuthority ca = NewRoot(GetParam());
  const Certificate& root = ca.certificate();
  EXPECT_TRUE(root.is_ca());
  EXPECT_EQ(root.path_length(), 0);
  EXPECT_TRUE(root.self_signed());
  EXPECT_EQ(Extensions(root),
            (std::vector<std::string>{"subjectKeyIdentifier", "basicConstraints!", "keyUsage!"}));
  auto names = MakeAltNames({"me@home.org"}, {"127.0.0.1"}, {});
  ASSERT_TRUE(names);
  crypto::PrivateKey leaf_key = NewKey(GetParam());
  auto leaf =
      ca.Issue({PersonName("David Rogers", "", "", "", "", "", ""), *names, leaf_key.public_key()});
  ASSERT_TRUE(leaf) << leaf.error().message();
  EXPECT_FALSE(leaf->is_ca());
  EXPECT_EQ(
      Extensions(*leaf),
      (std::vector<std::string>{"subjectKeyIdentifier", "basicConstraints!", "keyUsage!",
                                "extendedKeyUsage", "authorityKeyIdentifier", "subjectAltName"}));
  EXPECT_EQ(leaf->alt_names(), *names);
  EXPECT_EQ(leaf->serial_hex().size(), 40u);
  EXPECT_LT(leaf->serial_hex()[0], '8');  // at most 159 bits
  EXPECT_TRUE(leaf->VerifyIssuedBy(root));
  EXPECT_EQ(leaf->issuer(), root.subject());
  auto key = leaf->public_key();
  ASSERT_TRUE(key);
  EXPECT_EQ(*key, leaf_key.public_key());
  std::vector<Certificate> anchors = {root};
  EXPECT_TRUE(VerifyChain(*leaf, {}, anchors, {}, std::chrono::system_clock::now(), true));
  auto reparsed = Certificate::Parse(leaf->ToPem());
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(*reparsed, *leaf);
  auto from_b64 = Certificate::Parse(leaf->ToB64Der() + "\n");
  ASSERT_TRUE(from_b64);
  EXPECT_EQ(*from_b64, *leaf);
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, EveryKeyType, ::testing::ValuesIn(crypto::kAllKeyTypes),
                         [](const auto& info) {
                           return std::string(crypto::KeyTypeName(info.param));
                         });

TEST(Authority, LeafAndCaUsagesAreExactlyTheSpecified) {
  CertificateAuthority ca = NewRoot();
  auto leaf = ca.Issue({PersonName("A", "", "", "", "", "", ""), {}, NewKey().public_key()});
  ASSERT_TRUE(leaf);
  EXPECT_EQ(KeyUsageAndBasic(ca.certificate()),
            "ku=" + std::to_string(KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN) +
                " xku=" + std::to_string(UINT32_MAX) + " ca=1");
  EXPECT_EQ(KeyUsageAndBasic(*leaf),
            "ku=" + std::to_string(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT) + " xku=" +
                std::to_string(XKU_SSL_CLIENT | XKU_SSL_SERVER | XKU_CODE_SIGN) + " ca=0");
}

TEST(Authority, SanIsCriticalOnlyWithoutSubject) {
  CertificateAuthority ca = NewRoot();
  auto names = MakeAltNames({}, {"example.org"}, {});
  ASSERT_TRUE(names);
  auto leaf = ca.Issue({Name(), *names, NewKey().public_key()});
  ASSERT_TRUE(leaf) << leaf.error().message();
  EXPECT_EQ(Extensions(*leaf).back(), "subjectAltName!");
  EXPECT_FALSE(ca.Issue({Name(), {}, NewKey().public_key()}));
}

TEST(Authority, SubCaPathLengthIsClampedAndExhausted) {
  CertificateAuthority root = NewRoot(KeyType::kEd25519, 2);
  crypto::PrivateKey sub_key = NewKey();
  CertificateSubject sub{
      WithPseudonym(PersonName("Sub", "", "", "", "", "", ""), kSigningPseudonym),
      {},
      sub_key.public_key(),
      true,
      5};
  auto sub_certificate = root.Issue(sub);
  ASSERT_TRUE(sub_certificate) << sub_certificate.error().message();
  EXPECT_EQ(sub_certificate->path_length(), 1);

  CertificateAuthority leaf_only = NewRoot();
  auto refused = leaf_only.Issue(sub);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(), "Unable to sign for a CA (insufficient path length).");
}

TEST(Authority, ValidityIsNowPlusTheLifetimeWhateverTheIssuers) {
  FakeClock clock(std::chrono::system_clock::from_time_t(1'700'000'000));
  IssueOptions short_lived{std::chrono::hours(24), &clock};
  auto ca = CertificateAuthority::CreateRoot(OrgSigner(), NewKey(), short_lived);
  ASSERT_TRUE(ca) << ca.error().message();
  EXPECT_EQ(ca->certificate().not_before(), clock.Now());
  EXPECT_EQ(ca->certificate().not_after(), clock.Now() + std::chrono::hours(24));
  clock.Advance(std::chrono::hours(1));
  auto leaf = ca->Issue({PersonName("A", "", "", "", "", "", ""), {}, NewKey().public_key()},
                        IssueOptions{kDefaultLifetime, &clock});
  ASSERT_TRUE(leaf) << leaf.error().message();
  EXPECT_EQ(leaf->not_before(), clock.Now());
  EXPECT_EQ(leaf->not_after(), clock.Now() + std::chrono::hours(24 * 365));
}

TEST(Authority, RefusesSubjectEqualToIssuer) {
  CertificateAuthority ca = NewRoot();
  EXPECT_FALSE(ca.Issue({OrgSigner(), {}, NewKey().public_key()}));
}

TEST(Authority, CreateChecksKeyAndCaFlag) {
  CertificateAuthority ca = NewRoot();
  EXPECT_TRUE(CertificateAuthority::Create(ca.certificate(), ca.key()));
  EXPECT_FALSE(CertificateAuthority::Create(ca.certificate(), NewKey()));
  auto leaf = ca.Issue({PersonName("A", "", "", "", "", "", ""), {}, NewKey().public_key()});
  ASSERT_TRUE(leaf);
  EXPECT_FALSE(CertificateAuthority::Create(*leaf, ca.key()));
}

TEST(Scopes, AreWrittenAsPoliciesAndReadBackFromAVerifiedChain) {
  CertificateAuthority ca = NewRoot();
  CertificateSubject subject{
      PersonName("Admin", "", "", "", "", "", ""), {}, NewKey().public_key()};
  subject.scopes = {"admin", "read"};
  auto leaf = ca.Issue(subject);
  ASSERT_TRUE(leaf) << leaf.error().message();
  EXPECT_EQ(Extensions(*leaf).back(), "certificatePolicies");
  std::vector<Certificate> anchors = {ca.certificate()};
  auto chain = VerifyChain(*leaf, {}, anchors, {}, std::chrono::system_clock::now(), true);
  ASSERT_TRUE(chain) << chain.error().message();
  EXPECT_EQ(chain->scopes(), (std::vector<std::string>{"admin", "read"}));
  EXPECT_EQ(chain->certificates().size(), 2u);

  subject.scopes = {""};
  EXPECT_FALSE(ca.Issue(subject));
}

TEST(Verify, RefusesUnknownIssuerExpiryAndRevocation) {
  CertificateAuthority ca = NewRoot();
  auto other_ca = CertificateAuthority::CreateRoot(
      WithPseudonym(PersonName("Other", "", "", "", "", "", ""), kSigningPseudonym), NewKey());
  ASSERT_TRUE(other_ca);
  CertificateAuthority other = *other_ca;
  auto leaf = ca.Issue({PersonName("A", "", "", "", "", "", ""), {}, NewKey().public_key()});
  ASSERT_TRUE(leaf);
  auto now = std::chrono::system_clock::now();
  std::vector<Certificate> wrong = {other.certificate()};
  EXPECT_FALSE(VerifyChain(*leaf, {}, wrong, {}, now));
  std::vector<Certificate> right = {ca.certificate()};
  EXPECT_FALSE(VerifyChain(*leaf, {}, right, {}, now + std::chrono::hours(24 * 400)));

  auto crl = ca.SignCrl({{leaf->serial_hex(), now}}, 1, std::chrono::hours(24));
  ASSERT_TRUE(crl) << crl.error().message();
  EXPECT_TRUE(crl->IsRevoked(leaf->serial_hex()));
  EXPECT_TRUE(crl->VerifySignature(ca.certificate()));
  EXPECT_FALSE(crl->VerifySignature(other.certificate()));
  std::vector<RevocationList> crls = {*crl};
  auto refused = VerifyChain(*leaf, {}, right, crls, now);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("revoked"), std::string::npos);

  // A CA without a CRL still verifies its clients when another CA has one.
  auto other_crl = other.SignCrl({}, 1, std::chrono::hours(24));
  ASSERT_TRUE(other_crl);
  std::vector<RevocationList> unrelated = {*other_crl};
  EXPECT_TRUE(VerifyChain(*leaf, {}, right, unrelated, now));
}

TEST(Crl, RoundTripsThroughPem) {
  CertificateAuthority ca = NewRoot(KeyType::kSecp256r1);
  auto now = std::chrono::system_clock::now();
  auto crl = ca.SignCrl({{"0a", now}, {"00ff", now}}, 7, std::chrono::hours(48));
  ASSERT_TRUE(crl);
  auto back = RevocationList::FromPem(crl->ToPem());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->number(), 7u);
  EXPECT_EQ(back->entries().size(), 2u);
  EXPECT_TRUE(back->IsRevoked("FF"));
  EXPECT_TRUE(back->IsRevoked("000000000a"));
  EXPECT_FALSE(back->IsRevoked("0b"));
  EXPECT_EQ(back->issuer(), ca.certificate().subject());
}

TEST(Request, CarriesSubjectSanAndKeyAndChecksItsSignature) {
  crypto::PrivateKey key = NewKey(KeyType::kSecp384r1);
  auto names = MakeAltNames({"a@b.org"}, {}, {"urn:x"});
  ASSERT_TRUE(names);
  auto request = CertificateRequest::Create(key, PersonName("R", "r", "", "", "", "", ""), *names);
  ASSERT_TRUE(request) << request.error().message();
  auto parsed = CertificateRequest::FromPem(request->ToPem());
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->subject().ToRfc4514(), "UID=r,CN=R");
  EXPECT_EQ(parsed->alt_names(), *names);
  EXPECT_EQ(parsed->public_key(), key.public_key());
  EXPECT_FALSE(parsed->is_ca());

  Bytes tampered = request->der();
  tampered[tampered.size() - 5] ^= 1;  // inside the signature
  auto bad = CertificateRequest::FromDer(tampered);
  ASSERT_FALSE(bad);
}

TEST(Certificate, B64DerValuesRefuseWhitespaceButFilesMayEndWithANewline) {
  CertificateAuthority ca = NewRoot();
  std::string b64 = ca.certificate().ToB64Der();
  EXPECT_TRUE(Certificate::FromB64Der(b64));
  EXPECT_FALSE(Certificate::FromB64Der(b64 + "\n"));
  EXPECT_FALSE(Certificate::FromB64Der(" " + b64));
  EXPECT_FALSE(Certificate::FromB64Der(b64.substr(0, 40) + "\n" + b64.substr(40)));
  EXPECT_TRUE(Certificate::Parse(b64 + "\n"));  // the content of a file
}

TEST(Certificate, RejectsGarbage) {
  EXPECT_FALSE(Certificate::Parse("not a certificate"));
  EXPECT_FALSE(Certificate::Parse("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"));
  EXPECT_FALSE(Certificate::FromDer(Bytes{0x30, 0x03, 0x02, 0x01}));
}

}  // namespace
}  // namespace kisee::pki
