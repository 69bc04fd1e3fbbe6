// Serving an API over mutual TLS with a certified identity (certified.md §5),
// in-process: C++ services route handlers that receive the verified client
// identity; `certified serve` uses the same class with its built-in apps
// (`echo`, `info`) or as a reverse proxy in front of any HTTP application.
//
// Every connection is TLS 1.3 with a client certificate verified against
// known_clients/ and the CRLs (CA.crl, known_clients/*.crl); the server
// presents id.crt/id.key. When a policy or biscuits are required, each
// request is authorized (certified.md §4) before its handler runs:
//   - no token and require_biscuit: 401 {"detail": "Required header
//     \"Biscuit: urlsafe-b64-encoded-value\" not found."};
//   - a token that does not parse or verify: 401 {"detail": "... invalid
//     format."};
//   - the authorizer (ambient facts time, client, service, path, operation,
//     client_serial and scope(s), the token's blocks, then the policy,
//     `allow if user($u);` by default) refuses: 403 {"detail": "Forbidden"}.
// Every answered request is logged as one JSON line with method, path,
// status, client name, serial, cipher and duration.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kisee/biscuit/keys.h"
#include "kisee/core/error.h"
#include "kisee/net/access_log.h"
#include "kisee/net/handler.h"
#include "kisee/net/http.h"

namespace kisee::certified {

// ClientIdentity is what a handler learns about the authenticated client.
struct ClientIdentity {
  // name: "uid:<UID>" when the subject has a UID, else "cn:<CN>" (the last
  // CN), else "addr:<ip>".
  std::string name;
  std::string serial;   // the leaf's serial, 40 hex digits
  std::string subject;  // RFC 4514
  std::string issuer;   // RFC 4514
  std::vector<std::string> scopes;
  std::vector<std::string> chain_subjects;  // leaf first, trust anchor last
  std::string cipher;
};

// ClientNameOf derives the client name of certified.md §4 from a verified
// chain's leaf (DER) and the peer address. kUnauthenticated "Client identity
// is required." when none applies.
Result<std::string> ClientNameOf(const std::vector<Bytes>& verified_chain_der,
                                 std::string_view remote_address);

// ServiceOptions configures a Service.
struct ServiceOptions {
  std::filesystem::path config_dir;
  // url: "https://host:port" (port required; no path, query or fragment).
  std::string url = "https://0.0.0.0:4433";
  // service_name: the value of the service(...) fact.
  std::string service_name = "certified";
  // policy: Datalog (policies, checks, rules, facts) run after the ambient
  // facts; empty: `allow if user($u);`. Setting it turns authorization on.
  std::optional<std::string> policy;
  // require_biscuit: refuse requests without a token (401); turns
  // authorization on.
  bool require_biscuit = false;
  // extra_root_keys: biscuit root keys accepted besides the CA key of this
  // directory (when it has one).
  std::vector<biscuit::PublicKey> extra_root_keys;
  int threads = 0;  // I/O threads; 0: one per core
  // access_log: where the JSON lines go; null: standard output.
  net::AccessLogSink access_log;
};

// IdentityHandler handles one authorized request. Contract as net::Handler.
using IdentityHandler =
    std::function<void(const net::Request&, const ClientIdentity&, net::Responder)>;
// SyncIdentityHandler answers at once (cheap work only).
using SyncIdentityHandler =
    std::function<net::Response(const net::Request&, const ClientIdentity&)>;

// Service is an mTLS server for one configuration directory. Configure the
// routes (Add*, Use*), then Listen and Run. Thread-safety: Shutdown and
// Reload may be called from any thread; the rest from one thread.
class Service {
 public:
  // Create loads the identity, the trust material and the policy. Errors:
  // kNotFound (no directory, id.crt, id.key, no known_clients), kInvalidArgument
  // (bad URL, bad policy), kPermissionDenied (key permissions).
  static Result<std::unique_ptr<Service>> Create(ServiceOptions options);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Add routes `method` `pattern` (net::Router syntax) to `handler`.
  Status Add(std::string_view method, std::string_view pattern, IdentityHandler handler);
  Status AddSync(std::string_view method, std::string_view pattern, SyncIdentityHandler handler);
  // SetFallback handles every unrouted request.
  void SetFallback(IdentityHandler handler);

  // UseEchoApp routes GET /echo/{v} → {"message": v} and POST /echo → the
  // JSON body. UseInfoApp routes GET /info (and /) → the client identity
  // and its certificate as JSON.
  Status UseEchoApp();
  Status UseInfoApp();
  // UseProxy forwards every request to `upstream` (http://host:port[/prefix])
  // with X-Certified-Client, X-Certified-Serial and X-Certified-Scopes set
  // from the verified identity (any such headers the client sent are
  // removed). Upstream failures answer 502 (504 on a timeout).
  Status UseProxy(std::string_view upstream);

  // Listen binds the address; returns the port.
  Result<std::uint16_t> Listen();
  // Run serves until SIGTERM/SIGINT (SIGHUP reloads) and the drain.
  Status Run();
  // Start serves in the background (no signal handling); Wait joins.
  Status Start();
  void Wait();
  void Shutdown();
  // Reload re-reads known_clients/ and the CRLs and installs a new TLS
  // context for new connections.
  Status Reload();

 private:
  struct Impl;
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kisee::certified
