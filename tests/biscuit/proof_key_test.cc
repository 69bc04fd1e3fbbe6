// The variable-time derivation of a proof's public key against libsodium's
// constant-time one, and a token whose proof does not match its last key.
#include <gtest/gtest.h>
#include <sodium.h>

#include "biscuit/crypto/crypto.h"
#include "kisee/biscuit/biscuit.h"

namespace kisee::biscuit {
namespace {

using Scalar = std::array<std::uint8_t, 32>;

// libsodium's [scalar]B (bit 255 ignored); the identity where libsodium
// refuses to return it.
Scalar SodiumBaseMultiply(Scalar scalar) {
  Scalar out{};
  if (crypto_scalarmult_ed25519_base_noclamp(out.data(), scalar.data()) != 0) {
    out = Scalar{};
    out[0] = 1;
  }
  return out;
}

Scalar FromWindows(int window, int digit) {  // every `window`-bit digit set to `digit`
  Scalar s{};
  for (int bit = 0; bit + window <= 255; bit += window) {
    for (int k = 0; k < window; ++k) {
      if ((digit >> k) & 1) s[(bit + k) / 8] |= static_cast<std::uint8_t>(1 << ((bit + k) % 8));
    }
  }
  return s;
}

TEST(ProofKey, BaseMultiplicationMatchesLibsodium) {
  ASSERT_GE(sodium_init(), 0);
  std::vector<Scalar> scalars;
  for (int small : {0, 1, 2, 3, 8, 63, 64, 65, 127, 128, 129, 255}) {
    Scalar s{};
    s[0] = static_cast<std::uint8_t>(small);
    scalars.push_back(s);
  }
  // The group order L and its neighbours.
  const Scalar order = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                        0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                        0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
  for (int delta : {-1, 0, 1}) {
    Scalar s = order;
    s[0] = static_cast<std::uint8_t>(s[0] + delta);
    scalars.push_back(s);
  }
  Scalar all_ones;
  all_ones.fill(0xff);
  scalars.push_back(all_ones);
  // Digits at and around the signed-window boundaries, for several widths.
  for (int window = 4; window <= 8; ++window) {
    const int half = 1 << (window - 1);
    for (int digit : {half - 1, half, half + 1, 2 * half - 1}) {
      scalars.push_back(FromWindows(window, digit));
    }
  }
  for (int i = 0; i < 2000; ++i) {
    Scalar s;
    randombytes_buf(s.data(), s.size());
    scalars.push_back(s);
  }
  for (const Scalar& s : scalars) {
    EXPECT_EQ(crypto::Ed25519BaseMultiplyVartime(s), SodiumBaseMultiply(s));
  }
}

TEST(ProofKey, SeedDerivationMatchesLibsodium) {
  ASSERT_GE(sodium_init(), 0);
  for (int i = 0; i < 1000; ++i) {
    std::array<std::uint8_t, 32> seed;
    if (i == 0)
      seed.fill(0);
    else if (i == 1)
      seed.fill(0xff);
    else
      randombytes_buf(seed.data(), seed.size());
    std::array<std::uint8_t, crypto_sign_PUBLICKEYBYTES> pk;
    std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> sk;
    crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
    SecretBytes expanded;
    Bytes public_key;
    crypto::Ed25519FromProofSeed(ByteView(seed.data(), seed.size()), expanded, public_key);
    ASSERT_EQ(public_key, Bytes(pk.begin(), pk.end()));
    ASSERT_EQ(expanded.size(), sk.size());
    EXPECT_TRUE(std::equal(sk.begin(), sk.end(), expanded.data()));
  }
}

TEST(ProofKey, TokenWhoseProofIsNotTheLastKeysSecretIsRefused) {
  KeyPair root = KeyPair::Generate();
  BiscuitBuilder builder;
  ASSERT_TRUE(builder.AddCode("right(\"file1\");"));
  auto token = builder.Build(root);
  ASSERT_TRUE(token);
  BlockBuilder block;
  ASSERT_TRUE(block.AddCode("check if true;"));
  auto attenuated = token->Append(block);
  ASSERT_TRUE(attenuated);
  auto bytes = attenuated->ToBytes();
  ASSERT_TRUE(bytes);
  // A process's first proofs go through libsodium, the later ones through
  // the table (keys.cc): read enough tokens to cover both.
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(Biscuit::FromBytes(*bytes, root.public_key()));
  // The proof (field 4: nextSecret, 32 bytes) ends the message.
  ASSERT_GE(bytes->size(), 36u);
  ASSERT_EQ((*bytes)[bytes->size() - 36], 0x22);
  ASSERT_EQ((*bytes)[bytes->size() - 34], 0x0a);
  for (std::size_t byte : {bytes->size() - 1, bytes->size() - 32, bytes->size() - 16}) {
    Bytes changed = *bytes;
    changed[byte] ^= 1;
    auto parsed = Biscuit::FromBytes(changed, root.public_key());
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().kind(), ErrorKind::kInvalidSignature);
  }
  // The token keeps attenuating after a verifying parse: the derived signing
  // key signs the next block.
  auto parsed = Biscuit::FromBytes(*bytes, root.public_key());
  ASSERT_TRUE(parsed);
  auto again = parsed->Append(block);
  ASSERT_TRUE(again);
  auto again_bytes = again->ToBytes();
  ASSERT_TRUE(again_bytes);
  EXPECT_TRUE(Biscuit::FromBytes(*again_bytes, root.public_key()));
}

}  // namespace
}  // namespace kisee::biscuit
