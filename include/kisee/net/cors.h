// CORS as kisee does it (kisee-api §2.11): preflight answers on every route
// and Access-Control-* headers on actual requests that carry an Origin.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kisee/net/http.h"

namespace kisee::net {

// CorsOptions configures a CorsPolicy.
struct CorsOptions {
  // allowed_origins: exact origins ("https://app.example.com") that may make
  // cross-origin requests. Empty means any origin (the original's default).
  std::vector<std::string> allowed_origins;
};

// CorsPolicy answers preflights and decorates responses. Immutable; safe for
// concurrent use.
class CorsPolicy {
 public:
  explicit CorsPolicy(CorsOptions options = {});

  // IsAllowed tells whether `origin` may make cross-origin requests.
  bool IsAllowed(std::string_view origin) const;

  // Preflight answers an OPTIONS request on a route whose methods are
  // `route_methods` (empty: any method). With an allowed Origin and an
  // Access-Control-Request-Method naming one of them: 200, empty body,
  // Access-Control-Allow-Origin (the origin echoed), -Allow-Credentials: true,
  // -Allow-Methods (the requested method), -Allow-Headers (the requested
  // headers, if any), Vary: Origin. Otherwise: 403 problem "Forbidden".
  Response Preflight(const Request& request, std::span<const std::string> route_methods) const;

  // Decorate adds Vary: Origin to `response` and, when the request carries an
  // allowed Origin, Access-Control-Allow-Origin (echoed),
  // Access-Control-Allow-Credentials: true and Access-Control-Expose-Headers
  // listing the response's non-simple headers (Vary, and the Date the server
  // adds to every response, included: the list is never empty).
  void Decorate(const Request& request, Response& response) const;

 private:
  std::vector<std::string> allowed_origins_;
};

}  // namespace kisee::net
