#include "kisee/net/cors.h"

#include <algorithm>

namespace kisee::net {
namespace {

// Response headers a browser exposes to scripts without being told
// (Fetch standard, "CORS-safelisted response-header name"); the server adds
// Content-Length itself.
constexpr std::string_view kSimpleResponseHeaders[] = {
    "Cache-Control", "Content-Language", "Content-Length", "Content-Type",
    "Expires",       "Last-Modified",    "Pragma",
};

// Headers the wire layer writes itself, whatever the handler set: Date is
// added to every response (listed separately below); the hop-by-hop framing
// fields are dropped and never reach a script.
constexpr std::string_view kWireHeaders[] = {
    "Date",
    "Connection",
    "Keep-Alive",
    "Transfer-Encoding",
};

bool IsUnlisted(std::string_view name) {
  for (auto simple : kSimpleResponseHeaders) {
    if (EqualsIgnoreCase(name, simple)) return true;
  }
  for (auto wire : kWireHeaders) {
    if (EqualsIgnoreCase(name, wire)) return true;
  }
  constexpr std::string_view kCorsPrefix = "Access-Control-";
  return name.size() >= kCorsPrefix.size() &&
         EqualsIgnoreCase(name.substr(0, kCorsPrefix.size()), kCorsPrefix);
}

void AddVaryOrigin(Headers& headers) {
  auto vary = headers.Get("Vary");
  if (!vary) {
    headers.Add("Vary", "Origin");
    return;
  }
  // Keep an application's own Vary (e.g. Accept) and add Origin once.
  std::string_view list = *vary;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    std::string_view item =
        list.substr(start, comma == std::string_view::npos ? list.npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (EqualsIgnoreCase(item, "Origin") || item == "*") return;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  headers.Set("Vary", std::string(list) + ", Origin");
}

}  // namespace

CorsPolicy::CorsPolicy(CorsOptions options)
    : allowed_origins_(std::move(options.allowed_origins)) {}

bool CorsPolicy::IsAllowed(std::string_view origin) const {
  if (allowed_origins_.empty()) return true;
  return std::find(allowed_origins_.begin(), allowed_origins_.end(), origin) !=
         allowed_origins_.end();
}

Response CorsPolicy::Preflight(const Request& request,
                               std::span<const std::string> route_methods) const {
  auto origin = request.Header("Origin");
  auto method = request.Header("Access-Control-Request-Method");
  if (!origin || !method || origin->empty() || method->empty() || !IsAllowed(*origin)) {
    return Response::Problem(403, "Forbidden");
  }
  if (!route_methods.empty() &&
      std::find(route_methods.begin(), route_methods.end(), *method) == route_methods.end()) {
    return Response::Problem(403, "Forbidden");
  }
  Response response(200);
  response.headers.Add("Access-Control-Allow-Origin", std::string(*origin));
  response.headers.Add("Access-Control-Allow-Credentials", "true");
  response.headers.Add("Access-Control-Allow-Methods", std::string(*method));
  if (auto requested = request.Header("Access-Control-Request-Headers");
      requested && !requested->empty()) {
    response.headers.Add("Access-Control-Allow-Headers", std::string(*requested));
  }
  response.headers.Add("Vary", "Origin");
  return response;
}

void CorsPolicy::Decorate(const Request& request, Response& response) const {
  AddVaryOrigin(response.headers);
  auto origin = request.Header("Origin");
  if (!origin || origin->empty() || !IsAllowed(*origin)) return;
  // A preflight answer already carries its own Access-Control-* headers.
  if (response.headers.Contains("Access-Control-Allow-Origin")) return;
  // Every non-simple header of the response, Vary included (kisee-api
  // §2.11), so the header is never missing: the original listed all of them.
  std::string exposed;
  for (auto field = response.headers.begin(); field != response.headers.end(); ++field) {
    if (IsUnlisted(field->name)) continue;
    // A repeated header is listed once, at its first occurrence.
    bool seen = std::any_of(response.headers.begin(), field, [&](const HeaderField& earlier) {
      return EqualsIgnoreCase(earlier.name, field->name);
    });
    if (seen) continue;
    if (!exposed.empty()) exposed += ',';
    exposed += field->name;
  }
  // The wire layer adds Date to every response after this point.
  if (!exposed.empty()) exposed += ',';
  exposed += "Date";
  response.headers.Add("Access-Control-Allow-Origin", std::string(*origin));
  response.headers.Add("Access-Control-Allow-Credentials", "true");
  response.headers.Add("Access-Control-Expose-Headers", std::move(exposed));
}

}  // namespace kisee::net
