#include "kisee/crypto/keys.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <climits>
#include <string>
#include <utility>
#include <vector>

#include "crypto/internal/evp_key.h"
#include "crypto/internal/openssl.h"
#include "crypto/key_data.h"
#include "kisee/core/random.h"

namespace kisee::crypto {

using internal::ClearOpenSslErrors;
using internal::KeyAccess;
using internal::OpenSslError;
using internal::PrivateKeyData;
using internal::PublicKeyData;
using internal::UniquePtr;

namespace {

// No key PEM or DER comes close to these; they bound the work hostile input
// can cause and keep lengths inside OpenSSL's int/long parameters.
constexpr std::size_t kMaxPemSize = 64 * 1024;
constexpr std::size_t kMaxDerSize = 16 * 1024;
// The longest SEC1 point we handle: uncompressed P-521.
constexpr std::size_t kMaxPointSize = 1 + 2 * 66;

constexpr std::string_view kPublicKeyLabel = "PUBLIC KEY";
constexpr std::string_view kPkcs8Label = "PRIVATE KEY";
constexpr std::string_view kSec1Label = "EC PRIVATE KEY";

std::unexpected<Error> Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

std::unexpected<Error> FromOpenSsl(ErrorCode code, std::string_view context) {
  return std::unexpected<Error>(OpenSslError(code, context));
}

void EnsureSodiumInitialized() {
  // sodium_init selects libsodium's fastest implementations; it is
  // idempotent and thread-safe, and a failure (-1) leaves the portable code
  // in place, which is still correct.
  static const int kStatus = sodium_init();
  (void)kStatus;
}

int CurveNid(KeyType type) {
  switch (type) {
    case KeyType::kSecp256r1:
      return NID_X9_62_prime256v1;
    case KeyType::kSecp384r1:
      return NID_secp384r1;
    case KeyType::kSecp521r1:
      return NID_secp521r1;
    case KeyType::kSecp256k1:
      return NID_secp256k1;
    default:
      return NID_undef;
  }
}

int EdPkeyId(KeyType type) { return type == KeyType::kEd25519 ? EVP_PKEY_ED25519 : EVP_PKEY_ED448; }

Result<KeyType> TypeOfEvp(const EVP_PKEY* pkey) {
  if (pkey == nullptr) {
    return Invalid("no key");
  }
  if (EVP_PKEY_is_a(pkey, "ED25519")) {
    return KeyType::kEd25519;
  }
  if (EVP_PKEY_is_a(pkey, "ED448")) {
    return KeyType::kEd448;
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    std::array<char, 80> name{};
    std::size_t length = 0;
    if (EVP_PKEY_get_group_name(pkey, name.data(), name.size(), &length) != 1) {
      ClearOpenSslErrors();
      return Invalid("EC key without a named curve");
    }
    int nid = OBJ_sn2nid(name.data());
    if (nid == NID_undef) {
      nid = EC_curve_nist2nid(name.data());
    }
    for (KeyType type : kAllKeyTypes) {
      if (IsEcdsa(type) && CurveNid(type) == nid) {
        return type;
      }
    }
    return Invalid("unsupported elliptic curve " + std::string(name.data()));
  }
  return Invalid(
      "unsupported key type (expected Ed25519, Ed448, or EC on P-256, P-384, P-521 or "
      "secp256k1)");
}

// FinishPublic computes the cached forms of a public key whose EVP_PKEY and
// raw form are already consistent.
Result<PublicKey> FinishPublic(KeyType type, UniquePtr<EVP_PKEY> pkey, Bytes raw) {
  auto data = std::make_shared<PublicKeyData>();
  const int length = i2d_PUBKEY(pkey.get(), nullptr);
  if (length <= 0) {
    return FromOpenSsl(ErrorCode::kInternal, "encoding a public key");
  }
  data->spki_der.resize(static_cast<std::size_t>(length));
  unsigned char* out = data->spki_der.data();
  if (i2d_PUBKEY(pkey.get(), &out) != length) {
    return FromOpenSsl(ErrorCode::kInternal, "encoding a public key");
  }
  data->fingerprint = Sha256(data->spki_der);
  if (type == KeyType::kSecp256k1) {
    const secp256k1_context* context = internal::Secp256k1Context();
    if (context == nullptr) {
      return MakeError(ErrorCode::kInternal, "libsecp256k1 context unavailable");
    }
    if (secp256k1_ec_pubkey_parse(context, &data->secp256k1_point, raw.data(), raw.size()) != 1) {
      return Invalid("invalid secp256k1 point");
    }
  }
  data->type = type;
  data->pkey = std::move(pkey);
  data->raw = std::move(raw);
  return KeyAccess::MakePublic(std::move(data));
}

Result<PublicKey> EdPublicFromRaw(KeyType type, ByteView raw) {
  EnsureSodiumInitialized();  // libsodium verifies Ed25519 signatures with this key
  if (raw.size() != FieldSize(type)) {
    return Invalid(std::string(KeyTypeName(type)) + " public key must be " +
                   std::to_string(FieldSize(type)) + " bytes, got " + std::to_string(raw.size()));
  }
  UniquePtr<EVP_PKEY> pkey(
      EVP_PKEY_new_raw_public_key(EdPkeyId(type), nullptr, raw.data(), raw.size()));
  if (pkey == nullptr) {
    return FromOpenSsl(ErrorCode::kInvalidArgument, "invalid EdDSA public key");
  }
  return FinishPublic(type, std::move(pkey), Bytes(raw.begin(), raw.end()));
}

// EcFromParams builds an EC EVP_PKEY on `type`'s curve from an uncompressed
// point and, when `scalar_le` is not empty, the private scalar (native-endian
// as OSSL_PARAM integers are). The parameters point into our own buffers, so
// no copy of the scalar is left behind in OpenSSL's heap by this step.
Result<UniquePtr<EVP_PKEY>> EcFromParams(KeyType type, ByteView uncompressed,
                                         std::span<std::uint8_t> scalar_le) {
  std::string group(OBJ_nid2sn(CurveNid(type)));
  std::array<OSSL_PARAM, 4> params;
  std::size_t count = 0;
  params[count++] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group.data(), 0);
  params[count++] = OSSL_PARAM_construct_octet_string(
      OSSL_PKEY_PARAM_PUB_KEY, const_cast<std::uint8_t*>(uncompressed.data()), uncompressed.size());
  if (!scalar_le.empty()) {
    params[count++] =
        OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, scalar_le.data(), scalar_le.size());
  }
  params[count] = OSSL_PARAM_construct_end();

  UniquePtr<EVP_PKEY_CTX> context(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (context == nullptr || EVP_PKEY_fromdata_init(context.get()) != 1) {
    return FromOpenSsl(ErrorCode::kInternal, "preparing an EC key");
  }
  EVP_PKEY* made = nullptr;
  const int selection = scalar_le.empty() ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEYPAIR;
  if (EVP_PKEY_fromdata(context.get(), &made, selection, params.data()) != 1) {
    return FromOpenSsl(ErrorCode::kInvalidArgument, "invalid EC key");
  }
  return UniquePtr<EVP_PKEY>(made);
}

Result<PublicKey> EcPublicFromPoint(KeyType type, ByteView point) {
  const std::size_t n = FieldSize(type);
  const bool compressed = point.size() == 1 + n && (point[0] == 0x02 || point[0] == 0x03);
  const bool uncompressed = point.size() == 1 + 2 * n && point[0] == 0x04;
  if (!compressed && !uncompressed) {
    return Invalid(std::string(KeyTypeName(type)) + " public key must be a SEC1 point of " +
                   std::to_string(1 + n) + " or " + std::to_string(1 + 2 * n) + " bytes");
  }
  UniquePtr<EC_GROUP> group(EC_GROUP_new_by_curve_name(CurveNid(type)));
  UniquePtr<BN_CTX> bn_context(BN_CTX_new());
  if (group == nullptr || bn_context == nullptr) {
    return FromOpenSsl(ErrorCode::kInternal, "preparing an EC group");
  }
  UniquePtr<EC_POINT> decoded(EC_POINT_new(group.get()));
  if (decoded == nullptr) {
    return FromOpenSsl(ErrorCode::kInternal, "preparing an EC point");
  }
  // oct2point checks that the point lies on the curve (and decompresses).
  if (EC_POINT_oct2point(group.get(), decoded.get(), point.data(), point.size(),
                         bn_context.get()) != 1) {
    return FromOpenSsl(ErrorCode::kInvalidArgument,
                       "not a point on " + std::string(KeyTypeName(type)));
  }
  if (EC_POINT_is_at_infinity(group.get(), decoded.get()) == 1) {
    return Invalid("the point at infinity is not a public key");
  }
  Bytes canonical(1 + 2 * n);
  if (EC_POINT_point2oct(group.get(), decoded.get(), POINT_CONVERSION_UNCOMPRESSED,
                         canonical.data(), canonical.size(),
                         bn_context.get()) != canonical.size()) {
    return FromOpenSsl(ErrorCode::kInternal, "encoding an EC point");
  }
  KISEE_ASSIGN_OR_RETURN(UniquePtr<EVP_PKEY> pkey, EcFromParams(type, canonical, {}));
  return FinishPublic(type, std::move(pkey), std::move(canonical));
}

Result<PrivateKey> EdPrivateFromSeed(KeyType type, ByteView seed) {
  const std::size_t n = FieldSize(type);
  if (seed.size() != n) {
    return Invalid(std::string(KeyTypeName(type)) + " private key must be " + std::to_string(n) +
                   " bytes, got " + std::to_string(seed.size()));
  }
  UniquePtr<EVP_PKEY> pkey(
      EVP_PKEY_new_raw_private_key(EdPkeyId(type), nullptr, seed.data(), seed.size()));
  if (pkey == nullptr) {
    return FromOpenSsl(ErrorCode::kInvalidArgument, "invalid EdDSA private key");
  }
  Bytes public_raw(n);
  std::size_t length = public_raw.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), public_raw.data(), &length) != 1 || length != n) {
    return FromOpenSsl(ErrorCode::kInternal, "deriving an EdDSA public key");
  }
  KISEE_ASSIGN_OR_RETURN(PublicKey public_key, EdPublicFromRaw(type, public_raw));

  SecretBytes sodium_secret;
  if (type == KeyType::kEd25519) {
    EnsureSodiumInitialized();
    sodium_secret = SecretBytes(crypto_sign_SECRETKEYBYTES);
    std::array<std::uint8_t, crypto_sign_PUBLICKEYBYTES> sodium_public{};
    crypto_sign_seed_keypair(sodium_public.data(), sodium_secret.data(), seed.data());
    // Both libraries implement RFC 8032; if they ever disagreed, signatures
    // made by one would not verify with the key published by the other.
    if (!std::equal(sodium_public.begin(), sodium_public.end(), public_raw.begin())) {
      return MakeError(ErrorCode::kInternal, "libsodium and OpenSSL derive different keys");
    }
  }
  return KeyAccess::MakePrivate(std::make_shared<const PrivateKeyData>(PrivateKeyData{
      type, std::move(pkey), std::move(public_key), SecretBytes(seed), std::move(sodium_secret)}));
}

Result<PrivateKey> EcPrivateFromScalar(KeyType type, ByteView scalar) {
  const std::size_t n = FieldSize(type);
  if (scalar.size() != n) {
    return Invalid(std::string(KeyTypeName(type)) + " private key must be " + std::to_string(n) +
                   " bytes, got " + std::to_string(scalar.size()));
  }
  UniquePtr<EC_GROUP> group(EC_GROUP_new_by_curve_name(CurveNid(type)));
  UniquePtr<BN_CTX> bn_context(BN_CTX_secure_new());
  UniquePtr<BIGNUM> d(BN_secure_new());
  if (group == nullptr || bn_context == nullptr || d == nullptr) {
    return FromOpenSsl(ErrorCode::kInternal, "preparing an EC key");
  }
  BN_set_flags(d.get(), BN_FLG_CONSTTIME);
  if (BN_bin2bn(scalar.data(), static_cast<int>(scalar.size()), d.get()) == nullptr) {
    return FromOpenSsl(ErrorCode::kInternal, "reading an EC private key");
  }
  if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(group.get())) >= 0) {
    return Invalid(std::string(KeyTypeName(type)) + " private key out of range");
  }
  UniquePtr<EC_POINT> q(EC_POINT_new(group.get()));
  Bytes uncompressed(1 + 2 * n);
  if (q == nullptr ||
      EC_POINT_mul(group.get(), q.get(), d.get(), nullptr, nullptr, bn_context.get()) != 1 ||
      EC_POINT_point2oct(group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, uncompressed.data(),
                         uncompressed.size(), bn_context.get()) != uncompressed.size()) {
    return FromOpenSsl(ErrorCode::kInternal, "deriving an EC public key");
  }
  KISEE_ASSIGN_OR_RETURN(PublicKey public_key, EcPublicFromPoint(type, uncompressed));

  SecretBytes scalar_le(scalar);
  std::reverse(scalar_le.data(), scalar_le.data() + scalar_le.size());
  KISEE_ASSIGN_OR_RETURN(UniquePtr<EVP_PKEY> pkey,
                         EcFromParams(type, uncompressed, scalar_le.mutable_view()));
  return KeyAccess::MakePrivate(std::make_shared<const PrivateKeyData>(PrivateKeyData{
      type, std::move(pkey), std::move(public_key), SecretBytes(scalar), SecretBytes()}));
}

// PemBlock is one decoded "-----BEGIN <label>-----" block. The DER is kept
// in a SecretBytes because it may be a private key.
struct PemBlock {
  std::string label;
  bool has_headers;  // RFC 1421 headers: "Proc-Type: 4,ENCRYPTED" and friends
  SecretBytes der;
};

Result<std::vector<PemBlock>> ReadPemBlocks(std::string_view pem) {
  if (pem.empty()) {
    return Invalid("empty PEM text");
  }
  if (pem.size() > kMaxPemSize) {
    return Invalid("PEM text too large");
  }
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) {
    return FromOpenSsl(ErrorCode::kInternal, "reading PEM");
  }
  constexpr std::size_t kMaxBlocks = 8;
  std::vector<PemBlock> blocks;
  while (blocks.size() < kMaxBlocks) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long length = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &length) != 1) {
      const unsigned long error = ERR_peek_last_error();
      const bool no_more =
          ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE;
      if (!no_more) {
        return FromOpenSsl(ErrorCode::kInvalidArgument, "malformed PEM");
      }
      ClearOpenSslErrors();
      if (blocks.empty()) {
        return Invalid("no PEM block found");
      }
      return blocks;
    }
    PemBlock block{name, header != nullptr && header[0] != '\0',
                   SecretBytes(ByteView(data, static_cast<std::size_t>(length)))};
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_clear_free(data, static_cast<std::size_t>(length));
    blocks.push_back(std::move(block));
  }
  return Invalid("too many PEM blocks");
}

// AppendPem appends a PEM block of `der` under `label` to `out`, in the
// layout OpenSSL writes (64-character lines).
void AppendPem(std::string_view label, ByteView der, std::string& out) {
  std::string body =
      Base64Encode(der, {Base64Alphabet::kStandard, Base64Padding::kRequired, false});
  out.append("-----BEGIN ").append(label).append("-----\n");
  for (std::size_t i = 0; i < body.size(); i += 64) {
    out.append(body, i, 64).push_back('\n');
  }
  out.append("-----END ").append(label).append("-----\n");
  SecureWipe(body);
}

std::size_t PemSize(std::string_view label, std::size_t der_size) {
  const std::size_t body = 4 * ((der_size + 2) / 3);
  const std::size_t lines = (body + 63) / 64;
  return 2 * (label.size() + 16) + body + lines;
}

Result<PrivateKey> ParsePkcs8(ByteView der) {
  const unsigned char* cursor = der.data();
  UniquePtr<PKCS8_PRIV_KEY_INFO> info(
      d2i_PKCS8_PRIV_KEY_INFO(nullptr, &cursor, static_cast<long>(der.size())));
  if (info == nullptr) {
    return FromOpenSsl(ErrorCode::kInvalidArgument, "malformed PKCS#8 private key");
  }
  if (cursor != der.data() + der.size()) {
    return Invalid("trailing bytes after the PKCS#8 private key");
  }
  UniquePtr<EVP_PKEY> pkey(EVP_PKCS82PKEY(info.get()));
  if (pkey == nullptr) {
    return FromOpenSsl(ErrorCode::kInvalidArgument, "unsupported PKCS#8 private key");
  }
  return internal::PrivateKeyFromEvp(pkey.get());
}

Result<PrivateKey> ParseSec1(ByteView der) {
  const unsigned char* cursor = der.data();
  UniquePtr<EVP_PKEY> pkey(
      d2i_PrivateKey(EVP_PKEY_EC, nullptr, &cursor, static_cast<long>(der.size())));
  if (pkey == nullptr) {
    return FromOpenSsl(ErrorCode::kInvalidArgument, "malformed SEC1 EC private key");
  }
  if (cursor != der.data() + der.size()) {
    return Invalid("trailing bytes after the SEC1 EC private key");
  }
  return internal::PrivateKeyFromEvp(pkey.get());
}

// LooksLikePkcs8 tells PKCS#8 from SEC1 without error noise: both are a
// SEQUENCE starting with an INTEGER version, but PKCS#8's is followed by an
// AlgorithmIdentifier SEQUENCE and SEC1's by the OCTET STRING key.
bool LooksLikePkcs8(ByteView der) {
  const unsigned char* cursor = der.data();
  UniquePtr<PKCS8_PRIV_KEY_INFO> info(
      d2i_PKCS8_PRIV_KEY_INFO(nullptr, &cursor, static_cast<long>(der.size())));
  ClearOpenSslErrors();
  return info != nullptr;
}

}  // namespace

// --- PublicKey -------------------------------------------------------------

PublicKey::PublicKey(std::shared_ptr<const PublicKeyData> data) : data_(std::move(data)) {}

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  KISEE_ASSIGN_OR_RETURN(std::vector<PemBlock> blocks, ReadPemBlocks(pem));
  if (blocks.size() != 1) {
    return Invalid("expected one PEM block, found " + std::to_string(blocks.size()));
  }
  if (blocks[0].label != kPublicKeyLabel) {
    return Invalid("expected a PEM \"PUBLIC KEY\" block, found \"" + blocks[0].label.substr(0, 40) +
                   "\"");
  }
  return FromDer(blocks[0].der.view());
}

Result<PublicKey> PublicKey::FromDer(ByteView spki_der) {
  if (spki_der.empty() || spki_der.size() > kMaxDerSize) {
    return Invalid("public key DER empty or too large");
  }
  const unsigned char* cursor = spki_der.data();
  UniquePtr<EVP_PKEY> pkey(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(spki_der.size())));
  if (pkey == nullptr) {
    return FromOpenSsl(ErrorCode::kInvalidArgument, "malformed SubjectPublicKeyInfo");
  }
  if (cursor != spki_der.data() + spki_der.size()) {
    return Invalid("trailing bytes after the SubjectPublicKeyInfo");
  }
  return internal::PublicKeyFromEvp(pkey.get());
}

Result<PublicKey> PublicKey::FromRaw(KeyType type, ByteView raw) {
  if (IsEcdsa(type)) {
    return EcPublicFromPoint(type, raw);
  }
  return EdPublicFromRaw(type, raw);
}

Result<PublicKey> PublicKey::FromAffine(KeyType type, ByteView x, ByteView y) {
  if (!IsEcdsa(type)) {
    if (!y.empty()) {
      return Invalid("an EdDSA public key has no y coordinate");
    }
    return EdPublicFromRaw(type, x);
  }
  const std::size_t n = FieldSize(type);
  if (x.size() != n || y.size() != n) {
    return Invalid(std::string(KeyTypeName(type)) + " coordinates must be " + std::to_string(n) +
                   " bytes each");
  }
  Bytes point;
  point.reserve(1 + 2 * n);
  point.push_back(0x04);
  point.insert(point.end(), x.begin(), x.end());
  point.insert(point.end(), y.begin(), y.end());
  return EcPublicFromPoint(type, point);
}

KeyType PublicKey::type() const { return data_->type; }

const Bytes& PublicKey::spki_der() const { return data_->spki_der; }

std::string PublicKey::ToPem() const {
  std::string pem;
  pem.reserve(PemSize(kPublicKeyLabel, data_->spki_der.size()));
  AppendPem(kPublicKeyLabel, data_->spki_der, pem);
  return pem;
}

Bytes PublicKey::ToRaw(PointFormat format) const {
  const Bytes& raw = data_->raw;
  if (!IsEcdsa(data_->type) || format == PointFormat::kUncompressed) {
    return raw;
  }
  // raw is 0x04‖x‖y: the compressed form keeps x and the parity of y.
  const std::size_t n = FieldSize(data_->type);
  Bytes compressed(raw.begin(), raw.begin() + 1 + static_cast<std::ptrdiff_t>(n));
  compressed[0] = (raw.back() & 1) != 0 ? 0x03 : 0x02;
  return compressed;
}

AffinePoint PublicKey::ToAffine() const {
  const Bytes& raw = data_->raw;
  if (!IsEcdsa(data_->type)) {
    return {raw, {}};
  }
  const auto n = static_cast<std::ptrdiff_t>(FieldSize(data_->type));
  return {Bytes(raw.begin() + 1, raw.begin() + 1 + n), Bytes(raw.begin() + 1 + n, raw.end())};
}

const Sha256Digest& PublicKey::Fingerprint() const { return data_->fingerprint; }

bool operator==(const PublicKey& a, const PublicKey& b) {
  return a.data_ == b.data_ || (a.data_->type == b.data_->type && a.data_->raw == b.data_->raw);
}

// --- PrivateKey ------------------------------------------------------------

PrivateKey::PrivateKey(std::shared_ptr<const PrivateKeyData> data) : data_(std::move(data)) {}

Result<PrivateKey> PrivateKey::Generate(KeyType type) {
  EnsureSodiumInitialized();
  SecretBytes raw(FieldSize(type));
  // EC scalars are drawn uniformly by rejection (FIPS 186-5 A.2.2): a
  // candidate outside [1, order-1] is drawn again. For every supported curve
  // the order is so close to a power of two that a retry almost never
  // happens; 16 failures in a row mean the generator is broken.
  for (int attempt = 0; attempt < 16; ++attempt) {
    FillRandom(raw.mutable_view());
    if (type == KeyType::kSecp521r1) {
      raw.data()[0] &= 0x01;  // the order has 521 bits: draw 521 bits
    }
    Result<PrivateKey> key = FromRaw(type, raw.view());
    if (key || key.error().code() != ErrorCode::kInvalidArgument) {
      return key;
    }
  }
  return MakeError(ErrorCode::kInternal, "key generation kept drawing invalid scalars");
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  KISEE_ASSIGN_OR_RETURN(std::vector<PemBlock> blocks, ReadPemBlocks(pem));
  const PemBlock* key = nullptr;
  for (const PemBlock& block : blocks) {
    if (block.label == "EC PARAMETERS") {
      continue;  // the curve is named again inside the key
    }
    if (key != nullptr) {
      return Invalid("more than one PEM block besides EC PARAMETERS");
    }
    key = &block;
  }
  if (key == nullptr) {
    return Invalid("no private key block in the PEM text");
  }
  if (key->label == "ENCRYPTED PRIVATE KEY" || key->has_headers) {
    return Invalid("encrypted private keys are not supported");
  }
  if (key->label == kPkcs8Label) {
    return ParsePkcs8(key->der.view());
  }
  if (key->label == kSec1Label) {
    return ParseSec1(key->der.view());
  }
  return Invalid("expected a PEM \"PRIVATE KEY\" or \"EC PRIVATE KEY\" block, found \"" +
                 key->label.substr(0, 40) + "\"");
}

Result<PrivateKey> PrivateKey::FromDer(ByteView der) {
  if (der.empty() || der.size() > kMaxDerSize) {
    return Invalid("private key DER empty or too large");
  }
  if (LooksLikePkcs8(der)) {
    return ParsePkcs8(der);
  }
  return ParseSec1(der);
}

Result<PrivateKey> PrivateKey::FromRaw(KeyType type, ByteView raw) {
  if (IsEcdsa(type)) {
    return EcPrivateFromScalar(type, raw);
  }
  return EdPrivateFromSeed(type, raw);
}

KeyType PrivateKey::type() const { return data_->type; }

const PublicKey& PrivateKey::public_key() const { return data_->public_key; }

Result<SecretBytes> PrivateKey::ToDer(PrivateKeyEncoding encoding) const {
  if (encoding == PrivateKeyEncoding::kSec1) {
    if (!IsEcdsa(data_->type)) {
      return Invalid("SEC1 encodes EC keys only, not " + std::string(KeyTypeName(data_->type)));
    }
    // For an EC key, i2d_PrivateKey writes the type-specific structure:
    // SEC1 ECPrivateKey with the named curve and the public key.
    const int length = i2d_PrivateKey(data_->pkey.get(), nullptr);
    if (length <= 0) {
      return FromOpenSsl(ErrorCode::kInternal, "encoding an EC private key");
    }
    SecretBytes der(static_cast<std::size_t>(length));
    unsigned char* out = der.data();
    if (i2d_PrivateKey(data_->pkey.get(), &out) != length) {
      return FromOpenSsl(ErrorCode::kInternal, "encoding an EC private key");
    }
    return der;
  }
  UniquePtr<PKCS8_PRIV_KEY_INFO> info(EVP_PKEY2PKCS8(data_->pkey.get()));
  if (info == nullptr) {
    return FromOpenSsl(ErrorCode::kInternal, "encoding a PKCS#8 private key");
  }
  const int length = i2d_PKCS8_PRIV_KEY_INFO(info.get(), nullptr);
  if (length <= 0) {
    return FromOpenSsl(ErrorCode::kInternal, "encoding a PKCS#8 private key");
  }
  SecretBytes der(static_cast<std::size_t>(length));
  unsigned char* out = der.data();
  if (i2d_PKCS8_PRIV_KEY_INFO(info.get(), &out) != length) {
    return FromOpenSsl(ErrorCode::kInternal, "encoding a PKCS#8 private key");
  }
  return der;
}

Result<SecretBytes> PrivateKey::ToPem(PrivateKeyEncoding encoding) const {
  KISEE_ASSIGN_OR_RETURN(SecretBytes der, ToDer(encoding));
  const std::string_view label = encoding == PrivateKeyEncoding::kSec1 ? kSec1Label : kPkcs8Label;
  // Reserved to the exact size so that no reallocation leaves a copy behind.
  std::string pem;
  pem.reserve(PemSize(label, der.size()));
  AppendPem(label, der.view(), pem);
  SecretBytes result{std::string_view(pem)};
  SecureWipe(pem);
  return result;
}

SecretBytes PrivateKey::ToRaw() const { return data_->raw.Clone(); }

// --- internal: the EVP bridge ------------------------------------------------

namespace internal {

EVP_PKEY* GetEvpPkey(const PublicKey& key) { return KeyAccess::Data(key).pkey.get(); }

EVP_PKEY* GetEvpPkey(const PrivateKey& key) { return KeyAccess::Data(key).pkey.get(); }

Result<PublicKey> PublicKeyFromEvp(const EVP_PKEY* pkey) {
  KISEE_ASSIGN_OR_RETURN(KeyType type, TypeOfEvp(pkey));
  if (!IsEcdsa(type)) {
    Bytes raw(FieldSize(type));
    std::size_t length = raw.size();
    if (EVP_PKEY_get_raw_public_key(pkey, raw.data(), &length) != 1 || length != raw.size()) {
      return FromOpenSsl(ErrorCode::kInvalidArgument, "reading an EdDSA public key");
    }
    return EdPublicFromRaw(type, raw);
  }
  std::array<std::uint8_t, kMaxPointSize> point{};
  std::size_t length = 0;
  if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(),
                                      &length) != 1) {
    return FromOpenSsl(ErrorCode::kInvalidArgument, "reading an EC public key");
  }
  return EcPublicFromPoint(type, ByteView(point.data(), length));
}

Result<PrivateKey> PrivateKeyFromEvp(const EVP_PKEY* pkey) {
  KISEE_ASSIGN_OR_RETURN(KeyType type, TypeOfEvp(pkey));
  SecretBytes raw(FieldSize(type));
  if (!IsEcdsa(type)) {
    std::size_t length = raw.size();
    if (EVP_PKEY_get_raw_private_key(pkey, raw.data(), &length) != 1 || length != raw.size()) {
      return FromOpenSsl(ErrorCode::kInvalidArgument, "no EdDSA private key");
    }
    return EdPrivateFromSeed(type, raw.view());
  }
  BIGNUM* scalar = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &scalar) != 1) {
    return FromOpenSsl(ErrorCode::kInvalidArgument, "no EC private key");
  }
  UniquePtr<BIGNUM> owned(scalar);
  if (BN_bn2binpad(owned.get(), raw.data(), static_cast<int>(raw.size())) < 0) {
    return Invalid(std::string(KeyTypeName(type)) + " private key out of range");
  }
  return EcPrivateFromScalar(type, raw.view());
}

const EVP_MD* SignatureDigest(KeyType type) { return IsEcdsa(type) ? EVP_sha256() : nullptr; }

}  // namespace internal
}  // namespace kisee::crypto
