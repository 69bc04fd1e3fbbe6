// Password hashing: argon2id (libsodium) for every password we store, and
// verification of imported legacy hashes (bcrypt, sha512-crypt, yescrypt)
// through libcrypt so that they can be upgraded on the next login.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "kisee/core/error.h"
#include "kisee/core/worker_pool.h"

namespace kisee::crypto {

// Argon2Params are the argon2id cost parameters. The defaults are OWASP's
// minimum recommendation (m = 19 MiB, t = 2, p = 1). libsodium computes one
// lane, so p is always 1.
struct Argon2Params {
  std::uint32_t memory_kib = 19456;
  std::uint32_t iterations = 2;

  friend bool operator==(const Argon2Params&, const Argon2Params&) = default;
};

// ValidateArgon2Params returns kInvalidArgument when `params` are outside
// what libsodium accepts (memory 8 KiB .. 4 TiB, iterations >= 1).
Status ValidateArgon2Params(const Argon2Params& params);

// HashFormat names the family of an encoded password hash.
enum class HashFormat {
  kArgon2id,     // $argon2id$v=19$m=..,t=..,p=..$salt$hash
  kBcrypt,       // $2b$ / $2y$ / $2a$
  kSha512Crypt,  // $6$
  kYescrypt,     // $y$
  kUnknown,      // anything else: never verifies
};

// DetectHashFormat classifies `encoded` by its prefix only.
HashFormat DetectHashFormat(std::string_view encoded);

// HashPassword derives a fresh argon2id PHC string with a random salt.
// Errors: kInvalidArgument for bad params, kResourceExhausted when the memory
// cannot be allocated. Thread-safe; takes about 15 ms at the defaults.
Result<std::string> HashPassword(std::string_view password, const Argon2Params& params);

// VerifyPassword checks `password` against `encoded` (argon2id or a
// libcrypt-supported legacy hash). Returns false on a mismatch and for an
// unknown or malformed `encoded` (never an error for bad input: a stored hash
// that cannot be parsed simply never matches). Thread-safe.
bool VerifyPassword(std::string_view password, std::string_view encoded);

// NeedsRehash is true when `encoded` is not argon2id with exactly `params`
// (legacy formats, older or stronger parameters, p != 1).
bool NeedsRehash(std::string_view encoded, const Argon2Params& params);

// PasswordHasher bundles the configured parameters with a dummy hash made
// with the same parameters, so that a login for an unknown user costs the
// same time as one with a wrong password. Immutable after construction;
// thread-safe.
class PasswordHasher {
 public:
  // Create hashes the dummy password once. Errors: as HashPassword.
  static Result<PasswordHasher> Create(const Argon2Params& params);

  const Argon2Params& params() const { return params_; }

  // Hash: HashPassword with the configured parameters.
  Result<std::string> Hash(std::string_view password) const;
  // Verify: VerifyPassword.
  bool Verify(std::string_view password, std::string_view encoded) const;
  // VerifyDummy spends the time of one verification and returns false.
  bool VerifyDummy(std::string_view password) const;
  // NeedsRehash: NeedsRehash with the configured parameters.
  bool NeedsRehash(std::string_view encoded) const;

 private:
  PasswordHasher(const Argon2Params& params, std::string dummy)
      : params_(params), dummy_(std::move(dummy)) {}

  Argon2Params params_;
  std::string dummy_;
};

// DefaultHashingThreads is the size of the pool that runs hashing (and the
// other blocking identity work): one thread per core, at least one. Each
// running hash holds memory_kib of memory, so this also bounds memory.
std::size_t DefaultHashingThreads();

// HashingPool is the bounded pool on which password hashing runs: a fixed
// number of threads and a capped queue (core WorkerPool). A caller that finds
// it full answers "busy" (HTTP 503 + Retry-After) instead of queueing without
// bound. Thread-safe.
class HashingPool {
 public:
  // `threads` 0 means DefaultHashingThreads(); `queue_capacity` 0 means 32
  // waiting jobs per thread.
  HashingPool(std::size_t threads, std::size_t queue_capacity);

  HashingPool(const HashingPool&) = delete;
  HashingPool& operator=(const HashingPool&) = delete;

  // Submit queues `job`. Errors: kResourceExhausted when the queue is full or
  // the pool is shutting down (the job is then not run). Jobs must not throw.
  Status Submit(std::function<void()> job);

  // Shutdown runs every queued job, then joins the threads. Idempotent.
  void Shutdown() { pool_.Shutdown(); }

  std::size_t thread_count() const { return pool_.thread_count(); }

 private:
  WorkerPool pool_;
};

}  // namespace kisee::crypto
