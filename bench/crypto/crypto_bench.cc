// Benchmarks of the crypto and jwt libraries (bench/crypto/run).
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <string>

#include "crypto/internal/evp_key.h"
#include "crypto/internal/openssl.h"
#include "kisee/core/clock.h"
#include "kisee/crypto/digest.h"
#include "kisee/crypto/keys.h"
#include "kisee/jwt/jwt.h"

namespace kisee {
namespace {

using crypto::KeyType;

// A JWT signing input is a few hundred bytes.
const std::string kMessage(300, 'm');

crypto::PrivateKey KeyOf(benchmark::State& state) {
  auto key = crypto::PrivateKey::Generate(static_cast<KeyType>(state.range(0)));
  if (!key) {
    state.SkipWithError("key generation failed");
  }
  state.SetLabel(std::string(crypto::KeyTypeName(key->type())));
  return *key;
}

void BM_Sign(benchmark::State& state) {
  const crypto::PrivateKey key = KeyOf(state);
  for (auto _ : state) {
    benchmark::DoNotOptimize(key.Sign(AsBytes(kMessage)));
  }
}

void BM_Verify(benchmark::State& state) {
  const crypto::PrivateKey key = KeyOf(state);
  const Bytes sig = *key.Sign(AsBytes(kMessage));
  for (auto _ : state) {
    benchmark::DoNotOptimize(key.public_key().Verify(AsBytes(kMessage), sig));
  }
}

// The same operations through OpenSSL's generic EVP code, for comparison.
void BM_OpenSslSign(benchmark::State& state) {
  const crypto::PrivateKey key = KeyOf(state);
  EVP_PKEY* pkey = crypto::internal::GetEvpPkey(key);
  unsigned char sig[256];
  for (auto _ : state) {
    crypto::internal::UniquePtr<EVP_MD_CTX> context(EVP_MD_CTX_new());
    std::size_t length = sizeof(sig);
    EVP_DigestSignInit_ex(context.get(), nullptr, crypto::IsEcdsa(key.type()) ? "SHA256" : nullptr,
                          nullptr, nullptr, pkey, nullptr);
    EVP_DigestSign(context.get(), sig, &length,
                   reinterpret_cast<const unsigned char*>(kMessage.data()), kMessage.size());
    benchmark::DoNotOptimize(length);
  }
}

void BM_OpenSslVerify(benchmark::State& state) {
  const crypto::PrivateKey key = KeyOf(state);
  EVP_PKEY* pkey = crypto::internal::GetEvpPkey(key.public_key());
  const Bytes sig = *key.Sign(AsBytes(kMessage), crypto::SignatureFormat::kDer);
  for (auto _ : state) {
    crypto::internal::UniquePtr<EVP_MD_CTX> context(EVP_MD_CTX_new());
    EVP_DigestVerifyInit_ex(context.get(), nullptr,
                            crypto::IsEcdsa(key.type()) ? "SHA256" : nullptr, nullptr, nullptr,
                            pkey, nullptr);
    benchmark::DoNotOptimize(
        EVP_DigestVerify(context.get(), sig.data(), sig.size(),
                         reinterpret_cast<const unsigned char*>(kMessage.data()), kMessage.size()));
  }
}

nlohmann::ordered_json Claims() {
  return {{"iss", "example.com"},
          {"sub", "alice"},
          {"exp", 4102444800},
          {"jti", "2b4c6d8f2b4c6d8f2b4c6d"},
          {"iat", 1700000000}};
}

void BM_JwtSign(benchmark::State& state) {
  auto signer = *jwt::JwtSigner::Create(KeyOf(state), "kid");
  const nlohmann::ordered_json claims = Claims();
  for (auto _ : state) {
    benchmark::DoNotOptimize(signer.SignAndEncode(claims));
  }
}

void BM_JwtVerifyAndDecode(benchmark::State& state) {
  auto signer = *jwt::JwtSigner::Create(KeyOf(state), "kid");
  const std::string token = *signer.SignAndEncode(Claims());
  auto verifier = *jwt::JwtVerifier::Create({signer.verification_key()});
  auto validator = *jwt::JwtValidatorBuilder().ExpectIssuer("example.com").Build();
  for (auto _ : state) {
    benchmark::DoNotOptimize(verifier.VerifyAndDecode(token, validator));
  }
}

void AllTypes(benchmark::internal::Benchmark* b) {
  for (KeyType type : crypto::kAllKeyTypes) {
    b->Arg(static_cast<int>(type));
  }
}

void JwtTypes(benchmark::internal::Benchmark* b) {
  for (KeyType type : {KeyType::kSecp256r1, KeyType::kSecp256k1, KeyType::kEd25519}) {
    b->Arg(static_cast<int>(type));
  }
}

BENCHMARK(BM_Sign)->Apply(AllTypes);
BENCHMARK(BM_OpenSslSign)->Apply(AllTypes);
BENCHMARK(BM_Verify)->Apply(AllTypes);
BENCHMARK(BM_OpenSslVerify)->Apply(AllTypes);
BENCHMARK(BM_JwtSign)->Apply(JwtTypes);
BENCHMARK(BM_JwtVerifyAndDecode)->Apply(JwtTypes);

}  // namespace
}  // namespace kisee

BENCHMARK_MAIN();
