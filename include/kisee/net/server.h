// The HTTP/1.1 server: keep-alive, bounded pipelining, limits and timeouts
// on everything a client controls, optional TLS or mutual TLS, graceful
// shutdown. Handlers know nothing of it: they see a Request and a Responder.
//
// Wiring, in an application's main:
//   auto router = std::make_shared<kisee::net::Router>();
//   router->AddSync("GET", "/health", Health);
//   kisee::net::ServerOptions options;
//   options.host = "0.0.0.0"; options.port = 8140;
//   options.access_log = kisee::net::SpdlogAccessLog();
//   options.tls = *kisee::net::TlsServerContext::Create(tls_options);  // optional
//   kisee::net::Server server(std::move(options), router);
//   KISEE_ASSIGN_OR_RETURN(auto port, server.Listen());
//   KISEE_RETURN_IF_ERROR(server.HandleSignals([&] { server.SetTlsContext(Reload()); }));
//   return server.Run();  // returns after SIGTERM/SIGINT and the drain
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "kisee/core/error.h"
#include "kisee/net/access_log.h"
#include "kisee/net/router.h"
#include "kisee/net/tls.h"

namespace kisee::net {

// ServerOptions configures a Server. Every limit protects the server from
// its clients; the defaults suit kisee behind or without a proxy.
struct ServerOptions {
  std::string host = "127.0.0.1";  // address to bind: IPv4 or IPv6 literal
  std::uint16_t port = 0;          // 0: an ephemeral port (see Server::port)
  int threads = 0;                 // I/O threads; 0: one per core

  std::size_t max_connections = 10000;   // beyond: new connections get 503 and are closed
  std::size_t max_header_bytes = 16384;  // request line + headers; beyond: 431, close
  std::size_t max_body_bytes = 1 << 20;  // beyond: 413, close
  std::size_t max_pipelined = 16;        // requests in flight on one connection

  std::chrono::milliseconds handshake_timeout{10'000};   // TLS handshake
  std::chrono::milliseconds header_timeout{10'000};      // first request's header
  std::chrono::milliseconds body_timeout{30'000};        // one request body
  std::chrono::milliseconds keep_alive_timeout{30'000};  // idle wait + next header
  std::chrono::milliseconds write_timeout{30'000};       // one response
  std::chrono::milliseconds drain_timeout{30'000};       // graceful shutdown bound

  // tls: null for plain HTTP; else every connection is TLS with it (see
  // Server::SetTlsContext to replace it at run time).
  std::shared_ptr<const TlsServerContext> tls;
  // access_log: called once per answered request; null: no access log.
  AccessLogSink access_log;
};

// Server serves a Router over HTTP/1.1 on one io_context run by `threads`
// threads. Lifecycle: construct, Listen, optionally HandleSignals, then Run
// (or Start + Wait); Shutdown ends it gracefully: stop accepting, finish
// every request already received (asynchronous handlers included), close
// idle connections, and return within drain_timeout.
// Thread-safety: Shutdown, SetTlsContext, port and connection_count may be
// called from any thread; the lifecycle calls from one thread.
class Server {
 public:
  // REQUIRES: router != nullptr.
  Server(ServerOptions options, std::shared_ptr<const Router> router);
  // The destructor shuts down without draining if still running and joins
  // the I/O threads.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Listen binds host:port and starts listening. Returns the bound port.
  // Errors: kInvalidArgument (bad host), kIo (bind/listen failed, e.g.
  // "address already in use"), kFailedPrecondition (called twice).
  Result<std::uint16_t> Listen();

  // HandleSignals makes SIGTERM and SIGINT start the graceful shutdown and,
  // if `on_hangup` is given, SIGHUP call it on an I/O thread (e.g. to reload
  // trust material and call SetTlsContext). Call before Start/Run. Errors:
  // kIo if the signals cannot be registered.
  Status HandleSignals(std::function<void()> on_hangup = {});

  // Start begins serving on the I/O threads and returns. REQUIRES: Listen
  // succeeded. Errors: kFailedPrecondition.
  Status Start();
  // Wait blocks until the server has stopped (after Shutdown and the drain).
  void Wait();
  // Run is Start then Wait. Returns Ok after a graceful shutdown.
  Status Run();

  // Shutdown begins the graceful shutdown. Idempotent; returns at once.
  void Shutdown();

  // SetTlsContext replaces the TLS context for connections accepted from now
  // on; established connections keep theirs. REQUIRES: the server was
  // created with a TLS context (plain HTTP stays plain).
  void SetTlsContext(std::shared_ptr<const TlsServerContext> context);

  // port returns the bound port (0 before Listen).
  std::uint16_t port() const;
  // connection_count returns the number of open connections.
  std::size_t connection_count() const;

  class Impl;
  // impl is for the net library's own use (the HTTP client runs on it).
  Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace kisee::net
