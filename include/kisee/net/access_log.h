// Access logging: one JSON line per finished request. Bodies, query strings
// and the Authorization header are never part of it (reset tokens travel in
// query strings, credentials in Authorization).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "kisee/core/clock.h"
#include "kisee/net/http.h"

namespace kisee::net {

// AccessLogRecord is what the server knows about one answered request. The
// views borrow from the server and are valid during the sink call only.
struct AccessLogRecord {
  TimePoint time;                   // when the request's header was complete
  std::string_view remote_address;  // client IP
  std::uint16_t remote_port = 0;
  std::string_view method;
  std::string_view path;  // without the query string
  int status = 0;
  std::uint64_t bytes = 0;           // body bytes sent (0 for HEAD)
  double duration_ms = 0;            // from the complete header to the response written
  std::span<const LogField> fields;  // Response::log_fields
};

// FormatAccessLogLine renders `record` as one line of JSON (no newline):
// {"time":"2024-05-01T12:00:00.123Z","remote":"127.0.0.1","method":"GET",
//  "path":"/health","status":200,"bytes":52,"duration_ms":0.21,...fields}.
// Extra fields never replace the standard ones.
std::string FormatAccessLogLine(const AccessLogRecord& record);

// AccessLogSink receives each answered request. The server calls it on its
// I/O threads, concurrently: it must be thread-safe and must not block.
using AccessLogSink = std::function<void(const AccessLogRecord&)>;

// SpdlogAccessLog returns a sink that writes FormatAccessLogLine at info
// level through the spdlog logger named `logger_name`, or through the
// default logger if no such logger is registered.
AccessLogSink SpdlogAccessLog(std::string logger_name = "access");

// LineAccessLog returns a sink that passes each formatted line to `write`
// (which must be thread-safe).
AccessLogSink LineAccessLog(std::function<void(std::string_view line)> write);

}  // namespace kisee::net
