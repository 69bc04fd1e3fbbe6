// Shared by the `certified` and `message` mains: exit-status conventions,
// input reading, and the options of `message` (which is both `certified
// message` and a standalone command, as in the original).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>

#include "kisee/certified/config.h"
#include "kisee/certified/message.h"
#include "kisee/core/error.h"

namespace certified_cli {

inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

// Fail prints the one line of an error and returns the error exit status.
// Messages may quote what the user gave (a file's content, a host name);
// line breaks in it become spaces so that the error stays one line
// (certified.md §3).
inline int Fail(std::string_view message) {
  std::string line(message);
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::fprintf(stderr, "Error: %s\n", line.c_str());
  return kExitError;
}
inline int Fail(const kisee::Error& error) { return Fail(error.message()); }

// ParseArgs runs CLI11; returns an exit status when the program should stop
// (0 after --help, 2 after a usage error).
inline std::optional<int> ParseArgs(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  return std::nullopt;
}

// ReadInput reads a file, or standard input for "-".
inline kisee::Result<std::string> ReadInput(const std::string& path) {
  if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  return kisee::certified::ReadTextFile(path);
}

// ConfigDirOf applies the lookup order of certified.md §1 to --config.
inline std::filesystem::path ConfigDirOf(const std::string& flag) {
  return kisee::certified::ResolveConfigDir(
      flag.empty() ? std::nullopt : std::optional<std::filesystem::path>(flag));
}

// MessageArgs holds the parsed arguments of `message`.
struct MessageArgs {
  kisee::certified::MessageOptions options;
  std::string config;
  std::string data;
  std::string json_file;
  std::string yaml_file;
  std::string method;
  int verbosity = 0;
};

inline void AddMessageOptions(CLI::App* app, MessageArgs& args) {
  app->add_option("URL", args.options.url,
                  "the service's resource URL (https; the host may be an alias in known_servers/)")
      ->required();
  app->add_option("DATA", args.data, "a JSON body (then the method defaults to POST)");
  app->add_option("--json", args.json_file, "send this JSON file as the body");
  app->add_option("--yaml", args.yaml_file, "send this YAML file, converted to JSON, as the body");
  app->add_option("-X", args.method, "the HTTP method (default: POST with a body, GET without)")
      ->check(CLI::IsMember({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}));
  app->add_flag("--pp", args.options.pretty, "pretty-print a JSON answer");
  app->add_option("-H", args.options.headers, "a header \"Name: value\" (repeatable)");
  app->add_flag("-v", args.verbosity,
                "say which record, certificate and trust are used (-vv: more)");
  app->add_option("--config", args.config, "the configuration directory");
}

inline int RunMessage(MessageArgs& args) {
  args.options.config_dir = ConfigDirOf(args.config);
  if (!args.data.empty()) args.options.data = args.data;
  if (!args.json_file.empty()) args.options.json_file = args.json_file;
  if (!args.yaml_file.empty()) args.options.yaml_file = args.yaml_file;
  if (!args.method.empty()) args.options.method = args.method;
  args.options.verbosity = args.verbosity;
  kisee::certified::MessageOutcome outcome = kisee::certified::SendMessage(args.options);
  std::fwrite(outcome.out.data(), 1, outcome.out.size(), stdout);
  std::fwrite(outcome.err.data(), 1, outcome.err.size(), stderr);
  return outcome.exit_code;
}

}  // namespace certified_cli
