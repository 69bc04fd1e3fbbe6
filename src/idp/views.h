// The HTTP views of kisee (kisee-api.md §1–§3) as handlers on kisee::net.
// Cheap views answer on the I/O thread; anything that hashes, signs with a
// store lookup or touches the backend runs on the hashing pool.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "idp/backend.h"
#include "idp/limits.h"
#include "idp/password_policy.h"
#include "idp/tokens.h"
#include "kisee/core/clock.h"
#include "kisee/core/worker_pool.h"
#include "kisee/crypto/password.h"
#include "kisee/idp/settings.h"
#include "kisee/net/forwarded.h"
#include "kisee/net/router.h"

namespace kisee::idp {

// RetryGate is where background jobs wait between retries; Stop (at
// shutdown) ends every wait at once. Thread-safe.
class RetryGate {
 public:
  explicit RetryGate(std::chrono::milliseconds initial_delay = std::chrono::seconds(1),
                     std::chrono::milliseconds max_delay = std::chrono::seconds(30))
      : initial_delay_(initial_delay), max_delay_(max_delay) {}

  // Wait sleeps `delay`, or less when Stop is called; false once stopped.
  bool Wait(std::chrono::milliseconds delay);
  void Stop();

  std::chrono::milliseconds initial_delay() const { return initial_delay_; }
  std::chrono::milliseconds max_delay() const { return max_delay_; }

 private:
  const std::chrono::milliseconds initial_delay_;
  const std::chrono::milliseconds max_delay_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopped_ = false;  // guarded by mutex_
};

// App is everything the views use. Borrowed references outlive the router.
struct App {
  const Settings& settings;
  IdentityBackend& backend;
  TokenService& tokens;
  LoginLimiter& limiter;
  const PasswordPolicy& policy;
  // pool runs blocking work (hashing, backend calls); full → 503.
  crypto::HashingPool& pool;
  // background runs password-recovery jobs after the 201; drained on
  // shutdown so that accepted recoveries are not lost.
  WorkerPool& background;
  // retry paces the background recovery jobs while the store is down.
  RetryGate& retry;
  const Clock& clock;
  std::string version;
  // inline_backend: the backend never blocks (demo), so logins may run on
  // the I/O thread without a pool round trip.
  bool inline_backend = false;
  // proxies whose X-Forwarded-For names the client ([server] trusted_proxies).
  net::TrustedProxies trusted_proxies;
};

// AddRoutes installs every route of the API (and CORS) on `router`.
// Errors: the router's (a programming error).
Status AddRoutes(net::Router& router, App& app);

}  // namespace kisee::idp
