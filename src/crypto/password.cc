#include "kisee/crypto/password.h"

#include <crypt.h>
#include <sodium.h>

#include <charconv>
#include <memory>
#include <thread>

#include "kisee/core/random.h"
#include "kisee/core/secret.h"

namespace kisee::crypto {
namespace {

constexpr std::string_view kArgon2idPrefix = "$argon2id$";

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Initialises libsodium once; sodium_init is itself thread-safe and
// idempotent, the static only avoids calling it on every hash.
bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

struct PhcParams {
  std::uint32_t version = 0;
  std::uint32_t memory_kib = 0;
  std::uint32_t iterations = 0;
  std::uint32_t parallelism = 0;
};

// Reads "key=number" at the start of `text` and advances past it.
bool ReadNumber(std::string_view& text, std::string_view key, std::uint32_t& out) {
  if (!StartsWith(text, key) || text.size() <= key.size() || text[key.size()] != '=') {
    return false;
  }
  text.remove_prefix(key.size() + 1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end == text.data()) {
    return false;
  }
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return true;
}

// Parses the parameter part of "$argon2id$v=19$m=..,t=..,p=..$salt$hash".
bool ParseArgon2id(std::string_view encoded, PhcParams& out) {
  if (!StartsWith(encoded, kArgon2idPrefix)) {
    return false;
  }
  std::string_view rest = encoded.substr(kArgon2idPrefix.size());
  if (!ReadNumber(rest, "v", out.version) || !StartsWith(rest, "$")) {
    return false;
  }
  rest.remove_prefix(1);
  if (!ReadNumber(rest, "m", out.memory_kib) || !StartsWith(rest, ",")) {
    return false;
  }
  rest.remove_prefix(1);
  if (!ReadNumber(rest, "t", out.iterations) || !StartsWith(rest, ",")) {
    return false;
  }
  rest.remove_prefix(1);
  return ReadNumber(rest, "p", out.parallelism) && StartsWith(rest, "$");
}

bool VerifyWithLibcrypt(std::string_view password, std::string_view encoded) {
  // crypt() works on C strings: a password with a NUL would be silently
  // truncated, so it can never be the right one.
  if (password.find('\0') != std::string_view::npos ||
      encoded.find('\0') != std::string_view::npos) {
    return false;
  }
  std::string phrase(password);
  std::string setting(encoded);
  // crypt_data is ~32 KiB: on the heap, not on a worker's stack.
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn(phrase.c_str(), setting.c_str(), data.get(), sizeof(crypt_data));
  bool ok = false;
  // libcrypt signals failure with NULL or a string starting with '*'.
  if (out != nullptr && out[0] != '*') {
    ok = ConstantTimeEquals(std::string_view(out), encoded);
  }
  SecureWipe(phrase);
  SecureWipe(
      std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(data.get()), sizeof(crypt_data)));
  return ok;
}

}  // namespace

Status ValidateArgon2Params(const Argon2Params& params) {
  const std::uint64_t bytes = std::uint64_t{params.memory_kib} * 1024;
  if (bytes < crypto_pwhash_argon2id_MEMLIMIT_MIN || bytes > crypto_pwhash_argon2id_MEMLIMIT_MAX) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "argon2id memory_kib out of range (8 .. 4294967295)");
  }
  if (params.iterations < crypto_pwhash_argon2id_OPSLIMIT_MIN) {
    return MakeError(ErrorCode::kInvalidArgument, "argon2id iterations must be at least 1");
  }
  return Ok();
}

HashFormat DetectHashFormat(std::string_view encoded) {
  if (StartsWith(encoded, kArgon2idPrefix)) {
    return HashFormat::kArgon2id;
  }
  if (StartsWith(encoded, "$2b$") || StartsWith(encoded, "$2y$") || StartsWith(encoded, "$2a$")) {
    return HashFormat::kBcrypt;
  }
  if (StartsWith(encoded, "$6$")) {
    return HashFormat::kSha512Crypt;
  }
  if (StartsWith(encoded, "$y$")) {
    return HashFormat::kYescrypt;
  }
  return HashFormat::kUnknown;
}

Result<std::string> HashPassword(std::string_view password, const Argon2Params& params) {
  KISEE_RETURN_IF_ERROR(ValidateArgon2Params(params));
  if (!SodiumReady()) {
    return MakeError(ErrorCode::kInternal, "libsodium failed to initialise");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), params.iterations,
                            std::size_t{params.memory_kib} * 1024,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return MakeError(ErrorCode::kResourceExhausted, "argon2id: out of memory");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view password, std::string_view encoded) {
  switch (DetectHashFormat(encoded)) {
    case HashFormat::kArgon2id: {
      PhcParams phc;
      // libsodium needs a NUL-terminated string and rejects what it cannot
      // parse; checking the shape first keeps garbage away from it.
      if (!SodiumReady() || !ParseArgon2id(encoded, phc) ||
          encoded.size() >= crypto_pwhash_STRBYTES) {
        return false;
      }
      std::string str(encoded);
      return crypto_pwhash_str_verify(str.c_str(), password.data(), password.size()) == 0;
    }
    case HashFormat::kBcrypt:
    case HashFormat::kSha512Crypt:
    case HashFormat::kYescrypt:
      return VerifyWithLibcrypt(password, encoded);
    case HashFormat::kUnknown:
      break;
  }
  return false;
}

bool NeedsRehash(std::string_view encoded, const Argon2Params& params) {
  PhcParams phc;
  if (!ParseArgon2id(encoded, phc)) {
    return true;
  }
  return phc.version != 19 || phc.memory_kib != params.memory_kib ||
         phc.iterations != params.iterations || phc.parallelism != 1;
}

Result<PasswordHasher> PasswordHasher::Create(const Argon2Params& params) {
  // The dummy is the hash of a random password nobody knows, so verifying
  // anything against it fails after doing the full work.
  KISEE_ASSIGN_OR_RETURN(std::string dummy, HashPassword(RandomId(), params));
  return PasswordHasher(params, std::move(dummy));
}

Result<std::string> PasswordHasher::Hash(std::string_view password) const {
  return HashPassword(password, params_);
}

bool PasswordHasher::Verify(std::string_view password, std::string_view encoded) const {
  return VerifyPassword(password, encoded);
}

bool PasswordHasher::VerifyDummy(std::string_view password) const {
  VerifyPassword(password, dummy_);
  return false;
}

bool PasswordHasher::NeedsRehash(std::string_view encoded) const {
  return crypto::NeedsRehash(encoded, params_);
}

std::size_t DefaultHashingThreads() {
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores;
}

HashingPool::HashingPool(std::size_t threads, std::size_t queue_capacity)
    : pool_(threads == 0 ? DefaultHashingThreads() : threads,
            queue_capacity == 0 ? 32 * (threads == 0 ? DefaultHashingThreads() : threads)
                                : queue_capacity) {}

Status HashingPool::Submit(std::function<void()> job) {
  if (!pool_.TrySubmit(std::move(job))) {
    return MakeError(ErrorCode::kResourceExhausted, "the hashing queue is full");
  }
  return Ok();
}

}  // namespace kisee::crypto
