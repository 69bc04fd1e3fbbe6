#include "kisee/crypto/keys.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <string>
#include <vector>

#include "crypto/internal/evp_key.h"
#include "crypto/internal/openssl.h"
#include "crypto/test_util.h"
#include "kisee/crypto/digest.h"

namespace kisee::crypto {
namespace {

using internal::UniquePtr;
using testing::B64u;
using testing::ErrorCodeOf;
using testing::Hex;

// A secp256k1 key as `openssl ecparam -name secp256k1 -genkey` writes it,
// the form the original kisee's settings files carry, with its public key.
constexpr std::string_view kSecp256k1Sec1Pem = R"(-----BEGIN EC PARAMETERS-----
BgUrgQQACg==
-----END EC PARAMETERS-----
-----BEGIN EC PRIVATE KEY-----
MHQCAQEEIJ9gXt3vFREhhW6urggxiR750qnfVDWnDMCdgu7AAYfNoAcGBSuBBAAK
oUQDQgAEficXSFhmhj9+2zTl7jfGFhiMZ/vG3/wmRm8oMpxQ2hgce/QAxkxizqzz
0p3oqGQ6XRON2wTA8hruNwlUXua06A==
-----END EC PRIVATE KEY-----
)";
constexpr std::string_view kSecp256k1PublicPem = R"(-----BEGIN PUBLIC KEY-----
MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEficXSFhmhj9+2zTl7jfGFhiMZ/vG3/wm
Rm8oMpxQ2hgce/QAxkxizqzz0p3oqGQ6XRON2wTA8hruNwlUXua06A==
-----END PUBLIC KEY-----
)";
constexpr std::string_view kSecp256k1Scalar =
    "9f605eddef151121856eaeae0831891ef9d2a9df5435a70cc09d82eec00187cd";

// OpenSslPem writes `pkey` with OpenSSL's own PEM writers, to check that we
// read what OpenSSL writes and the other way round.
enum class OpenSslFormat { kPkcs8, kTraditional, kPublic };
std::string OpenSslPem(EVP_PKEY* pkey, OpenSslFormat format) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  int ok = 0;
  switch (format) {
    case OpenSslFormat::kPkcs8:
      ok = PEM_write_bio_PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr);
      break;
    case OpenSslFormat::kTraditional:
      ok = PEM_write_bio_PrivateKey_traditional(bio.get(), pkey, nullptr, nullptr, 0, nullptr,
                                                nullptr);
      break;
    case OpenSslFormat::kPublic:
      ok = PEM_write_bio_PUBKEY(bio.get(), pkey);
      break;
  }
  EXPECT_EQ(ok, 1);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

UniquePtr<EVP_PKEY> OpenSslKeygen(const char* type, const char* curve = nullptr) {
  EVP_PKEY* pkey = curve == nullptr ? EVP_PKEY_Q_keygen(nullptr, nullptr, type)
                                    : EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve);
  EXPECT_NE(pkey, nullptr);
  return UniquePtr<EVP_PKEY>(pkey);
}

// --- KeyType -----------------------------------------------------------------

TEST(KeyType, NamesRoundTrip) {
  for (KeyType type : kAllKeyTypes) {
    auto parsed = ParseKeyType(KeyTypeName(type));
    ASSERT_TRUE(parsed.has_value()) << KeyTypeName(type);
    EXPECT_EQ(*parsed, type);
  }
  EXPECT_EQ(KeyTypeName(KeyType::kSecp256r1), "secp256r1");
  EXPECT_EQ(KeyTypeName(KeyType::kSecp256k1), "secp256k1");
}

TEST(KeyType, ParseRefusesOtherNames) {
  for (std::string_view name : {"", "Ed25519", "rsa", "P-256", "prime256v1", "secp256r1 "}) {
    EXPECT_EQ(ErrorCodeOf(ParseKeyType(name)), ErrorCode::kInvalidArgument) << name;
  }
}

// --- Every key type, every encoding ---------------------------------------------

class KeyRoundTrip : public ::testing::TestWithParam<KeyType> {
 protected:
  void SetUp() override {
    auto key = PrivateKey::Generate(GetParam());
    ASSERT_TRUE(key.has_value()) << key.error().message();
    key_ = std::make_unique<PrivateKey>(*key);
  }
  const PrivateKey& key() const { return *key_; }

 private:
  std::unique_ptr<PrivateKey> key_;
};

TEST_P(KeyRoundTrip, GeneratedKeyHasTheRequestedType) {
  EXPECT_EQ(key().type(), GetParam());
  EXPECT_EQ(key().public_key().type(), GetParam());
  EXPECT_EQ(key().ToRaw().size(), FieldSize(GetParam()));
}

TEST_P(KeyRoundTrip, GenerateGivesDistinctKeys) {
  auto other = PrivateKey::Generate(GetParam());
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(other->public_key() == key().public_key());
}

TEST_P(KeyRoundTrip, Pkcs8Pem) {
  auto pem = key().ToPem(PrivateKeyEncoding::kPkcs8);
  ASSERT_TRUE(pem.has_value()) << pem.error().message();
  EXPECT_TRUE(pem->chars().starts_with("-----BEGIN PRIVATE KEY-----\n"));
  EXPECT_TRUE(pem->chars().ends_with("-----END PRIVATE KEY-----\n"));
  auto back = PrivateKey::FromPem(pem->chars());
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(back->type(), GetParam());
  EXPECT_TRUE(ConstantTimeEquals(back->ToRaw().view(), key().ToRaw().view()));
  EXPECT_TRUE(back->public_key() == key().public_key());
}

TEST_P(KeyRoundTrip, Pkcs8Der) {
  auto der = key().ToDer(PrivateKeyEncoding::kPkcs8);
  ASSERT_TRUE(der.has_value()) << der.error().message();
  auto back = PrivateKey::FromDer(der->view());
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_TRUE(back->public_key() == key().public_key());
  EXPECT_TRUE(ConstantTimeEquals(back->ToRaw().view(), key().ToRaw().view()));
}

TEST_P(KeyRoundTrip, Sec1PemAndDerForEcKeysOnly) {
  auto pem = key().ToPem(PrivateKeyEncoding::kSec1);
  auto der = key().ToDer(PrivateKeyEncoding::kSec1);
  if (!IsEcdsa(GetParam())) {
    EXPECT_EQ(ErrorCodeOf(pem), ErrorCode::kInvalidArgument);
    EXPECT_EQ(ErrorCodeOf(der), ErrorCode::kInvalidArgument);
    return;
  }
  ASSERT_TRUE(pem.has_value()) << pem.error().message();
  ASSERT_TRUE(der.has_value()) << der.error().message();
  EXPECT_TRUE(pem->chars().starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
  // SEC1 ECPrivateKey: SEQUENCE { INTEGER 1, OCTET STRING scalar, ... }.
  // PKCS#8 would have INTEGER 0 and an AlgorithmIdentifier instead.
  const ByteView bytes = der->view();
  ASSERT_GT(bytes.size(), 8u);
  EXPECT_EQ(bytes[0], 0x30);
  const std::size_t body = (bytes[1] & 0x80) != 0 ? 2 + (bytes[1] & 0x7f) : 2;
  EXPECT_EQ(bytes[body], 0x02);
  EXPECT_EQ(bytes[body + 1], 0x01);
  EXPECT_EQ(bytes[body + 2], 0x01);
  EXPECT_EQ(bytes[body + 3], 0x04);

  auto from_pem = PrivateKey::FromPem(pem->chars());
  ASSERT_TRUE(from_pem.has_value()) << from_pem.error().message();
  EXPECT_TRUE(from_pem->public_key() == key().public_key());
  auto from_der = PrivateKey::FromDer(der->view());
  ASSERT_TRUE(from_der.has_value()) << from_der.error().message();
  EXPECT_TRUE(from_der->public_key() == key().public_key());
}

TEST_P(KeyRoundTrip, SpkiPemAndDer) {
  const PublicKey& pub = key().public_key();
  const std::string pem = pub.ToPem();
  EXPECT_TRUE(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
  auto from_pem = PublicKey::FromPem(pem);
  ASSERT_TRUE(from_pem.has_value()) << from_pem.error().message();
  EXPECT_TRUE(*from_pem == pub);
  auto from_der = PublicKey::FromDer(pub.spki_der());
  ASSERT_TRUE(from_der.has_value()) << from_der.error().message();
  EXPECT_TRUE(*from_der == pub);
  EXPECT_EQ(from_der->spki_der(), pub.spki_der());
}

TEST_P(KeyRoundTrip, RawPrivateKey) {
  auto back = PrivateKey::FromRaw(GetParam(), key().ToRaw().view());
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_TRUE(back->public_key() == key().public_key());
}

TEST_P(KeyRoundTrip, RawPublicKeyCompressedAndUncompressed) {
  const PublicKey& pub = key().public_key();
  const std::size_t n = FieldSize(GetParam());
  const Bytes compressed = pub.ToRaw(PointFormat::kCompressed);
  const Bytes uncompressed = pub.ToRaw(PointFormat::kUncompressed);
  if (IsEcdsa(GetParam())) {
    EXPECT_EQ(compressed.size(), 1 + n);
    EXPECT_TRUE(compressed[0] == 0x02 || compressed[0] == 0x03);
    EXPECT_EQ(uncompressed.size(), 1 + 2 * n);
    EXPECT_EQ(uncompressed[0], 0x04);
  } else {
    EXPECT_EQ(compressed.size(), n);
    EXPECT_EQ(compressed, uncompressed);
  }
  for (const Bytes& raw : {compressed, uncompressed}) {
    auto back = PublicKey::FromRaw(GetParam(), raw);
    ASSERT_TRUE(back.has_value()) << back.error().message();
    EXPECT_TRUE(*back == pub);
  }
}

TEST_P(KeyRoundTrip, AffineCoordinates) {
  const PublicKey& pub = key().public_key();
  const AffinePoint point = pub.ToAffine();
  EXPECT_EQ(point.x.size(), FieldSize(GetParam()));
  EXPECT_EQ(point.y.size(), IsEcdsa(GetParam()) ? FieldSize(GetParam()) : 0u);
  auto back = PublicKey::FromAffine(GetParam(), point.x, point.y);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_TRUE(*back == pub);
}

TEST_P(KeyRoundTrip, FingerprintIsSha256OfSpki) {
  const PublicKey& pub = key().public_key();
  EXPECT_EQ(pub.Fingerprint(), Sha256(pub.spki_der()));
  auto other = PrivateKey::Generate(GetParam());
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(other->public_key().Fingerprint(), pub.Fingerprint());
}

TEST_P(KeyRoundTrip, CopiesShareTheKey) {
  PrivateKey copy = key();
  EXPECT_TRUE(copy.public_key() == key().public_key());
  EXPECT_EQ(internal::GetEvpPkey(copy), internal::GetEvpPkey(key()));
}

TEST_P(KeyRoundTrip, OpenSslReadsWhatWeWrite) {
  auto pem = key().ToPem(PrivateKeyEncoding::kPkcs8);
  ASSERT_TRUE(pem.has_value());
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  UniquePtr<EVP_PKEY> read(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(OpenSslPem(read.get(), OpenSslFormat::kPublic), key().public_key().ToPem());
}

TEST_P(KeyRoundTrip, EvpBridgeRoundTrip) {
  auto from_private = internal::PrivateKeyFromEvp(internal::GetEvpPkey(key()));
  ASSERT_TRUE(from_private.has_value()) << from_private.error().message();
  EXPECT_TRUE(from_private->public_key() == key().public_key());
  auto from_public = internal::PublicKeyFromEvp(internal::GetEvpPkey(key().public_key()));
  ASSERT_TRUE(from_public.has_value()) << from_public.error().message();
  EXPECT_TRUE(*from_public == key().public_key());
  // A public-only EVP_PKEY holds no private key to take.
  EXPECT_EQ(ErrorCodeOf(internal::PrivateKeyFromEvp(internal::GetEvpPkey(key().public_key()))),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(internal::SignatureDigest(GetParam()) == nullptr, !IsEcdsa(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(AllKeyTypes, KeyRoundTrip, ::testing::ValuesIn(kAllKeyTypes),
                         testing::TypeName);

// Keys written by OpenSSL itself (not by us) in each of its formats.
struct OpenSslKeyCase {
  const char* name;
  const char* type;
  const char* curve;
  KeyType expected;
};

class ReadsOpenSslKeys : public ::testing::TestWithParam<OpenSslKeyCase> {};

TEST_P(ReadsOpenSslKeys, InEveryFormat) {
  const OpenSslKeyCase& c = GetParam();
  UniquePtr<EVP_PKEY> pkey = OpenSslKeygen(c.type, c.curve);
  ASSERT_NE(pkey, nullptr);
  const std::string public_pem = OpenSslPem(pkey.get(), OpenSslFormat::kPublic);
  auto pub = PublicKey::FromPem(public_pem);
  ASSERT_TRUE(pub.has_value()) << pub.error().message();
  EXPECT_EQ(pub->type(), c.expected);
  EXPECT_EQ(pub->ToPem(), public_pem);

  std::vector<OpenSslFormat> formats = {OpenSslFormat::kPkcs8};
  if (c.curve != nullptr) {
    formats.push_back(OpenSslFormat::kTraditional);  // SEC1 "EC PRIVATE KEY"
  }
  for (OpenSslFormat format : formats) {
    auto key = PrivateKey::FromPem(OpenSslPem(pkey.get(), format));
    ASSERT_TRUE(key.has_value()) << key.error().message();
    EXPECT_EQ(key->type(), c.expected);
    EXPECT_TRUE(key->public_key() == *pub);
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllKeyTypes, ReadsOpenSslKeys,
    ::testing::Values(OpenSslKeyCase{"ed25519", "ED25519", nullptr, KeyType::kEd25519},
                      OpenSslKeyCase{"ed448", "ED448", nullptr, KeyType::kEd448},
                      OpenSslKeyCase{"secp256r1", "EC", "P-256", KeyType::kSecp256r1},
                      OpenSslKeyCase{"secp384r1", "EC", "P-384", KeyType::kSecp384r1},
                      OpenSslKeyCase{"secp521r1", "EC", "P-521", KeyType::kSecp521r1},
                      OpenSslKeyCase{"secp256k1", "EC", "secp256k1", KeyType::kSecp256k1}),
    [](const auto& info) { return std::string(info.param.name); });

// --- Fixed keys ------------------------------------------------------------------

TEST(PrivateKey, ReadsTheOriginalKiseeSecp256k1Sec1Key) {
  auto key = PrivateKey::FromPem(kSecp256k1Sec1Pem);
  ASSERT_TRUE(key.has_value()) << key.error().message();
  EXPECT_EQ(key->type(), KeyType::kSecp256k1);
  EXPECT_EQ(HexEncode(key->ToRaw().view()), kSecp256k1Scalar);
  auto expected_public = PublicKey::FromPem(kSecp256k1PublicPem);
  ASSERT_TRUE(expected_public.has_value()) << expected_public.error().message();
  EXPECT_TRUE(key->public_key() == *expected_public);
  EXPECT_EQ(key->public_key().ToPem(), kSecp256k1PublicPem);
}

TEST(PrivateKey, Rfc8037Ed25519KeyDerivesItsPublicKey) {
  // RFC 8037 Appendix A.1/A.2.
  auto key =
      PrivateKey::FromRaw(KeyType::kEd25519, B64u("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"));
  ASSERT_TRUE(key.has_value()) << key.error().message();
  EXPECT_EQ(Base64UrlEncode(key->public_key().ToRaw()),
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
}

TEST(PrivateKey, Rfc7515P256KeyDerivesItsPublicKey) {
  // RFC 7515 Appendix A.3.1.
  auto key =
      PrivateKey::FromRaw(KeyType::kSecp256r1, B64u("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"));
  ASSERT_TRUE(key.has_value()) << key.error().message();
  const AffinePoint point = key->public_key().ToAffine();
  EXPECT_EQ(Base64UrlEncode(point.x), "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU");
  EXPECT_EQ(Base64UrlEncode(point.y), "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
  EXPECT_EQ(key->public_key().ToRaw(PointFormat::kCompressed).size(), 33u);
}

TEST(PublicKey, EqualityNeedsSameTypeAndPoint) {
  auto a = PrivateKey::Generate(KeyType::kSecp256r1);
  auto b = PrivateKey::Generate(KeyType::kSecp256r1);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_TRUE(a->public_key() == a->public_key());
  EXPECT_FALSE(a->public_key() == b->public_key());
  auto reparsed = PublicKey::FromDer(a->public_key().spki_der());
  ASSERT_TRUE(reparsed.has_value());
  EXPECT_TRUE(*reparsed == a->public_key());
}

// --- Malformed PEM -----------------------------------------------------------------

std::string ValidP256Pkcs8Pem() {
  auto key = PrivateKey::Generate(KeyType::kSecp256r1);
  EXPECT_TRUE(key.has_value());
  auto pem = key->ToPem();
  EXPECT_TRUE(pem.has_value());
  return std::string(pem->chars());
}

TEST(PemParsing, RefusesEmptyText) {
  EXPECT_EQ(ErrorCodeOf(PrivateKey::FromPem("")), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ErrorCodeOf(PublicKey::FromPem("")), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ErrorCodeOf(PrivateKey::FromPem("\n\n  \n")), ErrorCode::kInvalidArgument);
}

TEST(PemParsing, RefusesTruncatedText) {
  const std::string pem = ValidP256Pkcs8Pem();
  for (std::size_t cut : {pem.size() - 5, pem.size() - 10, pem.size() / 2, std::size_t{30}}) {
    EXPECT_EQ(ErrorCodeOf(PrivateKey::FromPem(pem.substr(0, cut))), ErrorCode::kInvalidArgument)
        << "cut at " << cut;
  }
  // The body shortened by one line keeps the armour but breaks the DER.
  const std::size_t second_line = pem.find('\n', pem.find('\n') + 1);
  std::string short_body = pem;
  short_body.erase(pem.find('\n') + 1, second_line - pem.find('\n'));
  EXPECT_EQ(ErrorCodeOf(PrivateKey::FromPem(short_body)), ErrorCode::kInvalidArgument);
}

TEST(PemParsing, RefusesWrongLabel) {
  const std::string pem = ValidP256Pkcs8Pem();
  std::string relabelled = pem;
  for (std::string_view from : {"BEGIN PRIVATE KEY", "END PRIVATE KEY"}) {
    relabelled.replace(relabelled.find(from), from.size(),
                       from.starts_with("BEGIN") ? "BEGIN CERTIFICATE" : "END CERTIFICATE");
  }
  auto result = PrivateKey::FromPem(relabelled);
  EXPECT_EQ(ErrorCodeOf(result), ErrorCode::kInvalidArgument);
  // A private key offered as a public key and the other way round.
  EXPECT_EQ(ErrorCodeOf(PublicKey::FromPem(pem)), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ErrorCodeOf(PrivateKey::FromPem(kSecp256k1PublicPem)), ErrorCode::kInvalidArgument);
}

TEST(PemParsing, RefusesGarbageBase64) {
  const std::string garbage =
      "-----BEGIN PRIVATE KEY-----\n!!!!not*base64@@@@\n-----END PRIVATE KEY-----\n";
  EXPECT_EQ(ErrorCodeOf(PrivateKey::FromPem(garbage)), ErrorCode::kInvalidArgument);
  const std::string not_der =
      "-----BEGIN PUBLIC KEY-----\naGVsbG8gd29ybGQ=\n-----END PUBLIC KEY-----\n";
  EXPECT_EQ(ErrorCodeOf(PublicKey::FromPem(not_der)), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ErrorCodeOf(PrivateKey::FromPem("just some text")), ErrorCode::kInvalidArgument);
}

TEST(PemParsing, RefusesUnsupportedKeyTypes) {
  struct Case {
    const char* type;
    const char* curve;
  };
  for (Case c : {Case{"RSA", nullptr}, Case{"X25519", nullptr}, Case{"EC", "P-224"},
                 Case{"EC", "brainpoolP256r1"}}) {
    UniquePtr<EVP_PKEY> pkey =
        c.type == std::string_view("RSA")
            ? UniquePtr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}))
            : OpenSslKeygen(c.type, c.curve);
    ASSERT_NE(pkey, nullptr) << c.type;
    auto key = PrivateKey::FromPem(OpenSslPem(pkey.get(), OpenSslFormat::kPkcs8));
    EXPECT_EQ(ErrorCodeOf(key), ErrorCode::kInvalidArgument) << c.type;
    auto pub = PublicKey::FromPem(OpenSslPem(pkey.get(), OpenSslFormat::kPublic));
    EXPECT_EQ(ErrorCodeOf(pub), ErrorCode::kInvalidArgument) << c.type;
    if (!key.has_value()) {
      EXPECT_NE(key.error().message().find("unsupported"), std::string::npos)
          << key.error().message();
    }
  }
}

TEST(PemParsing, RefusesEncryptedKeys) {
  UniquePtr<EVP_PKEY> pkey = OpenSslKeygen("EC", "P-256");
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  const char kPass[] = "password";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey.get(), EVP_aes_256_cbc(), kPass,
                                          sizeof(kPass) - 1, nullptr, nullptr),
            1);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  const std::string pem(data, static_cast<std::size_t>(length));
  ASSERT_TRUE(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
  auto key = PrivateKey::FromPem(pem);
  EXPECT_EQ(ErrorCodeOf(key), ErrorCode::kInvalidArgument);
}

TEST(PemParsing, RefusesTwoKeys) {
  const std::string two = ValidP256Pkcs8Pem() + ValidP256Pkcs8Pem();
  EXPECT_EQ(ErrorCodeOf(PrivateKey::FromPem(two)), ErrorCode::kInvalidArgument);
  const std::string two_public =
      std::string(kSecp256k1PublicPem) + std::string(kSecp256k1PublicPem);
  EXPECT_EQ(ErrorCodeOf(PublicKey::FromPem(two_public)), ErrorCode::kInvalidArgument);
}

TEST(PemParsing, IgnoresTextAroundTheBlock) {
  const std::string pem = "comment before\n" + std::string(kSecp256k1PublicPem) + "after\n";
  EXPECT_TRUE(PublicKey::FromPem(pem).has_value());
}

// --- Malformed DER and raw forms ------------------------------------------------

TEST(DerParsing, RefusesEmptyTrailingAndGarbage) {
  auto key = PrivateKey::Generate(KeyType::kSecp256k1);
  ASSERT_TRUE(key.has_value());
  auto der = key->ToDer();
  ASSERT_TRUE(der.has_value());
  Bytes trailing(der->view().begin(), der->view().end());
  trailing.push_back(0);
  EXPECT_EQ(ErrorCodeOf(PrivateKey::FromDer(trailing)), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ErrorCodeOf(PrivateKey::FromDer({})), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ErrorCodeOf(PrivateKey::FromDer(Hex("3003020101"))), ErrorCode::kInvalidArgument);
  Bytes spki = key->public_key().spki_der();
  spki.push_back(0);
  EXPECT_EQ(ErrorCodeOf(PublicKey::FromDer(spki)), ErrorCode::kInvalidArgument);
  spki.resize(spki.size() - 10);
  EXPECT_EQ(ErrorCodeOf(PublicKey::FromDer(spki)), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ErrorCodeOf(PublicKey::FromDer(Hex("0000"))), ErrorCode::kInvalidArgument);
}

TEST(RawKeys, RefusesWrongLengths) {
  for (KeyType type : kAllKeyTypes) {
    const std::size_t n = FieldSize(type);
    EXPECT_EQ(ErrorCodeOf(PrivateKey::FromRaw(type, Bytes(n - 1, 1))), ErrorCode::kInvalidArgument)
        << KeyTypeName(type);
    EXPECT_EQ(ErrorCodeOf(PrivateKey::FromRaw(type, Bytes(n + 1, 1))), ErrorCode::kInvalidArgument);
    EXPECT_EQ(ErrorCodeOf(PublicKey::FromRaw(type, Bytes{})), ErrorCode::kInvalidArgument);
    EXPECT_EQ(ErrorCodeOf(PublicKey::FromRaw(type, Bytes(n + 2, 2))), ErrorCode::kInvalidArgument);
  }
}

TEST(RawKeys, RefusesEcScalarsOutOfRange) {
  for (KeyType type : kAllKeyTypes) {
    if (!IsEcdsa(type)) {
      continue;
    }
    const std::size_t n = FieldSize(type);
    EXPECT_EQ(ErrorCodeOf(PrivateKey::FromRaw(type, Bytes(n, 0))), ErrorCode::kInvalidArgument)
        << KeyTypeName(type);
    EXPECT_EQ(ErrorCodeOf(PrivateKey::FromRaw(type, Bytes(n, 0xff))), ErrorCode::kInvalidArgument)
        << KeyTypeName(type);
  }
}

TEST(RawKeys, RefusesInvalidPoints) {
  auto key = PrivateKey::Generate(KeyType::kSecp256r1);
  ASSERT_TRUE(key.has_value());
  Bytes off_curve = key->public_key().ToRaw(PointFormat::kUncompressed);
  off_curve.back() ^= 0x01;  // y no longer matches x
  EXPECT_EQ(ErrorCodeOf(PublicKey::FromRaw(KeyType::kSecp256r1, off_curve)),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ErrorCodeOf(PublicKey::FromRaw(KeyType::kSecp256r1, Bytes{0x00})),
            ErrorCode::kInvalidArgument);  // the point at infinity
  Bytes bad_prefix = key->public_key().ToRaw(PointFormat::kCompressed);
  bad_prefix[0] = 0x05;
  EXPECT_EQ(ErrorCodeOf(PublicKey::FromRaw(KeyType::kSecp256r1, bad_prefix)),
            ErrorCode::kInvalidArgument);
  // A P-256 point is not a secp256k1 point.
  EXPECT_EQ(ErrorCodeOf(PublicKey::FromRaw(KeyType::kSecp256k1,
                                           key->public_key().ToRaw(PointFormat::kUncompressed))),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ErrorCodeOf(PublicKey::FromAffine(KeyType::kEd25519, Bytes(32, 1), Bytes(32, 1))),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace kisee::crypto
