#include "kisee/net/access_log.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <memory>
#include <utility>

namespace kisee::net {
namespace {

// AppendJsonString writes `text` as a JSON string. Bytes outside printable
// ASCII are escaped as \u00XX: a log line must stay one valid line whatever
// a client put in its request path.
void AppendJsonString(fmt::memory_buffer& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte >= 0x7f) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", byte);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

void AppendTime(fmt::memory_buffer& out, TimePoint time) {
  auto since_epoch = time.time_since_epoch();
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
  std::time_t t = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&t, &utc);
  fmt::format_to(std::back_inserter(out), "\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z\"",
                 utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                 utc.tm_sec, millis);
}

bool IsStandardField(std::string_view name) {
  for (std::string_view standard :
       {"time", "remote", "port", "method", "path", "status", "bytes", "duration_ms"}) {
    if (name == standard) return true;
  }
  return false;
}

}  // namespace

std::string FormatAccessLogLine(const AccessLogRecord& record) {
  fmt::memory_buffer out;
  auto it = std::back_inserter(out);
  fmt::format_to(it, "{{\"time\":");
  AppendTime(out, record.time);
  fmt::format_to(it, ",\"remote\":");
  AppendJsonString(out, record.remote_address);
  fmt::format_to(it, ",\"port\":{},\"method\":", record.remote_port);
  AppendJsonString(out, record.method);
  fmt::format_to(it, ",\"path\":");
  AppendJsonString(out, record.path);
  fmt::format_to(it, ",\"status\":{},\"bytes\":{},\"duration_ms\":{:.3f}", record.status,
                 record.bytes, record.duration_ms);
  for (const auto& field : record.fields) {
    if (IsStandardField(field.name)) continue;
    out.push_back(',');
    AppendJsonString(out, field.name);
    out.push_back(':');
    AppendJsonString(out, field.value);
  }
  out.push_back('}');
  return fmt::to_string(out);
}

AccessLogSink SpdlogAccessLog(std::string logger_name) {
  // Resolved once: a registry lookup per request would take spdlog's
  // registry mutex on every request.
  std::shared_ptr<spdlog::logger> logger = spdlog::get(logger_name);
  if (!logger) logger = spdlog::default_logger();
  return [logger = std::move(logger)](const AccessLogRecord& record) {
    std::string line = FormatAccessLogLine(record);
    // Passed as a plain message: a path with braces is not a format string.
    logger->log(spdlog::level::info, spdlog::string_view_t(line.data(), line.size()));
  };
}

AccessLogSink LineAccessLog(std::function<void(std::string_view line)> write) {
  return [write = std::move(write)](const AccessLogRecord& record) {
    write(FormatAccessLogLine(record));
  };
}

}  // namespace kisee::net
