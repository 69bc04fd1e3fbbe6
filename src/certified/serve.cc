#include "kisee/certified/serve.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "certified/internal/json_depth.h"
#include "certified/internal/url.h"
#include "kisee/biscuit/authorizer.h"
#include "kisee/biscuit/biscuit.h"
#include "kisee/certified/biscuits.h"
#include "kisee/certified/config.h"
#include "kisee/net/client.h"
#include "kisee/net/router.h"
#include "kisee/net/server.h"
#include "kisee/net/tls.h"
#include "kisee/pki/certificate.h"
#include "kisee/pki/name.h"

namespace kisee::certified {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kMissingToken =
    "Required header \"Biscuit: urlsafe-b64-encoded-value\" not found.";
constexpr std::string_view kInvalidToken =
    "Required header \"Biscuit: urlsafe-b64-encoded-value\" invalid format.";
constexpr std::string_view kDefaultPolicy = "allow if user($u);";

net::Response Detail(int status, std::string_view detail) {
  return net::Response::Json(status, Json{{"detail", detail}}.dump());
}

// HeaderSafe replaces control characters: certificate names are attacker
// chosen text, header values must not carry CR or LF.
std::string HeaderSafe(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

bool IsHopByHop(std::string_view name) {
  for (std::string_view hop :
       {"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length"}) {
    if (net::EqualsIgnoreCase(name, hop)) return true;
  }
  return false;
}

// IsCertifiedHeader matches X-Certified-* in any case, with '_' standing for
// '-': CGI, WSGI, PHP and others turn both "X-Certified-Client" and
// "X_Certified_Client" into HTTP_X_CERTIFIED_CLIENT, so a spoofed header with
// underscores would reach the application as the proxy's own.
bool IsCertifiedHeader(std::string_view name) {
  constexpr std::string_view kPrefix = "x-certified-";
  if (name.size() < kPrefix.size()) return false;
  for (std::size_t i = 0; i < kPrefix.size(); ++i) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
    if (c == '_') c = '-';
    if (c != kPrefix[i]) return false;
  }
  return true;
}

// BearerToken finds the token of `Biscuit:` or `Authorization: Bearer`.
std::optional<std::string_view> BearerToken(const net::Request& request) {
  if (auto biscuit = request.Header("Biscuit")) return *biscuit;
  if (auto authorization = request.Header("Authorization")) {
    std::string_view value = *authorization;
    if (value.size() > 7 && net::EqualsIgnoreCase(value.substr(0, 7), "Bearer ")) {
      value.remove_prefix(7);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      return value;
    }
  }
  return std::nullopt;
}

struct IdentityCacheEntry {
  std::weak_ptr<const net::TlsPeer> peer;
  std::shared_ptr<const ClientIdentity> identity;
};

}  // namespace

Result<std::string> ClientNameOf(const std::vector<Bytes>& verified_chain_der,
                                 std::string_view remote_address) {
  if (!verified_chain_der.empty()) {
    KISEE_ASSIGN_OR_RETURN(auto leaf, pki::Certificate::FromDer(verified_chain_der.front()));
    if (auto uid = leaf.subject().Last(pki::kOidUserId)) return "uid:" + *uid;
    if (auto cn = leaf.subject().Last(pki::kOidCommonName)) return "cn:" + *cn;
  }
  if (!remote_address.empty()) return "addr:" + std::string(remote_address);
  return MakeError(ErrorCode::kUnauthenticated, "Client identity is required.");
}

struct Service::Impl {
  ServiceOptions options;
  ConfigDir config;
  std::string host;
  std::uint16_t port = 0;
  std::shared_ptr<net::Router> router = std::make_shared<net::Router>();
  bool authorize = false;
  biscuit::AuthorizerBuilder policy;
  std::vector<biscuit::PublicKey> root_keys;
  std::shared_ptr<const net::TlsServerContext> tls;
  std::unique_ptr<net::Server> server;
  bool started = false;
  bool has_fallback = false;
  // The proxy's client exists only once the server does (it runs on the
  // server's threads); handlers reach it through this shared slot.
  struct ProxySlot {
    std::mutex mutex;
    std::shared_ptr<net::HttpClient> client;
    net::Url upstream;
    std::string prefix;
  };
  std::shared_ptr<ProxySlot> proxy;
  // routed: the methods routed for each pattern (see GuardUnroutedMethods).
  std::map<std::string, std::vector<std::string>, std::less<>> routed;

  Impl(ServiceOptions o, ConfigDir c) : options(std::move(o)), config(std::move(c)) {}

  Result<std::shared_ptr<const net::TlsServerContext>> BuildTls() const {
    net::TlsServerOptions tls_options;
    KISEE_ASSIGN_OR_RETURN(tls_options.certificate_chain_pem, ReadTextFile(config.id_cert_path()));
    KISEE_ASSIGN_OR_RETURN(auto key, config.LoadKey(config.id_key_path()));
    KISEE_ASSIGN_OR_RETURN(tls_options.private_key_pem, key.ToPem());
    KISEE_ASSIGN_OR_RETURN(tls_options.client_ca_pem,
                           config.TrustStorePem(config.known_clients_dir()));
    if (tls_options.client_ca_pem.empty()) {
      return MakeError(ErrorCode::kNotFound, "No client CA certificate in " +
                                                 config.known_clients_dir().string() +
                                                 " (add one with `certified add-client`).");
    }
    std::string crls;
    std::error_code ec;
    if (fs::exists(config.crl_path(), ec)) {
      KISEE_ASSIGN_OR_RETURN(crls, ReadTextFile(config.crl_path()));
    }
    if (fs::is_directory(config.known_clients_dir(), ec)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(config.known_clients_dir(), ec)) {
        if (entry.path().extension() == ".crl") files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& file : files) {
        KISEE_ASSIGN_OR_RETURN(auto text, ReadTextFile(file));
        if (!crls.empty() && crls.back() != '\n') crls += '\n';
        crls += text;
      }
    }
    tls_options.crl_pem = std::move(crls);
    tls_options.require_client_certificate = true;
    // As the original (VERIFY_X509_PARTIAL_CHAIN): a CA placed in
    // known_clients/ is trusted even when it is not self-signed.
    tls_options.trust_partial_chains = true;
    tls_options.min_version = net::TlsVersion::kTls13;
    // Certified clients make a new connection per command and do not
    // resume; tickets and a cache would only cost every full handshake.
    tls_options.session_resumption = false;
    return net::TlsServerContext::Create(tls_options);
  }

  // Identify derives the identity once per connection: the TlsPeer is shared
  // by every request of a connection, so a small per-thread cache keyed by it
  // avoids parsing the certificate for each keep-alive request.
  Result<std::shared_ptr<const ClientIdentity>> Identify(const net::Request& request) const {
    thread_local std::vector<IdentityCacheEntry> cache;
    if (request.tls) {
      for (auto& entry : cache) {
        if (auto peer = entry.peer.lock(); peer && peer == request.tls) return entry.identity;
      }
    }
    auto identity = std::make_shared<ClientIdentity>();
    std::vector<Bytes> chain;
    if (request.tls) {
      chain = request.tls->verified_chain_der;
      identity->cipher = request.tls->cipher;
    }
    KISEE_ASSIGN_OR_RETURN(identity->name, ClientNameOf(chain, request.remote_address));
    if (!chain.empty()) {
      KISEE_ASSIGN_OR_RETURN(auto leaf, pki::Certificate::FromDer(chain.front()));
      identity->serial = leaf.serial_hex();
      identity->subject = leaf.subject().ToRfc4514();
      identity->issuer = leaf.issuer().ToRfc4514();
      identity->scopes = leaf.scopes();
      for (const auto& der : chain) {
        auto certificate = pki::Certificate::FromDer(der);
        identity->chain_subjects.push_back(certificate ? certificate->subject().ToRfc4514() : "?");
      }
    }
    if (request.tls) {
      constexpr std::size_t kCacheSize = 64;
      std::erase_if(cache, [](const IdentityCacheEntry& entry) { return entry.peer.expired(); });
      if (cache.size() >= kCacheSize) cache.erase(cache.begin());
      cache.push_back({request.tls, identity});
    }
    return std::shared_ptr<const ClientIdentity>(std::move(identity));
  }

  // Authorize applies certified.md §4; returns the refusal, if any.
  std::optional<net::Response> Authorize(const net::Request& request,
                                         const ClientIdentity& identity) const {
    std::optional<std::string_view> token = BearerToken(request);
    if (!token && options.require_biscuit) return Detail(401, kMissingToken);
    std::optional<biscuit::Biscuit> verified;
    if (token) {
      for (const auto& root : root_keys) {
        auto parsed = biscuit::Biscuit::FromBase64(*token, root);
        if (parsed) {
          verified = std::move(*parsed);
          break;
        }
      }
      if (!verified) return Detail(401, kInvalidToken);
    }
    biscuit::AuthorizerBuilder builder = policy;
    builder.AddTime();
    using biscuit::Value;
    bool ok = builder.AddFact("client({v})", {{"v", Value::String(identity.name)}}) &&
              builder.AddFact("service({v})", {{"v", Value::String(options.service_name)}}) &&
              builder.AddFact("path({v})", {{"v", Value::String(request.path)}}) &&
              builder.AddFact("operation({v})", {{"v", Value::String(request.method)}});
    if (ok && !identity.serial.empty()) {
      ok = static_cast<bool>(
          builder.AddFact("client_serial({v})", {{"v", Value::String(identity.serial)}}));
    }
    for (const auto& scope : identity.scopes) {
      if (!ok) break;
      ok = static_cast<bool>(builder.AddFact("scope({v})", {{"v", Value::String(scope)}}));
    }
    if (!ok) return Detail(403, "Forbidden");
    auto authorizer = verified ? builder.Build(*verified) : builder.BuildUnauthenticated();
    if (!authorizer || !authorizer->Authorize()) return Detail(403, "Forbidden");
    return std::nullopt;
  }

  // GuardUnroutedMethods answers the usual methods a routed pattern lacks
  // with 405 behind Guard. The router's own 405 comes before identification
  // and authorization: it would answer a client without the biscuit it must
  // present, tell an unauthorized client which methods a path has, and be
  // logged without the client (certified.md §4, §5). Other methods still
  // get the router's 405.
  void GuardUnroutedMethods() {
    for (const auto& [pattern, methods] : routed) {
      auto has = [&methods](std::string_view method) {
        return std::find(methods.begin(), methods.end(), method) != methods.end();
      };
      std::string allow;
      for (const auto& method : methods) allow += (allow.empty() ? "" : ", ") + method;
      if (has("GET") && !has("HEAD")) allow += ", HEAD";
      for (std::string_view method : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
        if (has(method) || (method == "HEAD" && has("GET"))) continue;
        // kAlreadyExists when Listen runs twice: the route is there already.
        (void)router->Add(
            method, pattern,
            Guard([allow](const net::Request&, const ClientIdentity&, net::Responder respond) {
              net::Response response = Detail(405, "Method Not Allowed");
              response.headers.Add("Allow", allow);
              respond(std::move(response));
            }));
      }
    }
  }

  // Guard turns an identity handler into a net handler: identify, log,
  // authorize, then call.
  net::Handler Guard(IdentityHandler handler) const {
    return
        [this, handler = std::move(handler)](const net::Request& request, net::Responder respond) {
          auto identity = Identify(request);
          if (!identity) {
            respond(Detail(401, "Client identity is required."));
            return;
          }
          std::shared_ptr<const ClientIdentity> who = *identity;
          net::Responder logged = net::MakeResponder([respond, who](net::Response response) {
            response.AddLogField("client", who->name);
            if (!who->serial.empty()) response.AddLogField("serial", who->serial);
            if (!who->cipher.empty()) response.AddLogField("cipher", who->cipher);
            respond(std::move(response));
          });
          if (authorize) {
            if (auto refusal = Authorize(request, *who)) {
              logged(std::move(*refusal));
              return;
            }
          }
          handler(request, *who, logged);
        };
  }
};

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Service::~Service() {
  if (impl_->server) {
    impl_->server->Shutdown();
    if (impl_->started) impl_->server->Wait();
  }
  if (impl_->proxy) {
    std::lock_guard lock(impl_->proxy->mutex);
    impl_->proxy->client.reset();
  }
  impl_->server.reset();
}

Result<std::unique_ptr<Service>> Service::Create(ServiceOptions options) {
  KISEE_ASSIGN_OR_RETURN(auto config, ConfigDir::Open(options.config_dir));
  KISEE_ASSIGN_OR_RETURN(auto url, internal::SplitUrl(options.url));
  auto bad_url = [&](std::string_view why) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "Cannot serve " + options.url + ": " + std::string(why));
  };
  if (url.scheme != "https") return bad_url("the URL must use https.");
  if (!url.port) return bad_url("URL must define a port.");
  if (url.has_user_info) return bad_url("the URL must not contain user info.");
  if (!url.path.empty() && url.path != "/") return bad_url("Cannot serve a sub-path.");
  if (url.query) return bad_url("Cannot serve specific query.");
  if (url.fragment) return bad_url("Cannot serve specific fragment.");
  auto impl = std::make_unique<Impl>(std::move(options), std::move(config));
  impl->host = url.host == "localhost" ? "127.0.0.1" : url.host;
  impl->port = *url.port;
  impl->authorize = impl->options.policy.has_value() || impl->options.require_biscuit;
  biscuit::RunLimits limits;
  // The reference's 1 ms budget is tight on a loaded machine; the fact and
  // iteration bounds still cap what a token can make the server do.
  limits.max_time = std::chrono::milliseconds(20);
  impl->policy.SetLimits(limits);
  std::string policy = impl->options.policy.value_or(std::string(kDefaultPolicy));
  if (auto status = impl->policy.AddCode(policy); !status) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid policy: " + status.error().ToString());
  }
  std::error_code ec;
  if (fs::exists(impl->config.ca_cert_path(), ec)) {
    auto ca = impl->config.LoadCertificate(impl->config.ca_cert_path());
    if (ca) {
      if (auto key = ca->public_key()) {
        if (auto root = BiscuitPublicKey(*key)) impl->root_keys.push_back(std::move(*root));
      }
    }
  }
  for (const auto& key : impl->options.extra_root_keys) impl->root_keys.push_back(key);
  KISEE_ASSIGN_OR_RETURN(impl->tls, impl->BuildTls());
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

Status Service::Add(std::string_view method, std::string_view pattern, IdentityHandler handler) {
  KISEE_RETURN_IF_ERROR(impl_->router->Add(method, pattern, impl_->Guard(std::move(handler))));
  impl_->routed[std::string(pattern)].emplace_back(method);
  return Ok();
}

Status Service::AddSync(std::string_view method, std::string_view pattern,
                        SyncIdentityHandler handler) {
  return Add(method, pattern,
             [handler = std::move(handler)](
                 const net::Request& request, const ClientIdentity& identity,
                 net::Responder respond) { respond(handler(request, identity)); });
}

void Service::SetFallback(IdentityHandler handler) {
  impl_->has_fallback = true;
  impl_->router->SetFallback(impl_->Guard(std::move(handler)));
}

Status Service::UseEchoApp() {
  KISEE_RETURN_IF_ERROR(
      AddSync("GET", "/echo/{value}", [](const net::Request& request, const ClientIdentity&) {
        return net::Response::Json(200, Json{{"message", request.Param("value")}}.dump(
                                            -1, ' ', false, Json::error_handler_t::replace));
      }));
  return AddSync("POST", "/echo", [](const net::Request& request, const ClientIdentity&) {
    if (!internal::JsonDepthWithin(request.body)) return Detail(400, "The body nests too deeply.");
    Json body = Json::parse(request.body, nullptr, false);
    if (body.is_discarded()) return Detail(400, "The body is not JSON.");
    return net::Response::Json(200, body.dump(-1, ' ', false, Json::error_handler_t::replace));
  });
}

Status Service::UseInfoApp() {
  auto info = [](const net::Request& request, const ClientIdentity& identity) {
    Json out = {{"client", identity.name},     {"serial", identity.serial},
                {"subject", identity.subject}, {"issuer", identity.issuer},
                {"scopes", identity.scopes},   {"chain", identity.chain_subjects},
                {"cipher", identity.cipher}};
    if (request.tls && !request.tls->verified_chain_der.empty()) {
      if (auto leaf = pki::Certificate::FromDer(request.tls->verified_chain_der.front())) {
        out["not_before"] = pki::FormatTime(leaf->not_before());
        out["not_after"] = pki::FormatTime(leaf->not_after());
        Json names = Json::array();
        for (const auto& name : leaf->alt_names()) names.push_back(name.value);
        out["alt_names"] = names;
        out["cert"] = leaf->ToB64Der();
      }
      out["protocol"] = request.tls->protocol;
    }
    return net::Response::Json(200, out.dump(-1, ' ', false, Json::error_handler_t::replace));
  };
  KISEE_RETURN_IF_ERROR(AddSync("GET", "/info", info));
  return AddSync("GET", "/", info);
}

Status Service::UseProxy(std::string_view upstream) {
  KISEE_ASSIGN_OR_RETURN(auto parts, internal::SplitUrl(upstream));
  if (parts.scheme != "http" || parts.query || parts.fragment || parts.has_user_info) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--upstream must be http://host:port[/prefix]: " + std::string(upstream));
  }
  auto slot = std::make_shared<Impl::ProxySlot>();
  slot->upstream.scheme = "http";
  slot->upstream.host = parts.host;
  slot->upstream.port = parts.port.value_or(80);
  slot->upstream.target = "/";
  slot->prefix = parts.path;
  while (!slot->prefix.empty() && slot->prefix.back() == '/') slot->prefix.pop_back();
  impl_->proxy = slot;
  std::string upstream_authority = parts.Authority();
  SetFallback([slot, upstream_authority](const net::Request& request,
                                         const ClientIdentity& identity, net::Responder respond) {
    std::shared_ptr<net::HttpClient> client;
    {
      std::lock_guard lock(slot->mutex);
      client = slot->client;
    }
    if (!client) {
      respond(Detail(503, "The proxy is not ready."));
      return;
    }
    net::ClientRequest out;
    out.method = request.method;
    out.target = slot->prefix + request.target;
    for (const auto& field : request.headers) {
      if (IsHopByHop(field.name) || IsCertifiedHeader(field.name) ||
          net::EqualsIgnoreCase(field.name, "Host") ||
          net::EqualsIgnoreCase(field.name, "X-Forwarded-For") ||
          net::EqualsIgnoreCase(field.name, "X-Forwarded-Proto") ||
          net::EqualsIgnoreCase(field.name, "X-Forwarded-Host")) {
        continue;
      }
      out.headers.Add(field.name, field.value);
    }
    out.headers.Set("Host", upstream_authority);
    if (auto host = request.Header("Host")) out.headers.Set("X-Forwarded-Host", HeaderSafe(*host));
    out.headers.Set("X-Forwarded-For", request.remote_address);
    out.headers.Set("X-Forwarded-Proto", "https");
    out.headers.Set("X-Certified-Client", HeaderSafe(identity.name));
    out.headers.Set("X-Certified-Serial", identity.serial);
    std::string scopes;
    for (const auto& scope : identity.scopes) {
      if (!scopes.empty()) scopes += ",";
      scopes += HeaderSafe(scope);
    }
    out.headers.Set("X-Certified-Scopes", scopes);
    out.body = request.body;
    client->Send(slot->upstream, std::move(out), [respond](Result<net::ClientResponse> result) {
      if (!result) {
        int status = result.error().code() == ErrorCode::kDeadlineExceeded ? 504 : 502;
        respond(Detail(status, status == 504 ? "Upstream timed out." : "Upstream unavailable."));
        return;
      }
      net::Response response(result->status);
      response.reason = result->reason;
      for (const auto& field : result->headers) {
        if (!IsHopByHop(field.name)) response.headers.Add(field.name, field.value);
      }
      response.body = std::move(result->body);
      respond(std::move(response));
    });
  });
  return Ok();
}

Result<std::uint16_t> Service::Listen() {
  net::ServerOptions server_options;
  server_options.host = impl_->host;
  server_options.port = impl_->port;
  server_options.threads = impl_->options.threads;
  server_options.tls = impl_->tls;
  if (impl_->options.access_log) {
    server_options.access_log = impl_->options.access_log;
  } else {
    auto mutex = std::make_shared<std::mutex>();
    server_options.access_log = net::LineAccessLog([mutex](std::string_view line) {
      std::lock_guard lock(*mutex);
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
      std::fflush(stdout);
    });
  }
  impl_->GuardUnroutedMethods();
  if (!impl_->has_fallback) {
    // Unrouted paths still go through identification and authorization, so
    // that they are logged with the client and never reveal more to an
    // unauthorized client than to an authorized one.
    SetFallback([](const net::Request&, const ClientIdentity&, net::Responder respond) {
      respond(Detail(404, "Not Found"));
    });
  }
  impl_->server = std::make_unique<net::Server>(std::move(server_options), impl_->router);
  KISEE_ASSIGN_OR_RETURN(auto port, impl_->server->Listen());
  spdlog::info(
      "serving {} on {}:{} (TLS 1.3, client certificates from {}, authorization {})",
      impl_->options.service_name, impl_->host, port, impl_->config.known_clients_dir().string(),
      impl_->authorize ? (impl_->options.require_biscuit ? "with required biscuits" : "by policy")
                       : "off");
  if (impl_->proxy) {
    std::lock_guard lock(impl_->proxy->mutex);
    impl_->proxy->client = net::HttpClient::Create(*impl_->server, net::ClientOptions{});
  }
  return port;
}

Status Service::Run() {
  if (!impl_->server) return MakeError(ErrorCode::kFailedPrecondition, "Listen first");
  KISEE_RETURN_IF_ERROR(impl_->server->HandleSignals([this] {
    if (auto status = Reload(); !status) {
      spdlog::error("reload failed, keeping the previous trust material: {}",
                    status.error().message());
    } else {
      spdlog::info("reloaded known_clients/ and the CRLs");
    }
  }));
  impl_->started = true;
  auto status = impl_->server->Run();
  impl_->started = false;
  return status;
}

Status Service::Start() {
  if (!impl_->server) return MakeError(ErrorCode::kFailedPrecondition, "Listen first");
  KISEE_RETURN_IF_ERROR(impl_->server->Start());
  impl_->started = true;
  return Ok();
}

void Service::Wait() {
  if (impl_->server && impl_->started) {
    impl_->server->Wait();
    impl_->started = false;
  }
}

void Service::Shutdown() {
  if (impl_->server) impl_->server->Shutdown();
}

Status Service::Reload() {
  KISEE_ASSIGN_OR_RETURN(auto tls, impl_->BuildTls());
  if (impl_->server) impl_->server->SetTlsContext(tls);
  return Ok();
}

}  // namespace kisee::certified
