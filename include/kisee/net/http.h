// The HTTP model shared by the server, the router, the handlers and the
// client: header lists, requests, responses and problem documents. Plain
// values: nothing here knows about sockets, threads or Boost.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kisee/core/bytes.h"

namespace kisee::net {

// EqualsIgnoreCase compares two strings ASCII-case-insensitively (header
// names, tokens).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// HeaderField is one header line: a name as sent (case preserved) and a value.
struct HeaderField {
  std::string name;
  std::string value;
};

// Headers is an ordered list of header fields with case-insensitive name
// lookup (RFC 9110 §5.1). A name may repeat; Get returns the first one.
// Thread-safety: like a std::vector (concurrent const use is safe).
class Headers {
 public:
  using const_iterator = std::vector<HeaderField>::const_iterator;

  // Get returns the value of the first field named `name`, or nullopt. The
  // view borrows from *this and dies with the next mutation.
  std::optional<std::string_view> Get(std::string_view name) const;
  // GetOr returns the first value of `name`, or `fallback` if absent.
  std::string_view GetOr(std::string_view name, std::string_view fallback) const;
  // Contains tells whether a field named `name` is present.
  bool Contains(std::string_view name) const;

  // Add appends a field, keeping any existing one of the same name.
  void Add(std::string name, std::string value);
  // Set replaces every field named `name` by a single one holding `value`.
  void Set(std::string_view name, std::string value);
  // Remove erases every field named `name` and returns how many there were.
  std::size_t Remove(std::string_view name);

  void clear() { fields_.clear(); }
  void reserve(std::size_t n) { fields_.reserve(n); }
  std::size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  const_iterator begin() const { return fields_.begin(); }
  const_iterator end() const { return fields_.end(); }

 private:
  std::vector<HeaderField> fields_;
};

// TlsPeer describes the TLS session a request arrived on. Shared by every
// request of one connection. Immutable once built.
struct TlsPeer {
  // verified_chain_der: the client's certificate chain as verified by the
  // server, leaf first, ending with the trust anchor (DER each). Empty when
  // the client presented no certificate (possible only without mTLS).
  std::vector<Bytes> verified_chain_der;
  std::string cipher;    // negotiated cipher suite, e.g. "TLS_AES_256_GCM_SHA384"
  std::string protocol;  // negotiated protocol version, e.g. "TLSv1.3"
};

// PathParam is one `{name}` segment of a route pattern with the value it
// matched, percent-decoded.
struct PathParam {
  std::string name;
  std::string value;
};

// Request is one HTTP request as the server received it. Handlers read it;
// the server and the router fill it. A plain value: tests build their own.
struct Request {
  std::string method;  // as sent, case-sensitive: "GET", "POST", ...
  std::string target;  // the request-target as sent: "/jwt/?x=1"
  std::string path;    // target up to the first '?', not decoded: "/jwt/"
  std::string query;   // what follows the first '?', without it; "" if none
  int version = 11;    // 10 for HTTP/1.0, 11 for HTTP/1.1
  Headers headers;
  std::string body;            // complete (the server reads it all before dispatching)
  std::string remote_address;  // the peer's IP address as text
  std::uint16_t remote_port = 0;
  std::shared_ptr<const TlsPeer> tls;  // null on plain-HTTP connections
  std::vector<PathParam> path_params;  // filled by the Router

  // Header returns the first value of header `name` (case-insensitive).
  std::optional<std::string_view> Header(std::string_view name) const { return headers.Get(name); }
  // Param returns the value matched by `{name}` in the route pattern, or ""
  // if the pattern has no such parameter.
  std::string_view Param(std::string_view name) const;
};

// LogField is an extra field of a request's access-log line.
struct LogField {
  std::string name;
  std::string value;
};

// kProblemContentType is the media type of problem documents (kisee-api §3).
inline constexpr std::string_view kProblemContentType = "application/problem+json; charset=utf-8";

// Response is what a handler answers. The server adds the framing itself
// (Content-Length, Connection, Date): such fields set here are ignored.
struct Response {
  int status = 200;
  // reason is the reason phrase sent in the status line (kisee sends error
  // messages there: "HTTP/1.1 400 Invalid json patch."). Empty means the
  // standard phrase. Control characters are replaced by spaces when sent.
  std::string reason;
  Headers headers;
  std::string body;
  // log_fields are added to the access-log line of the request; never sent.
  std::vector<LogField> log_fields;

  Response() = default;
  explicit Response(int status_code) : status(status_code) {}

  // Json returns a response with `body` and Content-Type application/json.
  static Response Json(int status, std::string body);
  // Text returns a response with `body` and Content-Type text/plain; charset=utf-8.
  static Response Text(int status, std::string body);
  // Problem returns a problem document (kisee-api §3) whose reason phrase and
  // title are `reason` (the standard phrase when empty):
  // {"_type": "error", "_meta": {"title": R}, "title": R, ["detail": D,] "status": S}
  // with Content-Type kProblemContentType.
  static Response Problem(int status, std::string_view reason = {},
                          std::optional<std::string_view> detail = std::nullopt);

  // AddLogField appends an access-log field.
  void AddLogField(std::string name, std::string value) {
    log_fields.push_back({std::move(name), std::move(value)});
  }
  // reason_or_standard returns the phrase the server will send.
  std::string_view reason_or_standard() const;
};

// StandardReason returns the registered reason phrase of `status` ("Not
// Found"), or "Unknown" for an unregistered code.
std::string_view StandardReason(int status);

// PercentDecode decodes %XX escapes; a '%' not followed by two hex digits is
// kept as is. '+' is not special (paths, not forms).
std::string PercentDecode(std::string_view text);

}  // namespace kisee::net
