// kisee: the identity server. Flags → settings → Serve.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include "kisee/idp/server.h"
#include "kisee/idp/settings.h"

int main(int argc, char** argv) {
  CLI::App cli{"kisee: trades a username and password for a signed JWT (identity server)"};
  std::string settings_path;
  int verbosity = 0;
  bool version = false;
  cli.add_option("--settings", settings_path,
                 "settings file (default: ./settings.toml, ~/settings.toml, /etc/settings.toml)");
  cli.add_flag("-v,--verbose", verbosity, "more logging (repeat for more)");
  cli.add_flag("--version", version, "print the version and exit");
  CLI11_PARSE(cli, argc, argv);
  if (version) {
    std::cout << "kisee " << kisee::idp::Version() << '\n';
    return 0;
  }

  // Logs go to standard error; standard output carries only what the
  // operator must read (admin credentials, the demo backend's reset lines).
  auto logger = spdlog::stderr_color_mt("kisee");
  spdlog::set_default_logger(logger);
  spdlog::stderr_color_mt("access");
  spdlog::set_level(verbosity >= 2   ? spdlog::level::trace
                    : verbosity == 1 ? spdlog::level::debug
                                     : spdlog::level::info);

  std::optional<std::filesystem::path> explicit_path;
  if (!settings_path.empty()) {
    explicit_path = settings_path;
  }
  auto path = kisee::idp::LocateSettings(explicit_path);
  if (!path) {
    std::cerr << path.error().message() << '\n';
    return 1;
  }
  auto settings = kisee::idp::LoadSettings(*path);
  if (!settings) {
    std::cerr << "kisee: " << settings.error().message() << '\n';
    return 1;
  }
  if (settings->server.debug && verbosity == 0) {
    spdlog::set_level(spdlog::level::debug);
  }
  auto served = kisee::idp::Serve(*settings, {.out = &std::cout});
  if (!served) {
    std::cerr << "kisee: " << served.error().message() << '\n';
    return 1;
  }
  return 0;
}
