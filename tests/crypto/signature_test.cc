#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "crypto/internal/evp_key.h"
#include "crypto/internal/openssl.h"
#include "crypto/test_util.h"
#include "kisee/crypto/digest.h"
#include "kisee/crypto/keys.h"

namespace kisee::crypto {
namespace {

using internal::UniquePtr;
using testing::B64u;
using testing::ErrorCodeOf;
using testing::Hex;

constexpr std::string_view kMessage = "the quick brown fox jumps over the lazy dog";

// OpenSslSign / OpenSslVerify sign and verify through OpenSSL's generic EVP
// code, independently of the fast paths (libsodium, libsecp256k1) the library
// picks, so that each side checks the other.
Bytes OpenSslSign(const PrivateKey& key, ByteView message) {
  EVP_PKEY* pkey = internal::GetEvpPkey(key);
  Bytes sig(200);
  std::size_t length = sig.size();
  if (IsEcdsa(key.type())) {
    const Sha256Digest digest = Sha256(message);
    UniquePtr<EVP_PKEY_CTX> context(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
    EXPECT_EQ(EVP_PKEY_sign_init(context.get()), 1);
    EXPECT_EQ(EVP_PKEY_sign(context.get(), sig.data(), &length, digest.data(), digest.size()), 1);
  } else {
    UniquePtr<EVP_MD_CTX> context(EVP_MD_CTX_new());
    EXPECT_EQ(
        EVP_DigestSignInit_ex(context.get(), nullptr, nullptr, nullptr, nullptr, pkey, nullptr), 1);
    EXPECT_EQ(EVP_DigestSign(context.get(), sig.data(), &length, message.data(), message.size()),
              1);
  }
  sig.resize(length);
  return sig;
}

bool OpenSslVerify(const PublicKey& key, ByteView message, ByteView sig) {
  EVP_PKEY* pkey = internal::GetEvpPkey(key);
  if (IsEcdsa(key.type())) {
    const Sha256Digest digest = Sha256(message);
    UniquePtr<EVP_PKEY_CTX> context(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
    EXPECT_EQ(EVP_PKEY_verify_init(context.get()), 1);
    return EVP_PKEY_verify(context.get(), sig.data(), sig.size(), digest.data(), digest.size()) ==
           1;
  }
  UniquePtr<EVP_MD_CTX> context(EVP_MD_CTX_new());
  EXPECT_EQ(
      EVP_DigestVerifyInit_ex(context.get(), nullptr, nullptr, nullptr, nullptr, pkey, nullptr), 1);
  return EVP_DigestVerify(context.get(), sig.data(), sig.size(), message.data(), message.size()) ==
         1;
}

int CurveNid(KeyType type) {
  switch (type) {
    case KeyType::kSecp256r1:
      return NID_X9_62_prime256v1;
    case KeyType::kSecp384r1:
      return NID_secp384r1;
    case KeyType::kSecp521r1:
      return NID_secp521r1;
    default:
      return NID_secp256k1;
  }
}

// HighS returns r‖(n - s): the other valid signature for the same r.
Bytes HighS(KeyType type, ByteView raw) {
  const std::size_t n = FieldSize(type);
  UniquePtr<EC_GROUP> group(EC_GROUP_new_by_curve_name(CurveNid(type)));
  UniquePtr<BIGNUM> s(BN_bin2bn(raw.data() + n, static_cast<int>(n), nullptr));
  UniquePtr<BIGNUM> flipped(BN_new());
  EXPECT_EQ(BN_sub(flipped.get(), EC_GROUP_get0_order(group.get()), s.get()), 1);
  Bytes out(raw.begin(), raw.end());
  EXPECT_GT(BN_bn2binpad(flipped.get(), out.data() + n, static_cast<int>(n)), 0);
  return out;
}

class Signatures : public ::testing::TestWithParam<KeyType> {
 protected:
  void SetUp() override {
    auto key = PrivateKey::Generate(GetParam());
    ASSERT_TRUE(key.has_value()) << key.error().message();
    key_ = std::make_unique<PrivateKey>(*key);
  }
  const PrivateKey& key() const { return *key_; }
  const PublicKey& pub() const { return key_->public_key(); }
  Bytes SignOrFail(ByteView message, SignatureFormat format = SignatureFormat::kRaw) {
    auto sig = key().Sign(message, format);
    EXPECT_TRUE(sig.has_value()) << sig.error().message();
    return sig.value_or(Bytes{});
  }

 private:
  std::unique_ptr<PrivateKey> key_;
};

TEST_P(Signatures, RawSignatureVerifies) {
  const Bytes sig = SignOrFail(AsBytes(kMessage));
  EXPECT_EQ(sig.size(), RawSignatureSize(GetParam()));
  auto ok = pub().Verify(AsBytes(kMessage), sig);
  EXPECT_TRUE(ok.has_value()) << ok.error().message();
}

TEST_P(Signatures, DerSignatureVerifies) {
  const Bytes sig = SignOrFail(AsBytes(kMessage), SignatureFormat::kDer);
  if (IsEcdsa(GetParam())) {
    EXPECT_EQ(sig[0], 0x30);  // SEQUENCE
  }
  auto ok = pub().Verify(AsBytes(kMessage), sig, SignatureFormat::kDer);
  EXPECT_TRUE(ok.has_value()) << ok.error().message();
}

TEST_P(Signatures, EmptyMessageSignsAndVerifies) {
  const Bytes sig = SignOrFail({});
  EXPECT_TRUE(pub().Verify({}, sig).has_value());
  EXPECT_EQ(ErrorCodeOf(pub().Verify(AsBytes("x"), sig)), ErrorCode::kUnauthenticated);
}

TEST_P(Signatures, TamperedMessageFails) {
  const Bytes sig = SignOrFail(AsBytes(kMessage));
  std::string tampered(kMessage);
  tampered[3] ^= 0x01;
  EXPECT_EQ(ErrorCodeOf(pub().Verify(AsBytes(tampered), sig)), ErrorCode::kUnauthenticated);
}

TEST_P(Signatures, TamperedSignatureFails) {
  const Bytes sig = SignOrFail(AsBytes(kMessage));
  for (std::size_t index : {std::size_t{0}, sig.size() / 2 + 1, sig.size() - 1}) {
    Bytes tampered = sig;
    tampered[index] ^= 0x01;
    EXPECT_EQ(ErrorCodeOf(pub().Verify(AsBytes(kMessage), tampered)), ErrorCode::kUnauthenticated)
        << "byte " << index;
  }
}

TEST_P(Signatures, AnotherKeyFails) {
  auto other = PrivateKey::Generate(GetParam());
  ASSERT_TRUE(other.has_value());
  const Bytes sig = SignOrFail(AsBytes(kMessage));
  EXPECT_EQ(ErrorCodeOf(other->public_key().Verify(AsBytes(kMessage), sig)),
            ErrorCode::kUnauthenticated);
}

TEST_P(Signatures, WrongLengthsAreInvalidArgument) {
  const Bytes sig = SignOrFail(AsBytes(kMessage));
  std::vector<Bytes> wrong = {Bytes{}, Bytes{0x30}, Bytes(sig.begin(), sig.end() - 1), sig,
                              Bytes(1000, 0x30)};
  wrong[3].push_back(0);
  for (const Bytes& candidate : wrong) {
    EXPECT_EQ(ErrorCodeOf(pub().Verify(AsBytes(kMessage), candidate)), ErrorCode::kInvalidArgument)
        << candidate.size() << " bytes";
  }
}

TEST_P(Signatures, MalformedDerIsInvalidArgument) {
  if (!IsEcdsa(GetParam())) {
    GTEST_SUCCEED() << "EdDSA has no DER form";
    return;
  }
  const Bytes der = SignOrFail(AsBytes(kMessage), SignatureFormat::kDer);
  Bytes trailing = der;
  trailing.push_back(0x00);
  // r re-encoded with a superfluous leading zero byte: valid BER, not DER.
  Bytes padded_r = Hex("3009020300000102020101");
  std::vector<Bytes> malformed = {ToBytes("hello"),
                                  trailing,
                                  padded_r,
                                  Hex("3006020101020101ff"),
                                  Hex("3006020181020101") /* negative r */,
                                  Hex("30")};
  for (const Bytes& candidate : malformed) {
    EXPECT_EQ(ErrorCodeOf(pub().Verify(AsBytes(kMessage), candidate, SignatureFormat::kDer)),
              ErrorCode::kInvalidArgument)
        << HexEncode(candidate);
  }
}

TEST_P(Signatures, OutOfRangeValuesFailCleanly) {
  const std::size_t size = RawSignatureSize(GetParam());
  for (std::uint8_t fill : {0x00, 0xff}) {
    EXPECT_FALSE(pub().Verify(AsBytes(kMessage), Bytes(size, fill)).has_value());
  }
}

TEST_P(Signatures, FastPathsAgreeWithOpenSsl) {
  // Our signature verifies through OpenSSL's generic code...
  const Bytes ours = SignOrFail(AsBytes(kMessage), SignatureFormat::kDer);
  EXPECT_TRUE(OpenSslVerify(pub(), AsBytes(kMessage), ours));
  // ...and OpenSSL's verifies through ours.
  const Bytes theirs = OpenSslSign(key(), AsBytes(kMessage));
  auto ok = pub().Verify(AsBytes(kMessage), theirs, SignatureFormat::kDer);
  EXPECT_TRUE(ok.has_value()) << ok.error().message();
}

TEST_P(Signatures, HighSIsAccepted) {
  if (!IsEcdsa(GetParam())) {
    GTEST_SUCCEED() << "EdDSA signatures have a single valid s";
    return;
  }
  const Bytes sig = SignOrFail(AsBytes(kMessage));
  const Bytes flipped = HighS(GetParam(), sig);
  ASSERT_NE(flipped, sig);
  auto ok = pub().Verify(AsBytes(kMessage), flipped);
  EXPECT_TRUE(ok.has_value()) << ok.error().message();
  auto der = RawToDerSignature(GetParam(), flipped);
  ASSERT_TRUE(der.has_value());
  EXPECT_TRUE(pub().Verify(AsBytes(kMessage), *der, SignatureFormat::kDer).has_value());
}

TEST_P(Signatures, DerAndRawConvert) {
  if (!IsEcdsa(GetParam())) {
    EXPECT_EQ(ErrorCodeOf(RawToDerSignature(GetParam(), Bytes(64))), ErrorCode::kInvalidArgument);
    EXPECT_EQ(ErrorCodeOf(DerToRawSignature(GetParam(), Bytes(64))), ErrorCode::kInvalidArgument);
    return;
  }
  const Bytes raw = SignOrFail(AsBytes(kMessage));
  auto der = RawToDerSignature(GetParam(), raw);
  ASSERT_TRUE(der.has_value()) << der.error().message();
  EXPECT_TRUE(pub().Verify(AsBytes(kMessage), *der, SignatureFormat::kDer).has_value());
  auto back = DerToRawSignature(GetParam(), *der);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, raw);
  EXPECT_EQ(ErrorCodeOf(RawToDerSignature(GetParam(), Bytes(raw.size() - 1))),
            ErrorCode::kInvalidArgument);
}

TEST_P(Signatures, SignatureOfAnotherCurveFails) {
  // Same raw length, different curve: P-256 against secp256k1 and back.
  if (GetParam() != KeyType::kSecp256r1 && GetParam() != KeyType::kSecp256k1) {
    GTEST_SUCCEED() << "only the two 256-bit curves share a signature length";
    return;
  }
  const KeyType other_type =
      GetParam() == KeyType::kSecp256r1 ? KeyType::kSecp256k1 : KeyType::kSecp256r1;
  auto other = PrivateKey::Generate(other_type);
  ASSERT_TRUE(other.has_value());
  auto sig = other->Sign(AsBytes(kMessage));
  ASSERT_TRUE(sig.has_value());
  EXPECT_FALSE(pub().Verify(AsBytes(kMessage), *sig).has_value());
}

TEST_P(Signatures, OneKeyIsSafeToShareBetweenThreads) {
  // Keys share one EVP_PKEY (and, for secp256k1, one libsecp256k1 context)
  // between copies and threads; concurrent use must neither race nor fail.
  const PrivateKey shared = key();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&shared, &failures, t] {
      const std::string message = std::string(kMessage) + std::to_string(t);
      for (int i = 0; i < 10; ++i) {
        auto sig = shared.Sign(AsBytes(message));
        if (!sig || !shared.public_key().Verify(AsBytes(message), *sig)) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failures.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(AllKeyTypes, Signatures, ::testing::ValuesIn(kAllKeyTypes),
                         testing::TypeName);

// --- Known vectors ---------------------------------------------------------------

TEST(KnownVectors, Rfc8037Ed25519Signature) {
  // RFC 8037 Appendix A.4 (signing) and A.5 (validation).
  auto key =
      PrivateKey::FromRaw(KeyType::kEd25519, B64u("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"));
  ASSERT_TRUE(key.has_value()) << key.error().message();
  constexpr std::string_view kInput = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
  constexpr std::string_view kSignature =
      "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
  auto sig = key->Sign(AsBytes(kInput));
  ASSERT_TRUE(sig.has_value());
  EXPECT_EQ(Base64UrlEncode(*sig), kSignature);
  auto pub =
      PublicKey::FromRaw(KeyType::kEd25519, B64u("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"));
  ASSERT_TRUE(pub.has_value());
  EXPECT_TRUE(pub->Verify(AsBytes(kInput), B64u(kSignature)).has_value());
}

TEST(KnownVectors, Rfc8032Ed448BlankMessage) {
  // RFC 8032 §7.4, test "Blank".
  auto key = PrivateKey::FromRaw(
      KeyType::kEd448, Hex("6c82a562cb808d10d632be89c8513ebf6c929f34ddfa8c9f63c9960ef6e348a3"
                           "528c8a3fcc2f044e39a3fc5b94492f8f032e7549a20098f95b"));
  ASSERT_TRUE(key.has_value()) << key.error().message();
  EXPECT_EQ(HexEncode(key->public_key().ToRaw()),
            "5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778"
            "edf124769b46c7061bd6783df1e50f6cd1fa1abeafe8256180");
  const std::string expected =
      "533a37f6bbe457251f023c0d88f976ae2dfb504a843e34d2074fd823d41a591f"
      "2b233f034f628281f2fd7a22ddd47d7828c59bd0a21bfd3980ff0d2028d4b18a"
      "9df63e006c5d1c2d345b925d8dc00b4104852db99ac5c7cdda8530a113a0f4db"
      "b61149f05a7363268c71d95808ff2e652600";
  auto sig = key->Sign({});
  ASSERT_TRUE(sig.has_value());
  EXPECT_EQ(HexEncode(*sig), expected);
  EXPECT_TRUE(key->public_key().Verify({}, Hex(expected)).has_value());
}

TEST(KnownVectors, Rfc7515Es256SignatureVerifies) {
  // RFC 7515 Appendix A.3: the JWS signing input and its raw r‖s signature.
  auto pub = PublicKey::FromAffine(KeyType::kSecp256r1,
                                   B64u("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"),
                                   B64u("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"));
  ASSERT_TRUE(pub.has_value()) << pub.error().message();
  constexpr std::string_view kInput =
      "eyJhbGciOiJFUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl"
      "fQ";
  const Bytes sig = B64u(
      "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q");
  auto ok = pub->Verify(AsBytes(kInput), sig);
  EXPECT_TRUE(ok.has_value()) << ok.error().message();
  std::string tampered(kInput);
  tampered.back() = 'R';
  EXPECT_EQ(ErrorCodeOf(pub->Verify(AsBytes(tampered), sig)), ErrorCode::kUnauthenticated);
}

TEST(KnownVectors, Secp256k1SignaturesAreDeterministicAndLowS) {
  auto key = PrivateKey::Generate(KeyType::kSecp256k1);
  ASSERT_TRUE(key.has_value());
  auto first = key->Sign(AsBytes(kMessage));
  auto second = key->Sign(AsBytes(kMessage));
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(*first, *second);  // RFC 6979
  // Low s: s <= n/2, so the most significant byte is at most 0x7f.
  EXPECT_LE((*first)[32], 0x7f);
}

}  // namespace
}  // namespace kisee::crypto
