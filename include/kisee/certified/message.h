// `message`: an HTTPS client that speaks mTLS with a certified identity
// (certified.md §6).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kisee::certified {

// MessageOptions are the arguments of `message`.
struct MessageOptions {
  std::filesystem::path config_dir;
  std::string url;
  std::optional<std::string> data;  // JSON text
  std::optional<std::filesystem::path> json_file;
  std::optional<std::filesystem::path> yaml_file;
  std::optional<std::string> method;  // default POST with a body, GET without
  bool pretty = false;
  std::vector<std::string> headers;  // "Name: value"
  int verbosity = 0;
};

// MessageOutcome is what the command prints and its exit status: 0 and the
// body on 2xx; status % 256 and "Error: <body>" on stderr otherwise; 1 and
// one line on stderr for connection, TLS, certificate or input failures;
// 2 for usage errors (several bodies, a malformed header).
struct MessageOutcome {
  int exit_code = 0;
  std::string out;
  std::string err;
};

// SendMessage resolves the URL (service records), picks the client chain and
// the server trust, sends the request and reports. Never throws.
MessageOutcome SendMessage(const MessageOptions& options);

}  // namespace kisee::certified
