// Cryptographically secure randomness (libsodium's randombytes, which reads
// the kernel's getrandom()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "kisee/core/bytes.h"

namespace kisee {

// FillRandom fills `out` with random bytes. Never fails.
void FillRandom(std::span<std::uint8_t> out);

// RandomBytes returns `n` random bytes.
Bytes RandomBytes(std::size_t n);

// RandomUniform returns a uniformly distributed integer in [0, upper_bound).
// REQUIRES: upper_bound > 0.
std::uint32_t RandomUniform(std::uint32_t upper_bound);

// RandomString returns `length` characters drawn uniformly and independently
// from `alphabet` (no modulo bias). REQUIRES: alphabet is not empty.
std::string RandomString(std::size_t length, std::string_view alphabet);

// kIdAlphabet: 57 unambiguous characters (no 0 O 1 I l); 22 of them carry
// more than 128 bits. Used for JWT ids.
inline constexpr std::string_view kIdAlphabet =
    "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

// RandomId returns a 22-character id from kIdAlphabet.
std::string RandomId();

}  // namespace kisee
