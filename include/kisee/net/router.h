// The router: exact paths and `{name}` parameters to handlers, with the
// kisee rules (kisee-api §1): no slash normalisation, query ignored, 404 and
// 405 as problem documents, HEAD served by GET, OPTIONS for CORS preflight.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kisee/core/error.h"
#include "kisee/net/cors.h"
#include "kisee/net/handler.h"
#include "kisee/net/http.h"

namespace kisee::net {

// Router maps (method, path) to handlers. Configure it with Add*/Set* first,
// then hand it to a Server as a shared_ptr<const Router>: the const methods
// are then safe to call from every I/O thread at once. Configuration methods
// are not thread-safe.
class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Add routes `method` requests for `pattern` to `handler`. A pattern starts
  // with '/' and is matched exactly against the request path (not decoded):
  // "/jwt/" does not match "/jwt". A segment "{name}" matches one non-empty
  // segment (no '/'), delivered percent-decoded as Request::Param("name").
  // A literal path wins over a pattern; patterns are tried in the order
  // added. Errors: kInvalidArgument (malformed pattern or method),
  // kAlreadyExists (the method is already routed for that pattern).
  Status Add(std::string_view method, std::string_view pattern, Handler handler);
  // AddSync is Add for a synchronous handler.
  Status AddSync(std::string_view method, std::string_view pattern, SyncHandler handler);

  // SetCors makes every routed path answer OPTIONS preflights with `policy`
  // (unless an OPTIONS route exists for it) and decorates every response
  // with policy.Decorate (404 and 405 included).
  void SetCors(CorsPolicy policy);
  // SetOptionsHandler routes OPTIONS on every routed path that has no
  // OPTIONS route to `handler` (a hook for custom preflights; SetCors wins).
  void SetOptionsHandler(Handler handler);
  // SetFallback sends requests for unrouted paths to `handler` (e.g. a
  // reverse proxy) instead of answering 404.
  void SetFallback(Handler handler);

  // Dispatch routes `request`: fills request.path_params and calls the
  // handler, or answers through `responder`: 404 problem "Not Found" for an
  // unrouted path, 405 problem "Method Not Allowed" with an Allow header for
  // an unrouted method. HEAD goes to the GET handler when there is no HEAD
  // route (the server drops the body). Exceptions from handlers are answered
  // 500. Called by the server; tests may call it directly.
  void Dispatch(Request& request, Responder responder) const;

  // Finish applies the router-wide response rules (CORS decoration) to the
  // response of `request`. Called by the server before sending.
  void Finish(const Request& request, Response& response) const;

 private:
  struct Table;
  std::unique_ptr<Table> table_;
};

}  // namespace kisee::net
