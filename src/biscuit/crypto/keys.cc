#include "kisee/biscuit/keys.h"

#include <atomic>

#include "biscuit/crypto/crypto.h"
#include "kisee/core/random.h"

namespace kisee::biscuit {
namespace {

// The variable-time derivation of proof keys needs a table that takes ~2 ms
// to build (3 ms of a `biscuit inspect` run's 9), what it saves over ~130
// derivations: a process that reads a few tokens keeps to libsodium and never
// builds it.
constexpr int kProofsBeforeTable = 128;
std::atomic<int> proofs_read{0};

}  // namespace

struct PrivateKey::State {
  Algorithm algorithm;
  SecretBytes secret;    // seed or scalar
  SecretBytes expanded;  // Ed25519 only: libsodium's signing key
  PublicKey public_key;
};

std::string_view AlgorithmName(Algorithm algorithm) {
  return algorithm == Algorithm::kEd25519 ? "ed25519" : "secp256r1";
}

Result<Algorithm> ParseAlgorithm(std::string_view name) {
  if (name == "ed25519") return Algorithm::kEd25519;
  if (name == "secp256r1") return Algorithm::kSecp256r1;
  return MakeError(ErrorKind::kInvalidArgument, "unknown key algorithm: " + std::string(name));
}

Result<PublicKey> PublicKey::FromBytes(Algorithm algorithm, ByteView key) {
  bool ok = algorithm == Algorithm::kEd25519 ? crypto::Ed25519ValidPublicKey(key)
                                             : crypto::P256ValidPublicKey(key);
  if (!ok) {
    return MakeError(ErrorKind::kInvalidKey,
                     "invalid " + std::string(AlgorithmName(algorithm)) + " public key");
  }
  return PublicKey(algorithm, Bytes(key.begin(), key.end()));
}

namespace {

// SplitKeyString splits "<prefix>/<hex>".
bool SplitKeyString(std::string_view text, std::string_view& prefix, std::string_view& hex) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  prefix = text.substr(0, slash);
  hex = text.substr(slash + 1);
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

Result<PublicKey> PublicKey::FromString(std::string_view text) {
  text = Trim(text);
  std::string_view prefix, hex;
  if (!SplitKeyString(text, prefix, hex)) {
    return MakeError(ErrorKind::kInvalidArgument,
                     "a public key is written ed25519/<hex> or secp256r1/<hex>");
  }
  auto algorithm = ParseAlgorithm(prefix);
  if (!algorithm) return std::unexpected<Error>(algorithm.error());
  auto bytes = HexDecode(hex);
  if (!bytes) return MakeError(ErrorKind::kInvalidArgument, "invalid hex in public key");
  return FromBytes(*algorithm, *bytes);
}

Result<PublicKey> PublicKey::FromDer(ByteView der) {
  auto parsed = crypto::PublicKeyFromDer(der);
  if (!parsed) return std::unexpected<Error>(parsed.error());
  return FromBytes(static_cast<Algorithm>(parsed->first), parsed->second);
}

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  auto parsed = crypto::PublicKeyFromPem(pem);
  if (!parsed) return std::unexpected<Error>(parsed.error());
  return FromBytes(static_cast<Algorithm>(parsed->first), parsed->second);
}

std::string PublicKey::ToString() const {
  return std::string(AlgorithmName(algorithm_)) + "/" + HexEncode(key_);
}

Result<Bytes> PublicKey::ToDer() const {
  return crypto::PublicKeyToDer(static_cast<int>(algorithm_), key_);
}

Result<std::string> PublicKey::ToPem() const {
  return crypto::PublicKeyToPem(static_cast<int>(algorithm_), key_);
}

Status PublicKey::Verify(ByteView message, ByteView signature) const {
  if (algorithm_ == Algorithm::kEd25519) {
    return crypto::Ed25519Verify(key_, message, signature);
  }
  return crypto::P256Verify(key_, message, signature);
}

Result<PrivateKey> PrivateKey::FromBytes(Algorithm algorithm, ByteView key) {
  if (algorithm == Algorithm::kEd25519) {
    if (key.size() != crypto::kEd25519KeySize) {
      return MakeError(ErrorKind::kInvalidKey, "Ed25519 private keys are 32 bytes");
    }
    SecretBytes expanded;
    Bytes pub;
    crypto::Ed25519FromSeed(key, expanded, pub);
    auto state = std::make_shared<State>(State{algorithm, SecretBytes(key), std::move(expanded),
                                               PublicKey(algorithm, std::move(pub))});
    return PrivateKey(std::move(state));
  }
  auto pub = crypto::P256PublicFromPrivate(key);
  if (!pub) return std::unexpected<Error>(pub.error());
  auto state = std::make_shared<State>(
      State{algorithm, SecretBytes(key), SecretBytes(), PublicKey(algorithm, std::move(*pub))});
  return PrivateKey(std::move(state));
}

Result<PrivateKey> PrivateKey::FromProof(Algorithm algorithm, ByteView key) {
  if (algorithm != Algorithm::kEd25519 || key.size() != crypto::kEd25519KeySize) {
    return FromBytes(algorithm, key);
  }
  SecretBytes expanded;
  Bytes pub;
  if (proofs_read.load(std::memory_order_relaxed) < kProofsBeforeTable) {
    proofs_read.fetch_add(1, std::memory_order_relaxed);
    crypto::Ed25519FromSeed(key, expanded, pub);
  } else {
    crypto::Ed25519FromProofSeed(key, expanded, pub);
  }
  auto state = std::make_shared<State>(State{algorithm, SecretBytes(key), std::move(expanded),
                                             PublicKey(algorithm, std::move(pub))});
  return PrivateKey(std::move(state));
}

Result<PrivateKey> PrivateKey::FromString(std::string_view text) {
  text = Trim(text);
  std::string_view prefix, hex;
  if (!SplitKeyString(text, prefix, hex)) {
    return MakeError(ErrorKind::kInvalidArgument,
                     "a private key is written ed25519-private/<hex> or secp256r1-private/<hex>");
  }
  if (prefix.ends_with("-private")) prefix.remove_suffix(8);
  auto algorithm = ParseAlgorithm(prefix);
  if (!algorithm) return std::unexpected<Error>(algorithm.error());
  auto bytes = HexDecode(hex);
  if (!bytes) return MakeError(ErrorKind::kInvalidArgument, "invalid hex in private key");
  auto key = FromBytes(*algorithm, *bytes);
  SecureWipe(*bytes);
  return key;
}

Result<PrivateKey> PrivateKey::FromDer(ByteView der) {
  auto parsed = crypto::PrivateKeyFromDer(der);
  if (!parsed) return std::unexpected<Error>(parsed.error());
  return FromBytes(static_cast<Algorithm>(parsed->first), parsed->second.view());
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  auto parsed = crypto::PrivateKeyFromPem(pem);
  if (!parsed) return std::unexpected<Error>(parsed.error());
  return FromBytes(static_cast<Algorithm>(parsed->first), parsed->second.view());
}

Algorithm PrivateKey::algorithm() const { return state_->algorithm; }
ByteView PrivateKey::bytes() const { return state_->secret.view(); }
const PublicKey& PrivateKey::public_key() const { return state_->public_key; }

std::string PrivateKey::ToString() const {
  return std::string(AlgorithmName(state_->algorithm)) + "-private/" +
         HexEncode(state_->secret.view());
}

Result<SecretBytes> PrivateKey::ToDer() const {
  return crypto::PrivateKeyToDer(static_cast<int>(state_->algorithm), state_->secret.view());
}

Result<std::string> PrivateKey::ToPem() const {
  return crypto::PrivateKeyToPem(static_cast<int>(state_->algorithm), state_->secret.view());
}

Result<Bytes> PrivateKey::Sign(ByteView message) const {
  if (state_->algorithm == Algorithm::kEd25519) {
    return crypto::Ed25519Sign(state_->expanded, message);
  }
  return crypto::P256Sign(state_->secret.view(), message);
}

KeyPair KeyPair::Generate(Algorithm algorithm) {
  SecretBytes secret = algorithm == Algorithm::kEd25519 ? SecretBytes(crypto::kEd25519KeySize)
                                                        : crypto::P256Generate();
  if (algorithm == Algorithm::kEd25519) {
    FillRandom(secret.mutable_view());
  }
  // A freshly generated key always converts.
  return KeyPair(*PrivateKey::FromBytes(algorithm, secret.view()));
}

}  // namespace kisee::biscuit
