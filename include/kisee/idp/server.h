// Running kisee: settings → keys, backend, pools, routes → HTTP server.
#pragma once

#include <ostream>
#include <string_view>

#include "kisee/core/error.h"
#include "kisee/idp/settings.h"

namespace kisee::idp {

// kVersion is the version reported by /health.
std::string_view Version();

// ServeOptions are the command-line knobs that are not settings.
struct ServeOptions {
  // out receives what the operator must see once (the admin credentials,
  // the demo backend's reset lines). Borrowed; must outlive Serve.
  std::ostream* out = nullptr;
};

// Serve runs kisee with `settings` until SIGTERM or SIGINT, then finishes
// the requests in flight and the queued password-recovery jobs. Errors: a
// bad key (kInvalidArgument, one line), a store that cannot be opened, a
// port that cannot be bound (kIo). Blocks; call from main.
Status Serve(const Settings& settings, const ServeOptions& options);

}  // namespace kisee::idp
