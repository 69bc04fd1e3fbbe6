#include "kisee/idp/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "idp/backend.h"
#include "idp/limits.h"
#include "idp/mailer.h"
#include "idp/password_policy.h"
#include "idp/tokens.h"
#include "idp/views.h"
#include "kisee/core/worker_pool.h"
#include "kisee/crypto/password.h"
#include "kisee/net/access_log.h"
#include "kisee/net/forwarded.h"
#include "kisee/net/router.h"
#include "kisee/net/server.h"

#ifndef KISEE_VERSION
#define KISEE_VERSION "0.0.0"
#endif

namespace kisee::idp {

std::string_view Version() { return KISEE_VERSION; }

Status Serve(const Settings& settings, const ServeOptions& options) {
  std::ostream& out = options.out != nullptr ? *options.out : std::cout;
  const Clock& clock = SystemClock();
  // Keys first: a bad PEM must stop us before anything is created on disk,
  // with its one-line error alone on the terminal.
  KISEE_ASSIGN_OR_RETURN(auto tokens, CreateTokenService(settings, clock));
  auto proxies = net::TrustedProxies::Parse(settings.server.trusted_proxies);
  if (!proxies) {
    return MakeError(proxies.error().code(),
                     fmt::format("{}: server.trusted_proxies: {}", settings.path.string(),
                                 proxies.error().message()));
  }
  for (const std::string& warning : settings.warnings) {
    spdlog::warn("{}: {}", settings.path.string(), warning);
  }
  KISEE_ASSIGN_OR_RETURN(
      auto hasher, crypto::PasswordHasher::Create({.memory_kib = settings.passwords.memory_kib,
                                                   .iterations = settings.passwords.iterations}));
  PasswordPolicy policy(settings.passwords);
  // Reset e-mails leave from their own bounded queue, after the 201. The
  // SMTP client (libcurl) is a module loaded only here: the demo backend
  // prints its tokens and never needs it, even when the original's settings
  // carry an [email] section.
  std::unique_ptr<Mailer> mailer;
  std::function<Status(const User&, std::string_view)> deliver_mail;
  if (settings.email.present && settings.backend.class_name != "demo") {
    KISEE_ASSIGN_OR_RETURN(auto transport, CreateSmtpTransport(settings.email));
    mailer = std::make_unique<Mailer>(settings.email, std::move(transport));
    deliver_mail = [&mailer](const User& user, std::string_view token) {
      return mailer->Enqueue(user, token);
    };
  }
  BackendContext context{.settings = settings,
                         .hasher = hasher,
                         .policy = policy,
                         .clock = clock,
                         .out = out,
                         .deliver_mail = deliver_mail};
  KISEE_ASSIGN_OR_RETURN(auto backend, CreateBackend(context));
  LoginLimiter limiter(settings.limits, backend->failure_store(), clock);

  // One hashing thread per core: each argon2id hash holds memory_kib, so the
  // pool size also bounds the memory of hashing.
  crypto::HashingPool pool(0, 0);
  // Recovery jobs run after their 201; a small queue, drained at shutdown.
  WorkerPool background(1, 1024);
  RetryGate retry;

  App app{.settings = settings,
          .backend = *backend,
          .tokens = *tokens,
          .limiter = limiter,
          .policy = policy,
          .pool = pool,
          .background = background,
          .retry = retry,
          .clock = clock,
          .version = std::string(Version()),
          .inline_backend = settings.backend.class_name == "demo",
          .trusted_proxies = std::move(*proxies)};
  auto router = std::make_shared<net::Router>();
  KISEE_RETURN_IF_ERROR(AddRoutes(*router, app));

  net::ServerOptions server_options;
  server_options.host = settings.server.host;
  server_options.port = settings.server.port;
  server_options.threads = static_cast<int>(settings.server.workers);
  server_options.access_log = net::SpdlogAccessLog();
  net::Server server(std::move(server_options), router);
  KISEE_ASSIGN_OR_RETURN(std::uint16_t port, server.Listen());
  KISEE_RETURN_IF_ERROR(server.HandleSignals());
  spdlog::info("kisee {} listening on {}:{} ({} backend, public URL {})", Version(),
               settings.server.host, port, settings.backend.class_name, settings.server.hostname);
  Status run = server.Run();
  // The server has drained: no handler is waiting for the pools any more.
  pool.Shutdown();
  retry.Stop();
  background.Shutdown();
  if (mailer) {
    mailer->Shutdown();
  }
  spdlog::info("kisee stopped");
  return run;
}

}  // namespace kisee::idp
