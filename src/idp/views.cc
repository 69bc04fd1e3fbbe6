#include "idp/views.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "idp/documents.h"
#include "kisee/core/bytes.h"
#include "kisee/core/secret.h"
#include "kisee/net/cors.h"

namespace kisee::idp {
namespace {

using net::Request;
using net::Responder;
using net::Response;

// Deeper nesting than this is refused before parsing: the JSON parser is
// recursive and the body may be a megabyte of '['.
constexpr int kMaxJsonDepth = 64;

Response JsonResponse(int status, const Json& body) { return Response::Json(status, Dump(body)); }

Response Problem(int status, std::string_view reason) { return Response::Problem(status, reason); }

Response Unavailable(std::string_view retry_after) {
  Response r = Problem(503, "Service Unavailable");
  r.headers.Set("Retry-After", std::string(retry_after));
  return r;
}

// FromBackendError maps a backend failure that the client cannot fix.
Response FromBackendError(const Error& error) {
  if (error.code() != ErrorCode::kUnavailable && error.code() != ErrorCode::kResourceExhausted) {
    spdlog::error("backend failure: {}", error.message());
  } else {
    spdlog::warn("store unavailable: {}", error.message());
  }
  return Unavailable("5");
}

// ParseBody parses a request body as JSON whatever its Content-Type.
std::expected<Json, Response> ParseBody(std::string_view body) {
  if (!CheckJsonDepth(body, kMaxJsonDepth)) {
    return std::unexpected(Response::Problem(400, "Malformed JSON", "nesting too deep"));
  }
  try {
    return Json::parse(body);
  } catch (const Json::exception& e) {
    return std::unexpected(Response::Problem(400, "Malformed JSON", e.what()));
  }
}

std::optional<std::string> StringField(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

Response Created(std::string location) {
  Response r(201);
  r.headers.Set("Location", std::move(location));
  return r;
}

// Run sends `job` to the pool, or answers 503 at once when it is full.
void Run(App& app, const Responder& respond, std::function<void()> job) {
  if (auto submitted = app.pool.Submit(std::move(job)); !submitted) {
    respond(Unavailable("1"));
  }
}

// ---- authentication of PATCH /users/{id}/ and GET /password_recoveries/ ----

enum class AuthScheme { kNone, kBasic, kBearer, kMalformed };

struct ParsedAuth {
  AuthScheme scheme = AuthScheme::kNone;
  std::string username;  // Basic
  std::string password;  // Basic
  std::string token;     // Bearer
};

ParsedAuth ParseAuthorization(const Request& request) {
  ParsedAuth out;
  auto header = request.Header("Authorization");
  if (!header || header->empty()) {
    return out;
  }
  out.scheme = AuthScheme::kMalformed;
  std::size_t space = header->find(' ');
  if (space == std::string_view::npos) {
    return out;
  }
  std::string_view scheme = header->substr(0, space);
  std::string_view value = header->substr(space + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (net::EqualsIgnoreCase(scheme, "Bearer") && !value.empty()) {
    out.scheme = AuthScheme::kBearer;
    out.token = std::string(value);
  } else if (net::EqualsIgnoreCase(scheme, "Basic")) {
    auto decoded = Base64Decode(
        value, {.alphabet = Base64Alphabet::kStandard, .padding = Base64Padding::kOptional});
    if (!decoded) {
      return out;
    }
    std::string_view text = AsChars(*decoded);
    std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
      return out;
    }
    out.scheme = AuthScheme::kBasic;
    out.username = std::string(text.substr(0, colon));
    out.password = std::string(text.substr(colon + 1));
  }
  return out;
}

// Authenticated is the user behind a PATCH or a recover document.
using AuthResult = std::expected<User, Response>;

// Authenticate checks Basic credentials or a reset token. Blocking (hashing,
// store): call on the pool. The failures follow kisee-api.md §2.7 steps 1–4.
AuthResult Authenticate(App& app, const ParsedAuth& auth, std::string_view address) {
  switch (auth.scheme) {
    case AuthScheme::kNone:
      return std::unexpected(Problem(401, "Missing authorization header"));
    case AuthScheme::kMalformed:
      return std::unexpected(Problem(401, "Bad authorization"));
    case AuthScheme::kBasic: {
      // Basic credentials are a password guess like a login: same limits.
      auto locked = app.limiter.Check(auth.username, address);
      if (!locked) {
        return std::unexpected(FromBackendError(locked.error()));
      }
      if (*locked) {
        Response r = Problem(429, "Too Many Requests");
        r.headers.Set("Retry-After", std::to_string(**locked));
        return std::unexpected(std::move(r));
      }
      auto user = app.backend.Identify(auth.username, auth.password);
      if (!user) {
        return std::unexpected(FromBackendError(user.error()));
      }
      if (!*user) {
        if (auto recorded = app.limiter.RecordFailure(auth.username, address); !recorded) {
          spdlog::warn("could not record a failed login: {}", recorded.error().message());
        }
        return std::unexpected(Problem(401, "Bad authorization"));
      }
      return std::move(**user);
    }
    case AuthScheme::kBearer: {
      auto claims = app.tokens.Verify(auth.token);
      if (!claims) {
        return std::unexpected(Problem(401, "Bad authorization"));
      }
      if (!claims->password_reset_for) {
        return std::unexpected(Problem(403, "Use a password lost token or basic auth."));
      }
      auto user = app.backend.GetUserByUsername(*claims->password_reset_for);
      if (!user) {
        return std::unexpected(FromBackendError(user.error()));
      }
      if (!*user) {
        return std::unexpected(Problem(401, "No such user"));
      }
      auto stamp = app.backend.ResetStamp(**user);
      if (!stamp) {
        if (stamp.error().code() == ErrorCode::kNotFound) {
          return std::unexpected(Problem(401, "No such user"));
        }
        return std::unexpected(FromBackendError(stamp.error()));
      }
      // Used (password changed) or superseded (a newer token was issued).
      if (!ConstantTimeEquals(app.tokens.BindingDigest(*stamp), claims->reset_binding)) {
        return std::unexpected(Problem(401, "Bad authorization"));
      }
      return std::move(**user);
    }
  }
  return std::unexpected(Problem(401, "Bad authorization"));
}

// ---- the views ----

// RenderedDocument holds a constant document in both representations,
// rendered once when the routes are installed rather than on every request.
struct RenderedDocument {
  RenderedDocument(const Document& doc, std::string_view base)
      : coreapi(Dump(Render(doc, Format::kCoreApi, base))),
        json(Dump(Render(doc, Format::kJson, base))) {}
  std::string coreapi;
  std::string json;
};

Response DocumentView(const Request& request, const RenderedDocument& doc) {
  const bool coreapi = Negotiate(request.Header("Accept")) == Format::kCoreApi;
  return Response::Json(200, coreapi ? doc.coreapi : doc.json);
}

Response LoginBlocking(App& app, const std::string& username, const std::string& password,
                       const std::string& address, Format format) {
  auto locked = app.limiter.Check(username, address);
  if (!locked) {
    return FromBackendError(locked.error());
  }
  if (*locked) {
    Response r = Problem(429, "Too Many Requests");
    r.headers.Set("Retry-After", std::to_string(**locked));
    return r;
  }
  auto user = app.backend.Identify(username, password);
  if (!user) {
    return FromBackendError(user.error());
  }
  if (!*user) {
    if (auto recorded = app.limiter.RecordFailure(username, address); !recorded) {
      spdlog::warn("could not record a failed login: {}", recorded.error().message());
    }
    return Problem(403, "Failed identification for kisee.");
  }
  auto token = app.tokens.IssueLogin(**user);
  if (!token) {
    spdlog::error("cannot sign a login token: {}", token.error().message());
    return Unavailable("5");
  }
  Response r = JsonResponse(201, Render(JwtDocument(app.settings.server.hostname, {token->jwt}),
                                        format, app.settings.server.hostname));
  r.headers.Set("Location", "/jwt/" + token->jti);
  r.AddLogField("user", (*user)->user_id);
  return r;
}

void LoginView(App& app, const Request& request, Responder respond) {
  auto body = ParseBody(request.body);
  if (!body) {
    return respond(std::move(body.error()));
  }
  std::optional<std::string> username;
  std::optional<std::string> password;
  if (body->is_object()) {
    username = StringField(*body, "username");
    if (!body->contains("username")) {
      username = StringField(*body, "login");
    }
    password = StringField(*body, "password");
  }
  if (!username || !password) {
    return respond(Problem(422, "Missing username or password."));
  }
  Format format = Negotiate(request.Header("Accept"));
  if (app.inline_backend) {
    return respond(LoginBlocking(app, *username, *password,
                                 app.trusted_proxies.ClientAddress(request), format));
  }
  Run(app, respond,
      [&app, respond, username = std::move(*username), password = std::move(*password),
       address = app.trusted_proxies.ClientAddress(request),
       format] { respond(LoginBlocking(app, username, password, address, format)); });
}

void RegisterView(App& app, const Request& request, Responder respond) {
  if (!app.settings.server.registration || !app.backend.can_register()) {
    return respond(Problem(403, "Registration is not available."));
  }
  auto body = ParseBody(request.body);
  if (!body) {
    return respond(std::move(body.error()));
  }
  std::optional<std::string> username, password, email;
  if (body->is_object()) {
    username = StringField(*body, "username");
    password = StringField(*body, "password");
    email = StringField(*body, "email");
  }
  if (!username || !password || !email) {
    return respond(Problem(400, "Missing required input fields"));
  }
  if (!IsValidEmail(*email)) {
    return respond(Problem(400, "Email is not valid"));
  }
  Run(app, respond,
      [&app, respond, username = std::move(*username), password = std::move(*password),
       email = std::move(*email)] {
        auto done = app.backend.RegisterUser(username, password, email, false);
        if (!done) {
          switch (done.error().code()) {
            case ErrorCode::kInvalidArgument:
              return respond(Problem(400, done.error().message()));
            case ErrorCode::kAlreadyExists:
              return respond(Problem(409, done.error().message()));
            case ErrorCode::kPermissionDenied:
              return respond(Problem(403, done.error().message()));
            default:
              return respond(FromBackendError(done.error()));
          }
        }
        Response r = Created("/users/" + username + "/");
        r.AddLogField("user", username);
        respond(std::move(r));
      });
}

// CheckPatch validates an RFC 6902 patch that may only replace /password,
// returning the new password.
std::expected<std::string, Response> CheckPatch(const Json& patch) {
  static const std::array<std::string_view, 6> kOps = {"add",  "remove", "replace",
                                                       "move", "copy",   "test"};
  if (!patch.is_array()) {
    return std::unexpected(Problem(400, "Invalid json patch."));
  }
  for (const Json& op : patch) {
    if (!op.is_object()) {
      return std::unexpected(Problem(400, "Invalid json patch."));
    }
    auto name = StringField(op, "op");
    auto path = StringField(op, "path");
    if (!name || std::find(kOps.begin(), kOps.end(), *name) == kOps.end() || !path ||
        (!path->empty() && path->front() != '/')) {
      return std::unexpected(Problem(400, "Invalid json patch."));
    }
  }
  if (patch.size() != 1) {
    return std::unexpected(Problem(400, "Only password can be patched."));
  }
  const Json& op = patch[0];
  auto value = StringField(op, "value");
  std::string name = op["op"].get<std::string>();
  if (op["path"] != "/password" || (name != "replace" && name != "add") || !value) {
    return std::unexpected(Problem(400, "Only password can be patched."));
  }
  return *value;
}

void PatchUserView(App& app, const Request& request, Responder respond) {
  // A read-only store says so before anything else: no credentials are
  // checked for a change that cannot happen.
  if (!app.backend.can_change_passwords()) {
    return respond(Problem(403, "Password changes are not available."));
  }
  ParsedAuth auth = ParseAuthorization(request);
  if (auth.scheme == AuthScheme::kNone) {
    return respond(Problem(401, "Missing authorization header"));
  }
  if (auth.scheme == AuthScheme::kMalformed) {
    return respond(Problem(401, "Bad authorization"));
  }
  Run(app, respond,
      [&app, respond, auth = std::move(auth), body = request.body,
       user_id = std::string(request.Param("user_id")),
       address = app.trusted_proxies.ClientAddress(request)] {
        AuthResult user = Authenticate(app, auth, address);
        if (!user) {
          return respond(std::move(user.error()));
        }
        auto patch = ParseBody(body);
        if (!patch) {
          return respond(std::move(patch.error()));
        }
        auto password = CheckPatch(*patch);
        if (!password) {
          return respond(std::move(password.error()));
        }
        if (user_id != user->user_id) {
          return respond(Problem(403, "Token does not apply to user resource."));
        }
        auto done = app.backend.SetPasswordForUser(*user, *password);
        if (!done) {
          if (done.error().code() == ErrorCode::kInvalidArgument) {
            return respond(Problem(400, done.error().message()));
          }
          if (done.error().code() == ErrorCode::kNotFound) {
            return respond(Problem(401, "No such user"));
          }
          if (done.error().code() == ErrorCode::kPermissionDenied) {
            return respond(Problem(403, done.error().message()));
          }
          return respond(FromBackendError(done.error()));
        }
        Response r(204);
        r.AddLogField("user", user->user_id);
        respond(std::move(r));
      });
}

void RecoveriesView(App& app, const Request& request, Responder respond) {
  ParsedAuth auth = ParseAuthorization(request);
  const std::string& base = app.settings.server.hostname;
  Format format = Negotiate(request.Header("Accept"));
  if (auth.scheme == AuthScheme::kNone || auth.scheme == AuthScheme::kMalformed) {
    return respond(JsonResponse(200, Render(RecoveriesAnonymousDocument(base), format, base)));
  }
  Run(app, respond,
      [&app, respond, auth = std::move(auth), format,
       address = app.trusted_proxies.ClientAddress(request)] {
        const std::string& base = app.settings.server.hostname;
        AuthResult user = Authenticate(app, auth, address);
        if (user) {
          return respond(JsonResponse(
              200, Render(RecoveriesRecoverDocument(base, user->user_id, app.policy.min_length()),
                          format, base)));
        }
        // A store outage is not "anonymous": say so rather than hide it.
        if (user.error().status == 503) {
          return respond(std::move(user.error()));
        }
        respond(JsonResponse(200, Render(RecoveriesAnonymousDocument(base), format, base)));
      });
}

// TryRecover finds the user and hands a fresh reset token to the backend.
// kUnavailable when the store could not be reached (worth retrying); any
// other outcome is final and already logged.
Status TryRecover(App& app, const std::optional<std::string>& email,
                  const std::optional<std::string>& login,
                  const std::optional<std::string>& username) {
  std::optional<User> user;
  auto lookup = [&](auto&& fn) -> Status {
    auto found = fn();
    if (!found) {
      return std::unexpected(found.error());
    }
    user = std::move(*found);
    return Ok();
  };
  if (email) {
    KISEE_RETURN_IF_ERROR(lookup([&] { return app.backend.GetUserByEmail(*email); }));
  }
  if (!user && login) {
    KISEE_RETURN_IF_ERROR(lookup([&] { return app.backend.GetUserByUsername(*login); }));
  }
  if (!user && username) {
    KISEE_RETURN_IF_ERROR(lookup([&] { return app.backend.GetUserByUsername(*username); }));
  }
  if (!user) {
    spdlog::info("password recovery requested for an unknown user");
    return Ok();
  }
  auto stamp = app.backend.NewResetStamp(*user);
  if (!stamp) {
    if (stamp.error().code() == ErrorCode::kUnavailable) {
      return std::unexpected(stamp.error());
    }
    spdlog::warn("password recovery for {}: {}", user->user_id, stamp.error().message());
    return Ok();
  }
  auto token = app.tokens.IssueReset(*user, *stamp);
  if (!token) {
    spdlog::error("password recovery for {}: {}", user->user_id, token.error().message());
    return Ok();
  }
  if (auto sent = app.backend.SendResetPasswordChallenge(*user, token->jwt); !sent) {
    spdlog::warn("password recovery for {}: {}", user->user_id, sent.error().message());
    return Ok();
  }
  spdlog::info("password recovery started for {}", user->user_id);
  return Ok();
}

// RecoverInBackground runs after the 201 and never reports to the client.
// While the store is unreachable it retries with back-off (1 s doubling to
// 30 s) for as long as a reset token would live, so that a request accepted
// during an outage is served when the store comes back.
void RecoverInBackground(App& app, const std::optional<std::string>& email,
                         const std::optional<std::string>& login,
                         const std::optional<std::string>& username) {
  if (!app.backend.can_change_passwords()) {
    spdlog::info("password recovery requested, but this store is read-only: nothing sent");
    return;
  }
  const auto give_up =
      std::chrono::steady_clock::now() + std::chrono::seconds(app.settings.jwt.reset_lifetime);
  auto delay = app.retry.initial_delay();
  for (;;) {
    Status done = TryRecover(app, email, login, username);
    if (done || done.error().code() != ErrorCode::kUnavailable) {
      return;
    }
    if (std::chrono::steady_clock::now() + delay > give_up) {
      spdlog::error("password recovery dropped, the store stayed unavailable: {}",
                    done.error().message());
      return;
    }
    spdlog::warn("password recovery: store unavailable ({}), retrying in {} ms",
                 done.error().message(), delay.count());
    if (!app.retry.Wait(delay)) {
      // Shutting down: one last attempt, then the job is dropped.
      if (auto last = TryRecover(app, email, login, username); !last) {
        spdlog::error("password recovery dropped at shutdown: {}", last.error().message());
      }
      return;
    }
    delay = std::min(delay * 2, app.retry.max_delay());
  }
}

void StartRecoveryView(App& app, const Request& request, Responder respond) {
  auto body = ParseBody(request.body);
  if (!body) {
    return respond(std::move(body.error()));
  }
  std::optional<std::string> email, login, username;
  if (body->is_object()) {
    email = StringField(*body, "email");
    login = StringField(*body, "login");
    username = StringField(*body, "username");
  }
  if (!email && !login && !username) {
    return respond(Problem(400, "Missing required fields email or username"));
  }
  bool queued = app.background.TrySubmit(
      [&app, email = std::move(email), login = std::move(login), username = std::move(username)] {
        RecoverInBackground(app, email, login, username);
      });
  if (!queued) {
    // Answering anything else would tell the client something; the drop is
    // the operator's business.
    spdlog::warn("password recovery queue full: request dropped");
  }
  Response r(201);
  respond(std::move(r));
}

// HealthState caches the backend probe so that /health stays cheap and
// answers within the contract's 10 s even when the store hangs.
struct HealthState {
  std::mutex mutex;
  std::int64_t checked_at = -1000;  // seconds
  bool alive = true;
  bool probing = false;
};

Response HealthResponse(const App& app, bool alive, bool ready_route) {
  if (ready_route && !alive) {
    // Every 5xx is a problem document (kisee-api §3), like the 503 of any
    // other request that needs the store.
    return Unavailable("5");
  }
  Json body = Json::object();
  body["status"] = alive ? "green" : "red";
  body["database"] = alive ? "OK" : "KO";
  body["version"] = app.version;
  if (!alive) {
    body["error"] = Json{{"str", "Database looks down."}};
  }
  return JsonResponse(200, body);
}

void HealthView(App& app, HealthState& state, bool ready_route, Responder respond) {
  const std::int64_t now = app.clock.NowSeconds();
  bool alive;
  bool refresh = false;
  {
    std::lock_guard lock(state.mutex);
    alive = state.alive;
    if (now - state.checked_at >= 2 && !state.probing) {
      state.probing = true;
      refresh = true;
    }
  }
  if (!refresh || app.inline_backend) {
    if (refresh) {
      alive = app.backend.IsConnectionAlive();
      std::lock_guard lock(state.mutex);
      state.alive = alive;
      state.checked_at = now;
      state.probing = false;
    }
    return respond(HealthResponse(app, alive, ready_route));
  }
  auto submitted = app.pool.Submit([&app, &state, respond, ready_route] {
    bool alive = app.backend.IsConnectionAlive();
    {
      std::lock_guard lock(state.mutex);
      state.alive = alive;
      state.checked_at = app.clock.NowSeconds();
      state.probing = false;
    }
    respond(HealthResponse(app, alive, ready_route));
  });
  if (!submitted) {
    std::lock_guard lock(state.mutex);
    state.probing = false;
    respond(HealthResponse(app, state.alive, ready_route));
  }
}

}  // namespace

bool RetryGate::Wait(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, delay, [this] { return stopped_; });
  return !stopped_;
}

void RetryGate::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  wake_.notify_all();
}

Status AddRoutes(net::Router& router, App& app) {
  auto health = std::make_shared<HealthState>();
  const std::string& base = app.settings.server.hostname;
  const auto home = std::make_shared<const std::string>(Dump(JsonHome(base)));
  const auto jwt_doc = std::make_shared<const RenderedDocument>(JwtDocument(base, {}), base);
  const auto users_doc = std::make_shared<const RenderedDocument>(
      UsersDocument(base, app.settings.server.registration && app.backend.can_register(),
                    app.policy.min_length()),
      base);

  KISEE_RETURN_IF_ERROR(router.AddSync("GET", "/", [home](const Request&) {
    Response r(200);
    r.headers.Set("Content-Type", "application/json-home");
    r.body = *home;
    return r;
  }));
  KISEE_RETURN_IF_ERROR(router.AddSync(
      "GET", "/jwt/", [jwt_doc](const Request& r) { return DocumentView(r, *jwt_doc); }));
  KISEE_RETURN_IF_ERROR(router.Add("POST", "/jwt/", [&app](const Request& r, Responder respond) {
    LoginView(app, r, std::move(respond));
  }));
  KISEE_RETURN_IF_ERROR(router.AddSync("GET", "/jwt/{jti}",
                                       [](const Request&) { return Problem(404, "Not Found"); }));
  KISEE_RETURN_IF_ERROR(router.AddSync(
      "GET", "/users/", [users_doc](const Request& r) { return DocumentView(r, *users_doc); }));
  KISEE_RETURN_IF_ERROR(router.Add("POST", "/users/", [&app](const Request& r, Responder respond) {
    RegisterView(app, r, std::move(respond));
  }));
  KISEE_RETURN_IF_ERROR(router.Add(
      "PATCH", "/users/{user_id}/",
      [&app](const Request& r, Responder respond) { PatchUserView(app, r, std::move(respond)); }));
  KISEE_RETURN_IF_ERROR(router.Add(
      "GET", "/password_recoveries/",
      [&app](const Request& r, Responder respond) { RecoveriesView(app, r, std::move(respond)); }));
  KISEE_RETURN_IF_ERROR(
      router.Add("POST", "/password_recoveries/", [&app](const Request& r, Responder respond) {
        StartRecoveryView(app, r, std::move(respond));
      }));
  KISEE_RETURN_IF_ERROR(
      router.Add("GET", "/health", [&app, health](const Request&, Responder respond) {
        HealthView(app, *health, false, std::move(respond));
      }));
  KISEE_RETURN_IF_ERROR(
      router.Add("GET", "/health/ready", [&app, health](const Request&, Responder respond) {
        HealthView(app, *health, true, std::move(respond));
      }));
  KISEE_RETURN_IF_ERROR(router.AddSync("GET", "/.well-known/jwks.json", [&app](const Request&) {
    Response r(200);
    r.headers.Set("Content-Type", "application/jwk-set+json");
    r.body = app.tokens.Jwks();
    return r;
  }));
  router.SetCors(
      net::CorsPolicy(net::CorsOptions{.allowed_origins = app.settings.server.cors_origins}));
  return Ok();
}

}  // namespace kisee::idp
