// kisee-quickstart: asks four questions (or takes the defaults) and writes a
// settings.toml with a fresh P-256 key pair and the embedded SQLite store.
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>

#include "kisee/crypto/keys.h"
#include "kisee/idp/quickstart.h"

namespace {

// Ask prints "<question> [<default>]: " and returns the first answer that
// `accept` takes (an empty answer means the default). End of input takes
// the default too.
template <typename T>
T Ask(const std::string& question, const std::string& fallback,
      const std::function<kisee::Result<T>(std::string_view)>& accept) {
  for (;;) {
    std::cout << question << " [" << fallback << "]: " << std::flush;
    std::string line;
    if (!std::getline(std::cin, line)) {
      std::cout << '\n';
      line.clear();
    }
    auto value = accept(line.empty() ? fallback : line);
    if (value) {
      return *value;
    }
    std::cout << value.error().message() << '\n';
    if (!std::cin) {
      // No more input and the default is refused: cannot happen with our
      // defaults, but never loop forever.
      std::exit(1);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"kisee-quickstart: write a settings.toml for kisee (keys, SQLite store, policy)"};
  kisee::idp::QuickstartAnswers answers;
  // --port is read as text so that 0 or a bad value is refused like a bad
  // interactive answer instead of meaning "not given".
  std::string host, port, hostname, output = "settings.toml";
  bool yes = false, force = false, debug = false, no_debug = false;
  cli.add_option("--host", host, "address to listen to (default 127.0.0.1)");
  cli.add_option("--port", port, "port to listen on (default 8140)");
  cli.add_option("--hostname", hostname, "the exposed URL (default http://localhost:8140)");
  auto* debug_flag = cli.add_flag("--debug", debug, "debug mode");
  cli.add_flag("--no-debug", no_debug, "no debug mode (the default)")->excludes(debug_flag);
  cli.add_option("--output", output, "where to write the settings (default ./settings.toml)");
  cli.add_flag("--force", force, "overwrite an existing output file");
  cli.add_flag("-y,--yes", yes, "take the default for every question not given as a flag");
  CLI11_PARSE(cli, argc, argv);

  if (std::filesystem::exists(output) && !force) {
    std::cerr << "kisee-quickstart: " << output
              << " exists; not overwriting it (use --force to replace it)\n";
    return 1;
  }
  const bool interactive = !yes && isatty(STDIN_FILENO);
  using kisee::Result;
  if (!host.empty()) {
    if (auto ok = kisee::idp::ValidateHost(host); !ok) {
      std::cerr << "kisee-quickstart: --host: " << ok.error().message() << '\n';
      return 1;
    }
    answers.host = host;
  } else if (interactive) {
    answers.host =
        Ask<std::string>("Listen to", answers.host, [](std::string_view v) -> Result<std::string> {
          KISEE_RETURN_IF_ERROR(kisee::idp::ValidateHost(v));
          return std::string(v);
        });
  }
  if (!port.empty() || cli.count("--port") > 0) {
    auto parsed = kisee::idp::ParsePort(port);
    if (!parsed) {
      std::cerr << "kisee-quickstart: --port: " << parsed.error().message() << '\n';
      return 1;
    }
    answers.port = *parsed;
  } else if (interactive) {
    answers.port = Ask<std::uint16_t>("Listen on port", std::to_string(answers.port),
                                      [](std::string_view v) { return kisee::idp::ParsePort(v); });
  }
  if (!hostname.empty()) {
    if (auto ok = kisee::idp::ValidateHostname(hostname); !ok) {
      std::cerr << "kisee-quickstart: --hostname: " << ok.error().message() << '\n';
      return 1;
    }
    answers.hostname = hostname;
  } else if (interactive) {
    answers.hostname = Ask<std::string>("Exposed URL", answers.hostname,
                                        [](std::string_view v) -> Result<std::string> {
                                          KISEE_RETURN_IF_ERROR(kisee::idp::ValidateHostname(v));
                                          return std::string(v);
                                        });
  }
  if (debug || no_debug) {
    answers.debug = debug;
  } else if (interactive) {
    answers.debug =
        Ask<bool>("Debug mode", "No", [](std::string_view v) { return kisee::idp::ParseYesNo(v); });
  }

  auto key = kisee::crypto::PrivateKey::Generate(kisee::crypto::KeyType::kSecp256r1);
  if (!key) {
    std::cerr << "kisee-quickstart: " << key.error().message() << '\n';
    return 1;
  }
  auto private_pem = key->ToPem(kisee::crypto::PrivateKeyEncoding::kPkcs8);
  if (!private_pem) {
    std::cerr << "kisee-quickstart: " << private_pem.error().message() << '\n';
    return 1;
  }
  std::string text = kisee::idp::RenderQuickstartSettings(answers, private_pem->chars(),
                                                          key->public_key().ToPem());
  // The file holds the private key: readable by its owner only, from the
  // moment it exists.
  const mode_t old_mask = umask(077);
  {
    std::ofstream out(output, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) {
      std::cerr << "kisee-quickstart: cannot write " << output << '\n';
      return 1;
    }
  }
  umask(old_mask);
  std::filesystem::permissions(
      output, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::cout << "Wrote " << output << " (new P-256 key pair, SQLite store "
            << (std::filesystem::absolute(output).parent_path() / "kisee.db").string()
            << ").\nStart kisee with: kisee --settings " << output
            << "\nThe first start creates the user root and prints its password once.\n";
  return 0;
}
