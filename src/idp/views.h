// The HTTP views of kisee (kisee-api.md §1–§3) as handlers on kisee::net.
// Cheap views answer on the I/O thread; anything that hashes, signs with a
// store lookup or touches the backend runs on the hashing pool.
#pragma once

#include <atomic>
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
#include "kisee/net/router.h"

namespace kisee::idp {

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
  const Clock& clock;
  std::string version;
  // inline_backend: the backend never blocks (demo), so logins may run on
  // the I/O thread without a pool round trip.
  bool inline_backend = false;
};

// AddRoutes installs every route of the API (and CORS) on `router`.
// Errors: the router's (a programming error).
Status AddRoutes(net::Router& router, App& app);

}  // namespace kisee::idp
