// Feeds arbitrary text to JWT verification and JWKS parsing. The key is
// fixed; most inputs fail early, so the fuzzer also splices the input into
// a genuinely signed token's payload to reach the claims parser.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kisee/core/bytes.h"
#include "kisee/core/clock.h"
#include "kisee/crypto/keys.h"
#include "kisee/jwt/jwk.h"
#include "kisee/jwt/jwt.h"

namespace {

struct Fixture {
  kisee::crypto::PrivateKey key = *kisee::crypto::PrivateKey::FromRaw(
      kisee::crypto::KeyType::kEd25519, kisee::ToBytes(std::string(32, 'k')));
  kisee::jwt::JwtVerifier verifier = *kisee::jwt::JwtVerifier::Create(
      {*kisee::jwt::VerificationKey::ForKey("kid", key.public_key())});
  kisee::FakeClock clock{kisee::TimePoint(std::chrono::seconds(1'700'000'000))};
  kisee::jwt::JwtValidator validator =
      *kisee::jwt::JwtValidatorBuilder().SetClock(clock).AllowMissingExpiration().Build();
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Fixture* fixture = new Fixture();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)fixture->verifier.VerifyAndDecode(text, fixture->validator);
  (void)kisee::jwt::ParseJwks(text);
  // A signed token whose payload is the input.
  const std::string input =
      kisee::Base64UrlEncode(kisee::AsBytes(R"({"typ":"JWT","alg":"EdDSA","kid":"kid"})")) + "." +
      kisee::Base64UrlEncode(kisee::AsBytes(text));
  auto sig = fixture->key.Sign(kisee::AsBytes(input));
  if (sig) {
    (void)fixture->verifier.VerifyAndDecode(input + "." + kisee::Base64UrlEncode(*sig),
                                            fixture->validator);
  }
  return 0;
}
