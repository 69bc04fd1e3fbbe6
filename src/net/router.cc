#include "kisee/net/router.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <string>
#include <unordered_map>
#include <utility>

namespace kisee::net {
namespace {

// TransparentHash lets the literal-path map be searched with the
// request's string_view, without building a std::string per request.
struct TransparentHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

bool IsTokenChar(char c) {
  // RFC 9110 tchar.
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsParamNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// NextSegment returns the text up to the next '/' of `rest` and advances it
// past that '/'. `done` becomes true after the last segment.
std::string_view NextSegment(std::string_view& rest, bool& done) {
  std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    std::string_view segment = rest;
    rest = {};
    done = true;
    return segment;
  }
  std::string_view segment = rest.substr(0, slash);
  rest.remove_prefix(slash + 1);
  return segment;
}

}  // namespace

struct Router::Table {
  struct Route {
    std::string method;
    Handler handler;
  };
  struct Segment {
    std::string text;  // the literal text, or the parameter name
    bool is_param = false;
  };
  struct Entry {
    std::string pattern;
    std::vector<Segment> segments;  // for patterns with parameters
    std::vector<Route> routes;
    std::vector<std::string> methods;  // the routed methods, for preflights
  };

  std::vector<std::unique_ptr<Entry>> entries;
  std::unordered_map<std::string, Entry*, TransparentHash, std::equal_to<>> literals;
  std::vector<Entry*> patterns;
  std::optional<CorsPolicy> cors;
  Handler options_handler;
  Handler fallback;

  const Entry* Match(Request& request) const {
    if (auto it = literals.find(std::string_view(request.path)); it != literals.end()) {
      return it->second;
    }
    for (const Entry* entry : patterns) {
      if (MatchPattern(*entry, request)) return entry;
    }
    return nullptr;
  }

  static bool MatchPattern(const Entry& entry, Request& request) {
    std::string_view rest = std::string_view(request.path).substr(1);
    bool done = false;
    for (std::size_t i = 0; i < entry.segments.size(); ++i) {
      if (done) return false;
      std::string_view segment = NextSegment(rest, done);
      const Segment& expected = entry.segments[i];
      if (expected.is_param ? segment.empty() : segment != expected.text) return false;
    }
    if (!done) return false;
    // Matched: only now pay for the decoded copies.
    request.path_params.clear();
    rest = std::string_view(request.path).substr(1);
    done = false;
    for (const Segment& expected : entry.segments) {
      std::string_view segment = NextSegment(rest, done);
      if (expected.is_param) request.path_params.push_back({expected.text, PercentDecode(segment)});
    }
    return true;
  }

  std::string AllowHeader(const Entry& entry) const {
    std::string allow;
    bool has_get = false, has_head = false, has_options = false;
    for (const auto& route : entry.routes) {
      if (!allow.empty()) allow += ", ";
      allow += route.method;
      has_get |= route.method == "GET";
      has_head |= route.method == "HEAD";
      has_options |= route.method == "OPTIONS";
    }
    if (has_get && !has_head) allow += ", HEAD";
    if (!has_options && (cors || options_handler)) allow += ", OPTIONS";
    return allow;
  }
};

Router::Router() : table_(std::make_unique<Table>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

Status Router::Add(std::string_view method, std::string_view pattern, Handler handler) {
  if (method.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty HTTP method");
  for (char c : method) {
    if (!IsTokenChar(c)) {
      return MakeError(ErrorCode::kInvalidArgument, "invalid HTTP method: " + std::string(method));
    }
  }
  if (!handler) return MakeError(ErrorCode::kInvalidArgument, "empty handler");
  if (pattern.empty() || pattern.front() != '/') {
    return MakeError(ErrorCode::kInvalidArgument,
                     "route pattern must start with '/': " + std::string(pattern));
  }

  std::vector<Table::Segment> segments;
  bool has_params = false;
  std::string_view rest = pattern.substr(1);
  bool done = false;
  while (!done) {
    std::string_view segment = NextSegment(rest, done);
    Table::Segment parsed;
    if (!segment.empty() && segment.front() == '{') {
      std::string_view name = segment.substr(1);
      if (name.empty() || name.back() != '}') {
        return MakeError(ErrorCode::kInvalidArgument,
                         "malformed route pattern: " + std::string(pattern));
      }
      name.remove_suffix(1);
      if (name.empty()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "empty parameter name: " + std::string(pattern));
      }
      for (char c : name) {
        if (!IsParamNameChar(c)) {
          return MakeError(ErrorCode::kInvalidArgument,
                           "malformed route parameter: " + std::string(pattern));
        }
      }
      parsed.text = std::string(name);
      parsed.is_param = true;
      has_params = true;
    } else {
      if (segment.find_first_of("{}?#") != std::string_view::npos) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "malformed route pattern: " + std::string(pattern));
      }
      parsed.text = std::string(segment);
    }
    segments.push_back(std::move(parsed));
  }

  Table::Entry* entry = nullptr;
  for (auto& existing : table_->entries) {
    if (existing->pattern == pattern) entry = existing.get();
  }
  if (entry == nullptr) {
    auto created = std::make_unique<Table::Entry>();
    created->pattern = std::string(pattern);
    if (has_params) {
      created->segments = std::move(segments);
      table_->patterns.push_back(created.get());
    } else {
      table_->literals.emplace(created->pattern, created.get());
    }
    entry = created.get();
    table_->entries.push_back(std::move(created));
  }
  for (const auto& route : entry->routes) {
    if (route.method == method) {
      return MakeError(ErrorCode::kAlreadyExists, "route already defined: " + std::string(method) +
                                                      " " + std::string(pattern));
    }
  }
  entry->routes.push_back({std::string(method), std::move(handler)});
  auto allow_preflight = [entry](std::string_view m) {
    if (std::find(entry->methods.begin(), entry->methods.end(), m) == entry->methods.end()) {
      entry->methods.emplace_back(m);
    }
  };
  allow_preflight(method);
  // Dispatch serves HEAD with the GET handler: a preflight may ask for it.
  if (method == "GET") allow_preflight("HEAD");
  return Ok();
}

Status Router::AddSync(std::string_view method, std::string_view pattern, SyncHandler handler) {
  if (!handler) return MakeError(ErrorCode::kInvalidArgument, "empty handler");
  return Add(method, pattern, FromSync(std::move(handler)));
}

void Router::SetCors(CorsPolicy policy) { table_->cors = std::move(policy); }
void Router::SetOptionsHandler(Handler handler) { table_->options_handler = std::move(handler); }
void Router::SetFallback(Handler handler) { table_->fallback = std::move(handler); }

void Router::Dispatch(Request& request, Responder responder) const {
  const Table& table = *table_;
  // The handler is called inside the try: whatever it throws becomes a 500
  // here, at the library boundary, instead of unwinding into the I/O loop.
  try {
    request.path_params.clear();
    const Table::Entry* entry =
        request.path.empty() || request.path.front() != '/' ? nullptr : table.Match(request);
    if (entry == nullptr) {
      if (table.fallback) {
        table.fallback(request, responder);
      } else {
        responder(Response::Problem(404, "Not Found"));
      }
      return;
    }
    const Handler* handler = nullptr;
    for (const auto& route : entry->routes) {
      if (route.method == request.method) handler = &route.handler;
    }
    if (handler == nullptr && request.method == "HEAD") {
      for (const auto& route : entry->routes) {
        if (route.method == "GET") handler = &route.handler;
      }
    }
    if (handler == nullptr && request.method == "OPTIONS") {
      if (table.cors) {
        responder(table.cors->Preflight(request, entry->methods));
        return;
      }
      if (table.options_handler) handler = &table.options_handler;
    }
    if (handler == nullptr) {
      Response response = Response::Problem(405, "Method Not Allowed");
      response.headers.Add("Allow", table.AllowHeader(*entry));
      responder(std::move(response));
      return;
    }
    (*handler)(request, responder);
  } catch (const std::exception& e) {
    spdlog::error("handler for {} {} threw: {}", request.method, request.path, e.what());
    responder(Response::Problem(500));
  } catch (...) {
    spdlog::error("handler for {} {} threw a non-standard exception", request.method, request.path);
    responder(Response::Problem(500));
  }
}

void Router::Finish(const Request& request, Response& response) const {
  if (table_->cors) table_->cors->Decorate(request, response);
}

}  // namespace kisee::net
