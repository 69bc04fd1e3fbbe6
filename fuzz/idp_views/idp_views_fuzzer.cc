// kisee's promise (kisee-api.md §3): no input from a client produces a 500.
// Random requests go through the real router and views (demo backend, as the
// original's settings configure it); any 5xx other than 503 aborts.
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <sstream>
#include <string>

#include "idp/backend.h"
#include "idp/views.h"
#include "kisee/core/clock.h"
#include "kisee/crypto/keys.h"
#include "kisee/crypto/password.h"
#include "kisee/idp/settings.h"
#include "kisee/net/handler.h"
#include "kisee/net/router.h"

namespace kisee::idp {
namespace {

constexpr std::array<const char*, 8> kMethods = {"GET", "HEAD",   "POST",    "PATCH",
                                                 "PUT", "DELETE", "OPTIONS", "TRACE"};
constexpr std::array<const char*, 12> kPaths = {"/",
                                                "/jwt/",
                                                "/jwt/abc",
                                                "/users/",
                                                "/users/root/",
                                                "/users/x/",
                                                "/health",
                                                "/health/ready",
                                                "/password_recoveries/",
                                                "/.well-known/jwks.json",
                                                "/jwt",
                                                "/users/root"};

// World is built once: the fuzzer then only dispatches requests.
struct World {
  World() {
    auto key = crypto::PrivateKey::Generate(crypto::KeyType::kSecp256k1);
    auto pem = key->ToPem(crypto::PrivateKeyEncoding::kSec1);
    settings = *ParseSettings(
        "[server]\nhostname='https://fakekiseehostname.melty.com'\n"
        "[identity_backend]\nclass='kisee.providers.demo.DemoBackend'\n"
        "[passwords]\nmemory_kib=64\niterations=1\nmin_length=1\nreject_common=false\n"
        "[limits]\nuser_failures=1000000\naddress_failures=1000000\n"
        "[jwt]\niss='example.com'\nprivate_key='''\n" +
            std::string(pem->chars()) + "'''\n",
        "settings.toml");
    hasher = std::make_unique<crypto::PasswordHasher>(
        *crypto::PasswordHasher::Create({.memory_kib = 64, .iterations = 1}));
    policy = std::make_unique<PasswordPolicy>(settings.passwords);
    tokens = *CreateTokenService(settings, SystemClock());
    backend = *CreateBackend({.settings = settings,
                              .hasher = *hasher,
                              .policy = *policy,
                              .clock = SystemClock(),
                              .out = sink,
                              .deliver_mail = {}});
    limiter =
        std::make_unique<LoginLimiter>(settings.limits, backend->failure_store(), SystemClock());
    app = std::make_unique<App>(App{.settings = settings,
                                    .backend = *backend,
                                    .tokens = *tokens,
                                    .limiter = *limiter,
                                    .policy = *policy,
                                    .pool = pool,
                                    .background = background,
                                    .retry = retry,
                                    .clock = SystemClock(),
                                    .version = "fuzz",
                                    .inline_backend = true});
    if (!AddRoutes(router, *app)) std::abort();
  }

  std::ostringstream sink;
  Settings settings;
  std::unique_ptr<crypto::PasswordHasher> hasher;
  std::unique_ptr<PasswordPolicy> policy;
  std::unique_ptr<TokenService> tokens;
  std::unique_ptr<IdentityBackend> backend;
  std::unique_ptr<LoginLimiter> limiter;
  crypto::HashingPool pool{1, 64};
  WorkerPool background{1, 64};
  RetryGate retry;
  std::unique_ptr<App> app;
  net::Router router;
};

World& GetWorld() {
  static World* world = new World();
  return *world;
}

}  // namespace
}  // namespace kisee::idp

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kisee;
  idp::World& world = idp::GetWorld();
  FuzzedDataProvider input(data, size);

  net::Request request;
  request.method = input.PickValueInArray(idp::kMethods);
  request.path = input.ConsumeBool() ? std::string(input.PickValueInArray(idp::kPaths))
                                     : input.ConsumeRandomLengthString(64);
  request.target = request.path;
  request.remote_address = "192.0.2.7";
  switch (input.ConsumeIntegralInRange(0, 3)) {
    case 0:
      break;
    case 1:
      request.headers.Add("Authorization", "Basic " + input.ConsumeRandomLengthString(64));
      break;
    case 2:
      request.headers.Add("Authorization", "Bearer " + input.ConsumeRandomLengthString(256));
      break;
    default:
      request.headers.Add("Authorization", input.ConsumeRandomLengthString(64));
  }
  if (input.ConsumeBool()) request.headers.Add("Accept", input.ConsumeRandomLengthString(64));
  if (input.ConsumeBool()) request.headers.Add("Origin", input.ConsumeRandomLengthString(32));
  if (input.ConsumeBool()) {
    request.headers.Add("Access-Control-Request-Method", input.ConsumeRandomLengthString(16));
  }
  request.body = input.ConsumeRemainingBytesAsString();

  auto answer = std::make_shared<std::promise<net::Response>>();
  auto future = answer->get_future();
  world.router.Dispatch(request, net::MakeResponder([answer](net::Response response) {
                          answer->set_value(std::move(response));
                        }));
  net::Response response = future.get();
  world.router.Finish(request, response);
  // 503 is the one legitimate 5xx (a full hashing queue); anything else is a bug.
  if (response.status >= 500 && response.status != 503) __builtin_trap();
  return 0;
}
