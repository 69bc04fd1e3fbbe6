// The HTTP/1.1 client: asynchronous with a keep-alive connection pool (the
// reverse proxy of `certified serve`), or one blocking call (`message`).
// Over TLS it verifies the server's chain and name and can present a client
// certificate (mTLS).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "kisee/core/error.h"
#include "kisee/net/http.h"
#include "kisee/net/tls.h"

namespace kisee::net {

class Server;

// Url is an absolute http or https URL, split.
struct Url {
  std::string scheme;      // "http" or "https"
  std::string host;        // DNS name or IP literal (IPv6 without brackets)
  std::uint16_t port = 0;  // explicit, or 80 / 443 by scheme
  std::string target;      // path and query, "/" when the URL has no path
};

// ParseUrl parses "http[s]://host[:port][/path][?query]". Errors:
// kInvalidArgument for another scheme, user info, a fragment, an empty host
// or a bad port.
Result<Url> ParseUrl(std::string_view text);

// ClientRequest is a request to send. The client adds Host (unless set),
// Content-Length (when there is a body or the method expects one) and
// Connection; header names and values must not contain CR or LF.
struct ClientRequest {
  std::string method = "GET";
  std::string target;  // empty: the URL's target
  Headers headers;
  std::string body;
};

// ClientResponse is a complete response.
struct ClientResponse {
  int status = 0;
  std::string reason;
  Headers headers;
  std::string body;
};

// ClientOptions configures the client.
struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};    // TCP connect + TLS handshake
  std::chrono::milliseconds response_timeout{30'000};  // send + complete response
  std::size_t max_response_header_bytes = 65536;
  std::size_t max_response_body_bytes = 64u << 20;
  std::size_t max_idle_connections = 256;          // kept for reuse, per client
  std::chrono::milliseconds idle_timeout{30'000};  // an idle connection older than this is closed
  // tls: required for https URLs (it holds the trust anchors).
  std::shared_ptr<const TlsClientContext> tls;
};

// ClientCallback receives the outcome of one request. Errors carry a
// one-line message naming the peer: kUnavailable (cannot connect, connection
// lost, bad response), kDeadlineExceeded (a timeout), kUnauthenticated (TLS
// certificate or name verification failed), kInvalidArgument (bad request or
// URL), kResourceExhausted (response over the limits). A proxy maps
// kDeadlineExceeded to 504 and the others to 502.
using ClientCallback = std::function<void(Result<ClientResponse>)>;

// HttpClient sends requests asynchronously over pooled keep-alive
// connections. It runs on the I/O threads of a Server (a proxy does not
// block them and pays no thread hop). Thread-safe.
// WARNING: destroy it before the Server it was created on.
class HttpClient {
 public:
  // Create makes a client whose I/O runs on `server`'s threads.
  static std::shared_ptr<HttpClient> Create(Server& server, ClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Send sends `request` to url's origin (the request's target, or the URL's
  // if empty) and calls `done` exactly once, on an I/O thread. A request that
  // fails on a reused keep-alive connection before any response byte arrived
  // is retried once on a new connection.
  void Send(const Url& url, ClientRequest request, ClientCallback done);

  // idle_connections returns the number of pooled idle connections.
  std::size_t idle_connections() const;

  class Impl;

 private:
  explicit HttpClient(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// Fetch sends one request and waits for the response, on the calling thread
// (its own event loop), e.g. for the `message` command. Errors as for
// ClientCallback.
Result<ClientResponse> Fetch(const Url& url, ClientRequest request, const ClientOptions& options);

}  // namespace kisee::net
