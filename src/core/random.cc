#include "kisee/core/random.h"

#include <sodium.h>

#include <cstdlib>

namespace kisee {
namespace {

// libsodium must be initialised once before use; sodium_init is thread-safe
// and idempotent. Failure means no usable entropy source: nothing is safe.
void EnsureSodium() {
  static const bool ready = [] {
    if (sodium_init() < 0) std::abort();
    return true;
  }();
  (void)ready;
}

}  // namespace

void FillRandom(std::span<std::uint8_t> out) {
  EnsureSodium();
  randombytes_buf(out.data(), out.size());
}

Bytes RandomBytes(std::size_t n) {
  Bytes out(n);
  FillRandom(out);
  return out;
}

std::uint32_t RandomUniform(std::uint32_t upper_bound) {
  EnsureSodium();
  return randombytes_uniform(upper_bound);
}

std::string RandomString(std::size_t length, std::string_view alphabet) {
  std::string out;
  out.reserve(length);
  for (std::size_t i = 0; i < length; ++i) {
    out += alphabet[RandomUniform(static_cast<std::uint32_t>(alphabet.size()))];
  }
  return out;
}

std::string RandomId() { return RandomString(22, kIdAlphabet); }

}  // namespace kisee
