// The public key of a token's proof, derived in variable time.
//
// An attenuable token carries the secret key of its next block in clear: its
// proof. Verifying the token means checking that this secret belongs to the
// last block's public key: one fixed-base scalar multiplication per
// verification. libsodium does it in constant time, reading all eight
// entries of a table row for each of 64 digits (~26 µs here, a sixth of the
// two signature checks of a 2-block token). This secret is no secret from
// whoever presents the token, and without the token it grants nothing; so
// here it is derived in variable time: a signed 7-bit comb over 37
// precomputed rows (284 KiB, built on first use in about 2 ms, which is why
// keys.cc leaves a process's first proofs to libsodium), 37 mixed additions
// and no doubling, ~11 µs. Keys that are secrets (a root key, a key read
// from a file or generated) still go through libsodium.
//
// Arithmetic: GF(2^255 - 19) in five 51-bit limbs; points on
// -x^2 + y^2 = 1 + d x^2 y^2 in extended coordinates (X:Y:Z:T), x = X/Z,
// y = Y/Z, xy = T/Z; the addition law (Hisil-Wong-Carter-Dawson 2008) is
// complete on this curve, so no case needs special handling.
#include <sodium.h>

#include <array>
#include <cstdint>
#include <memory>

#include "biscuit/crypto/crypto.h"

namespace kisee::biscuit::crypto {
namespace {

using u64 = std::uint64_t;
__extension__ using u128 = unsigned __int128;  // GCC and Clang
constexpr u64 kMask = (u64{1} << 51) - 1;

// Limb bounds: Mul and Square take limbs below 2^55 and return limbs below
// 2^51 + 2^21; Add and Sub take such outputs (limbs below 2^53) and return
// limbs below 2^55.
struct Fe {
  u64 v[5];
};

constexpr Fe kZero{{0, 0, 0, 0, 0}};
constexpr Fe kOne{{1, 0, 0, 0, 0}};
// 2d, d = -121665/121666.
constexpr Fe kD2{
    {0x69b9426b2f159, 0x35050762add7a, 0x3cf44c0038052, 0x6738cc7407977, 0x2406d9dc56dff}};
// The base point (RFC 8032 §5.1): y = 4/5, x even.
constexpr Fe kBaseX{
    {0x62d608f25d51a, 0x412a4b4f6592a, 0x75b7171a4b31d, 0x1ff60527118fe, 0x216936d3cd6e5}};
constexpr Fe kBaseY{
    {0x6666666666658, 0x4cccccccccccc, 0x1999999999999, 0x3333333333333, 0x6666666666666}};

Fe Add(const Fe& a, const Fe& b) {
  return {{a.v[0] + b.v[0], a.v[1] + b.v[1], a.v[2] + b.v[2], a.v[3] + b.v[3], a.v[4] + b.v[4]}};
}

// a - b + 4p, so that no limb goes below zero.
Fe Sub(const Fe& a, const Fe& b) {
  constexpr u64 k4p0 = 4 * ((u64{1} << 51) - 19);
  constexpr u64 k4p = 4 * ((u64{1} << 51) - 1);
  return {{a.v[0] + k4p0 - b.v[0], a.v[1] + k4p - b.v[1], a.v[2] + k4p - b.v[2],
           a.v[3] + k4p - b.v[3], a.v[4] + k4p - b.v[4]}};
}

[[gnu::always_inline]] inline Fe Carry(u128 r0, u128 r1, u128 r2, u128 r3, u128 r4) {
  r1 += r0 >> 51;
  r2 += r1 >> 51;
  r3 += r2 >> 51;
  r4 += r3 >> 51;
  const u128 low = (static_cast<u64>(r0) & kMask) + (r4 >> 51) * 19;
  return {
      {static_cast<u64>(low) & kMask, (static_cast<u64>(r1) & kMask) + static_cast<u64>(low >> 51),
       static_cast<u64>(r2) & kMask, static_cast<u64>(r3) & kMask, static_cast<u64>(r4) & kMask}};
}

[[gnu::always_inline]] inline Fe Mul(const Fe& f, const Fe& g) {
  const u64 f0 = f.v[0], f1 = f.v[1], f2 = f.v[2], f3 = f.v[3], f4 = f.v[4];
  const u64 g0 = g.v[0], g1 = g.v[1], g2 = g.v[2], g3 = g.v[3], g4 = g.v[4];
  const u64 g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
  auto m = [](u64 a, u64 b) { return static_cast<u128>(a) * b; };
  return Carry(m(f0, g0) + m(f1, g4_19) + m(f2, g3_19) + m(f3, g2_19) + m(f4, g1_19),
               m(f0, g1) + m(f1, g0) + m(f2, g4_19) + m(f3, g3_19) + m(f4, g2_19),
               m(f0, g2) + m(f1, g1) + m(f2, g0) + m(f3, g4_19) + m(f4, g3_19),
               m(f0, g3) + m(f1, g2) + m(f2, g1) + m(f3, g0) + m(f4, g4_19),
               m(f0, g4) + m(f1, g3) + m(f2, g2) + m(f3, g1) + m(f4, g0));
}

[[gnu::always_inline]] inline Fe Square(const Fe& f) {
  const u64 f0 = f.v[0], f1 = f.v[1], f2 = f.v[2], f3 = f.v[3], f4 = f.v[4];
  const u64 f0_2 = 2 * f0, f1_2 = 2 * f1, f2_2 = 2 * f2, f3_2 = 2 * f3;
  const u64 f3_19 = 19 * f3, f4_19 = 19 * f4;
  auto m = [](u64 a, u64 b) { return static_cast<u128>(a) * b; };
  return Carry(m(f0, f0) + m(f1_2, f4_19) + m(f2_2, f3_19),
               m(f0_2, f1) + m(f2_2, f4_19) + m(f3, f3_19),
               m(f0_2, f2) + m(f1, f1) + m(f3_2, f4_19), m(f0_2, f3) + m(f1_2, f2) + m(f4, f4_19),
               m(f0_2, f4) + m(f1_2, f3) + m(f2, f2));
}

Fe SquareTimes(Fe f, int n) {
  for (int i = 0; i < n; ++i) f = Square(f);
  return f;
}

// z^(p-2) = z^(2^255 - 21).
Fe Invert(const Fe& z) {
  const Fe z2 = Square(z);
  const Fe z9 = Mul(SquareTimes(z2, 2), z);
  const Fe z11 = Mul(z9, z2);
  const Fe z_5 = Mul(Square(z11), z9);                   // z^(2^5 - 1)
  const Fe z_10 = Mul(SquareTimes(z_5, 5), z_5);         // z^(2^10 - 1)
  const Fe z_20 = Mul(SquareTimes(z_10, 10), z_10);      // z^(2^20 - 1)
  const Fe z_40 = Mul(SquareTimes(z_20, 20), z_20);      // z^(2^40 - 1)
  const Fe z_50 = Mul(SquareTimes(z_40, 10), z_10);      // z^(2^50 - 1)
  const Fe z_100 = Mul(SquareTimes(z_50, 50), z_50);     // z^(2^100 - 1)
  const Fe z_200 = Mul(SquareTimes(z_100, 100), z_100);  // z^(2^200 - 1)
  const Fe z_250 = Mul(SquareTimes(z_200, 50), z_50);    // z^(2^250 - 1)
  return Mul(SquareTimes(z_250, 5), z11);                // z^(2^255 - 32 + 11)
}

// The canonical 32-byte little-endian encoding (value reduced below p).
std::array<std::uint8_t, 32> Pack(const Fe& f) {
  u64 h[5] = {f.v[0], f.v[1], f.v[2], f.v[3], f.v[4]};
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < 4; ++i) {
      h[i + 1] += h[i] >> 51;
      h[i] &= kMask;
    }
    h[0] += 19 * (h[4] >> 51);
    h[4] &= kMask;
  }
  // The value is now below 2p; q = 1 exactly when it is at least p.
  u64 q = (h[0] + 19) >> 51;
  for (int i = 1; i < 5; ++i) q = (h[i] + q) >> 51;
  h[0] += 19 * q;
  for (int i = 0; i < 4; ++i) {
    h[i + 1] += h[i] >> 51;
    h[i] &= kMask;
  }
  h[4] &= kMask;  // drops q * 2^255
  const u64 w[4] = {h[0] | h[1] << 51, h[1] >> 13 | h[2] << 38, h[2] >> 26 | h[3] << 25,
                    h[3] >> 39 | h[4] << 12};
  std::array<std::uint8_t, 32> out{};
  for (int i = 0; i < 32; ++i) out[i] = static_cast<std::uint8_t>(w[i / 8] >> (8 * (i % 8)));
  return out;
}

struct Point {  // extended coordinates
  Fe x, y, z, t;
};

struct Affine {  // (y + x, y - x, 2dxy) of an affine point
  Fe y_plus_x, y_minus_x, xy2d;
};

constexpr Point kIdentity{kZero, kOne, kOne, kZero};

// p + q: add-2008-hwcd-3, 9 multiplications; only for building the table.
Point AddPoints(const Point& p, const Point& q) {
  const Fe a = Mul(Sub(p.y, p.x), Sub(q.y, q.x));
  const Fe b = Mul(Add(p.y, p.x), Add(q.y, q.x));
  const Fe c = Mul(Mul(p.t, kD2), q.t);
  const Fe zz = Mul(p.z, q.z);
  const Fe d = Add(zz, zz);
  const Fe e = Sub(b, a), f = Sub(d, c), g = Add(d, c), h = Add(b, a);
  return {Mul(e, f), Mul(g, h), Mul(f, g), Mul(e, h)};
}

// p + q (or p - q) with q affine: madd-2008-hwcd-3, 7 multiplications.
Point AddAffine(const Point& p, const Affine& q, bool negate) {
  const Fe& q_plus = negate ? q.y_minus_x : q.y_plus_x;
  const Fe& q_minus = negate ? q.y_plus_x : q.y_minus_x;
  const Fe b = Mul(Add(p.y, p.x), q_plus);
  const Fe a = Mul(Sub(p.y, p.x), q_minus);
  const Fe c = Mul(p.t, q.xy2d);
  const Fe d = Add(p.z, p.z);
  const Fe e = Sub(b, a), h = Add(b, a);
  const Fe f = negate ? Add(d, c) : Sub(d, c);
  const Fe g = negate ? Sub(d, c) : Add(d, c);
  return {Mul(e, f), Mul(g, h), Mul(f, g), Mul(e, h)};
}

// Signed digits of width kWindow: a scalar below 2^255 is
// sum(d_i * 2^(kWindow * i)) with d_i in [-(2^(kWindow-1)) + 1, 2^(kWindow-1)].
constexpr int kWindow = 7;
constexpr int kDigits = (256 + kWindow - 1) / kWindow;  // the top digit takes the last carry
constexpr int kPerDigit = 1 << (kWindow - 1);

// table[i][j] = (j + 1) * 2^(kWindow * i) * B, affine.
using Table = std::array<std::array<Affine, kPerDigit>, kDigits>;

std::unique_ptr<const Table> BuildTable() {
  constexpr std::size_t kCount = std::size_t{kDigits} * kPerDigit;
  auto points = std::make_unique<std::array<Point, kCount>>();
  Point base{kBaseX, kBaseY, kOne, Mul(kBaseX, kBaseY)};
  for (int i = 0; i < kDigits; ++i) {
    Point* row = points->data() + std::size_t(i) * kPerDigit;
    row[0] = base;
    for (int j = 1; j < kPerDigit; ++j) row[j] = AddPoints(row[j - 1], base);
    // The next digit's base: 2^kWindow * base = 2 * (kPerDigit * base).
    const Point& top = row[kPerDigit - 1];
    base = AddPoints(top, top);
  }
  // One inversion for all: prefix products, then back to each 1/Z.
  auto prefix = std::make_unique<std::array<Fe, kCount>>();
  Fe running = kOne;
  for (std::size_t k = 0; k < kCount; ++k) {
    (*prefix)[k] = running;
    running = Mul(running, (*points)[k].z);
  }
  Fe inverse = Invert(running);
  auto table = std::make_unique<Table>();
  for (std::size_t k = kCount; k-- > 0;) {
    const Point& p = (*points)[k];
    const Fe z_inverse = Mul(inverse, (*prefix)[k]);
    inverse = Mul(inverse, p.z);
    const Fe x = Mul(p.x, z_inverse), y = Mul(p.y, z_inverse);
    (*table)[k / kPerDigit][k % kPerDigit] = {Add(y, x), Sub(y, x), Mul(Mul(x, y), kD2)};
  }
  return table;
}

const Table& BaseTable() {
  static const std::unique_ptr<const Table> table = BuildTable();
  return *table;
}

}  // namespace

std::array<std::uint8_t, 32> Ed25519BaseMultiplyVartime(
    const std::array<std::uint8_t, 32>& scalar) {
  u64 words[5] = {};
  for (int i = 0; i < 32; ++i) words[i / 8] |= u64{scalar[i]} << (8 * (i % 8));
  words[3] &= ~(u64{1} << 63);
  const Table& table = BaseTable();
  Point acc = kIdentity;
  int carry = 0;
  for (int i = 0; i < kDigits; ++i) {
    const int bit = i * kWindow, word = bit / 64, shift = bit % 64;
    u64 bits = words[word] >> shift;
    if (shift + kWindow > 64) bits |= words[word + 1] << (64 - shift);
    int digit = static_cast<int>(bits & ((u64{1} << kWindow) - 1)) + carry;
    carry = digit > kPerDigit ? 1 : 0;
    digit -= carry << kWindow;
    if (digit > 0) acc = AddAffine(acc, table[i][digit - 1], false);
    if (digit < 0) acc = AddAffine(acc, table[i][-digit - 1], true);
  }
  const Fe z_inverse = Invert(acc.z);
  std::array<std::uint8_t, 32> out = Pack(Mul(acc.y, z_inverse));
  out[31] |= static_cast<std::uint8_t>((Pack(Mul(acc.x, z_inverse))[0] & 1) << 7);
  return out;
}

void Ed25519FromProofSeed(ByteView seed, SecretBytes& expanded, Bytes& public_key) {
  SecretBytes hash(crypto_hash_sha512_BYTES);
  crypto_hash_sha512(hash.data(), seed.data(), seed.size());
  std::array<std::uint8_t, 32> scalar;
  for (std::size_t i = 0; i < scalar.size(); ++i) scalar[i] = hash.data()[i];
  scalar[0] &= 248;
  scalar[31] &= 127;
  scalar[31] |= 64;
  const std::array<std::uint8_t, 32> point = Ed25519BaseMultiplyVartime(scalar);
  sodium_memzero(scalar.data(), scalar.size());
  public_key.assign(point.begin(), point.end());
  // libsodium's signing key layout: seed, then public key.
  expanded = SecretBytes(crypto_sign_SECRETKEYBYTES);
  for (std::size_t i = 0; i < 32; ++i) {
    expanded.data()[i] = seed[i];
    expanded.data()[32 + i] = point[i];
  }
}

}  // namespace kisee::biscuit::crypto
