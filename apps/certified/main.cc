// certified: certificates and mutual TLS for APIs (certified.md §3). A thin
// layer: CLI11 parses, kisee::certified does the work, errors become one
// line on stderr and exit status 1, usage errors exit 2.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <map>

#include "cli.h"
#include "kisee/certified/biscuits.h"
#include "kisee/certified/commands.h"
#include "kisee/certified/serve.h"
#include "kisee/crypto/key_type.h"

namespace kc = kisee::certified;
using certified_cli::Fail;

namespace {

const std::vector<std::string> kKeyTypes = {"ed25519",   "ed448",     "secp256r1",
                                            "secp384r1", "secp521r1", "secp256k1"};

void Print(const std::string& text) { std::printf("%s\n", text.c_str()); }

int Report(const kisee::Status& status) { return status ? 0 : Fail(status.error()); }
int Report(const kisee::Result<std::string>& result) {
  if (!result) return Fail(result.error());
  Print(*result);
  return 0;
}

kisee::Result<kc::ConfigDir> Open(const std::string& flag) {
  return kc::ConfigDir::Open(certified_cli::ConfigDirOf(flag));
}

// ReadArgument reads a file argument, naming it in the error.
kisee::Result<std::string> ReadArgument(const std::string& path) {
  auto text = certified_cli::ReadInput(path);
  if (!text) return std::unexpected(text.error());
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"certified: certificates, mutual TLS and biscuits for web APIs.", "certified"};
  app.require_subcommand(1);
  std::string config;
  auto add_config = [&](CLI::App* command) {
    command->add_option("--config", config,
                        "configuration directory [default: $CERTIFIED_CONFIG, "
                        "$VIRTUAL_ENV/etc/certified, ~/.config/certified, /etc/certified]");
  };

  // init
  auto* init = app.add_subcommand("init", "Create a new signing and end-entity ID.");
  kc::InitOptions init_options;
  std::string key_type = "ed25519";
  init->add_option("NAME", init_options.name, "a person's name (CN)");
  init->add_option("--org", init_options.org,
                   "organisation name (requires --unit, excludes --uid)");
  init->add_option("--unit", init_options.unit, "organisational unit");
  init->add_option("--uid", init_options.uid, "system user name");
  init->add_option("--domain", init_options.domain, "domain components (.-separated)");
  init->add_option("--country", init_options.country, "country code");
  init->add_option("--state", init_options.state, "state or province");
  init->add_option("--city", init_options.city, "city or locality");
  init->add_option("--email", init_options.emails, "e-mail address (repeatable)");
  init->add_option("--host", init_options.hosts,
                   "host name, IP address or network (repeatable): example.org, *.example.org, "
                   "éxamplë.org, 127.0.0.1, ::1, 10.0.0.0/8");
  init->add_option("--uri", init_options.uris, "URI (repeatable)");
  init->add_option("--scope", init_options.scopes, "scope to put in the identity (repeatable)");
  init->add_option("--key-type", key_type, "key type")->check(CLI::IsMember(kKeyTypes));
  init->add_flag("--overwrite", init_options.overwrite, "overwrite an existing configuration");
  add_config(init);

  // introduce
  auto* introduce = app.add_subcommand(
      "introduce", "Sign the subject's certificate and print a JSON introduction to stdout.");
  std::string introduce_file;
  std::vector<std::string> introduce_services;
  double introduce_days = 365;
  kc::IntroduceOptions introduce_options;
  introduce
      ->add_option("CRT", introduce_file,
                   "the subject's certificate or CSR (PEM or b64-DER; - for stdin)")
      ->required();
  introduce->add_option("--scope", introduce_options.scopes, "grant this scope (repeatable)");
  introduce->add_option("--service", introduce_services,
                        "ALIAS=URL: a service the subject may reach (repeatable)");
  introduce->add_option("--days", introduce_days, "validity in days")
      ->check(CLI::Range(1.0, 36500.0));
  add_config(introduce);

  // add-intro
  auto* add_intro = app.add_subcommand(
      "add-intro", "Install an introduction produced by a remote `certified introduce` call.");
  std::string intro_file;
  bool overwrite = false;
  add_intro->add_option("SIGNATURE", intro_file, "the introduction JSON file")->required();
  add_intro->add_flag("--overwrite", overwrite, "replace an existing introduction");
  add_config(add_intro);

  // add-client
  auto* add_client =
      app.add_subcommand("add-client", "Add a client CA to your known_clients list.");
  std::string client_name;
  std::string client_file;
  add_client->add_option("NAME", client_name, "the client's name")->required();
  add_client->add_option("CRT", client_file, "the client's CA certificate (PEM or b64-DER)")
      ->required();
  add_client->add_flag("--overwrite", overwrite, "replace an existing client");
  add_config(add_client);

  // add-service
  auto* add_service =
      app.add_subcommand("add-service", "Add a service to your known_servers list.");
  std::string service_name;
  std::string service_file;
  std::vector<std::string> service_auths;
  std::string service_url;
  add_service->add_option("NAME", service_name, "the service's alias")->required();
  add_service
      ->add_option("CRT", service_file,
                   "the service's CA certificate (PEM, b64-DER or JSON with \"ca_cert\")")
      ->required();
  add_service->add_option("--auth", service_auths,
                          "RFC 4514 name of a CA whose signature the service accepts (repeatable)");
  add_service->add_option("--url", service_url, "the service's real URL [default: https://NAME]");
  add_service->add_flag("--overwrite", overwrite, "replace an existing service");
  add_config(add_service);

  // set-org
  auto* set_org = app.add_subcommand(
      "set-org", "Set up this instance as a member of the signing organization.");
  std::string org_file;
  set_org->add_option("SIGNATURE", org_file, "the introduction JSON file")->required();
  set_org->add_flag("--overwrite", overwrite, "required: this removes CA.key, CA.crt, id/ and CA/");
  add_config(set_org);

  auto* get_ident = app.add_subcommand("get-ident", "Print my identity certificate (b64-DER).");
  bool as_csr = false;
  get_ident->add_flag("--csr", as_csr, "print a PEM certificate signing request instead");
  add_config(get_ident);
  auto* get_signer = app.add_subcommand("get-signer", "Print my signing certificate as JSON.");
  add_config(get_signer);
  auto* list =
      app.add_subcommand("list", "List my identity, signer, introductions, clients and services.");
  add_config(list);

  auto* revoke =
      app.add_subcommand("revoke", "Revoke a certificate my CA signed (updates CA.crl).");
  std::string revoke_target;
  revoke->add_option("TARGET", revoke_target, "a serial number (hex) or a certificate file")
      ->required();
  add_config(revoke);
  auto* crl = app.add_subcommand("crl", "Print my CA's revocation list (PEM), freshly signed.");
  add_config(crl);

  auto* renew = app.add_subcommand(
      "renew", "Replace id.key/id.crt; keep the previous pair until it expires.");
  std::string renew_key_type;
  double renew_days = 365;
  renew->add_option("--key-type", renew_key_type, "key type [default: the current one]")
      ->check(CLI::IsMember(kKeyTypes));
  renew->add_option("--days", renew_days, "validity in days")->check(CLI::Range(1.0, 36500.0));
  add_config(renew);

  // serve
  auto* serve =
      app.add_subcommand("serve", "Run a web server with mTLS (built-in app or reverse proxy).");
  std::string serve_url = "https://0.0.0.0:4433";
  std::string serve_app;
  std::string serve_upstream;
  std::string serve_policy;
  std::string serve_name;
  std::vector<std::string> serve_roots;
  bool require_biscuit = false;
  int serve_threads = 0;
  int serve_verbosity = 0;
  serve->add_option("URL", serve_url, "https://host:port to listen on")->capture_default_str();
  auto* app_option = serve->add_option("--app", serve_app, "built-in application")
                         ->check(CLI::IsMember({"echo", "info"}));
  auto* upstream_option =
      serve->add_option("--upstream", serve_upstream, "reverse-proxy to this http://host:port");
  app_option->excludes(upstream_option);
  serve->add_option("--policy", serve_policy, "biscuit authorizer policy file (Datalog)");
  serve->add_flag("--require-biscuit", require_biscuit, "refuse requests without a biscuit (401)");
  serve->add_option("--name", serve_name,
                    "the service(...) fact [default: the app name, or proxy]");
  serve->add_option("--biscuit-root", serve_roots,
                    "also accept biscuits rooted at this CA certificate's key (repeatable)");
  serve->add_option("--threads", serve_threads, "I/O threads [default: one per core]")
      ->check(CLI::Range(0, 256));
  serve->add_flag("-v", serve_verbosity, "info logs (-vv: debug)");
  add_config(serve);

  // message
  auto* message =
      app.add_subcommand("message", "Send a json-message to an mTLS-authenticated HTTPS-REST-API.");
  certified_cli::MessageArgs message_args;
  certified_cli::AddMessageOptions(message, message_args);

  // biscuit
  auto* biscuit =
      app.add_subcommand("biscuit", "Mint, attenuate and inspect biscuits rooted at my CA key.");
  biscuit->require_subcommand(1);
  auto* mint = biscuit->add_subcommand("mint", "Mint a token for a client.");
  kc::MintOptions mint_options;
  double mint_hours = 24;
  mint->add_option("--user", mint_options.user, "the client name, e.g. cn:alice or uid:alice")
      ->required();
  mint->add_option("--hours", mint_hours, "lifetime in hours (0: no expiry)")
      ->check(CLI::Range(0.0, 876000.0));
  mint->add_option("--fact", mint_options.facts, "an extra authority fact (repeatable)");
  add_config(mint);
  auto* attenuate = biscuit->add_subcommand("attenuate", "Append a block to a token.");
  std::string token;
  std::string block;
  attenuate->add_option("TOKEN", token, "the token, a file holding it, or - for stdin")->required();
  attenuate->add_option("--block", block, "Datalog of the new block")->required();
  // Attenuating needs no key, but every command takes --config (certified.md §3).
  add_config(attenuate);
  auto* inspect =
      biscuit->add_subcommand("inspect", "Print a token and check it against my CA key.");
  std::string authorize_with;
  inspect->add_option("TOKEN", token, "the token, a file holding it, or - for stdin")->required();
  inspect->add_option("--authorize-with", authorize_with, "authorizer Datalog to run");
  add_config(inspect);

  if (auto status = certified_cli::ParseArgs(app, argc, argv)) return *status;

  auto token_text = [&]() -> kisee::Result<std::string> {
    std::error_code ec;
    if (token == "-" || std::filesystem::is_regular_file(token, ec)) return ReadArgument(token);
    return token;
  };

  if (init->parsed()) {
    init_options.key_type = *kisee::crypto::ParseKeyType(key_type);
    return Report(kc::Init(certified_cli::ConfigDirOf(config), init_options));
  }
  if (*message) return certified_cli::RunMessage(message_args);
  if (*attenuate) {
    auto text = token_text();
    if (!text) return Fail(text.error());
    return Report(kc::AttenuateBiscuit(*text, block));
  }

  auto dir = Open(config);
  if (!dir) return Fail(dir.error());

  if (*introduce) {
    auto request = ReadArgument(introduce_file);
    if (!request) return Fail(request.error());
    for (const auto& entry : introduce_services) {
      auto equals = entry.find('=');
      if (equals == std::string::npos || equals == 0) {
        std::fprintf(stderr, "Error: --service takes ALIAS=URL, not %s\n", entry.c_str());
        return certified_cli::kExitUsage;
      }
      introduce_options.services[entry.substr(0, equals)] = entry.substr(equals + 1);
    }
    introduce_options.lifetime =
        std::chrono::seconds(static_cast<std::int64_t>(introduce_days * 86400));
    return Report(kc::Introduce(*dir, *request, introduce_options));
  }
  if (*add_intro) {
    auto text = ReadArgument(intro_file);
    if (!text) return Fail(text.error());
    return Report(kc::AddIntro(*dir, *text, overwrite));
  }
  if (*add_client) {
    auto text = ReadArgument(client_file);
    if (!text) return Fail(text.error());
    return Report(kc::AddClient(*dir, client_name, *text, overwrite));
  }
  if (*add_service) {
    auto text = ReadArgument(service_file);
    if (!text) return Fail(text.error());
    std::optional<std::string> url;
    if (!service_url.empty()) url = service_url;
    return Report(kc::AddService(*dir, service_name, *text, service_auths, url, overwrite));
  }
  if (*set_org) {
    if (!overwrite) return Fail("This function requires --overwrite");
    auto text = ReadArgument(org_file);
    if (!text) return Fail(text.error());
    return Report(kc::SetOrg(*dir, *text, overwrite));
  }
  if (*get_ident) return Report(as_csr ? kc::GetIdentRequest(*dir) : kc::GetIdent(*dir));
  if (*get_signer) return Report(kc::GetSigner(*dir));
  if (*list) return Report(kc::List(*dir));
  if (*revoke) {
    std::string target = revoke_target;
    std::error_code ec;
    if (std::filesystem::is_regular_file(revoke_target, ec)) {
      auto text = ReadArgument(revoke_target);
      if (!text) return Fail(text.error());
      target = *text;
    }
    return Report(kc::Revoke(*dir, target));
  }
  if (*crl) {
    auto pem = kc::Crl(*dir);
    if (!pem) return Fail(pem.error());
    std::fwrite(pem->data(), 1, pem->size(), stdout);
    return 0;
  }
  if (*renew) {
    kc::RenewOptions renew_options;
    if (!renew_key_type.empty())
      renew_options.key_type = *kisee::crypto::ParseKeyType(renew_key_type);
    renew_options.lifetime = std::chrono::seconds(static_cast<std::int64_t>(renew_days * 86400));
    return Report(kc::Renew(*dir, renew_options));
  }
  if (*mint) {
    mint_options.hours = mint_hours;
    return Report(kc::MintBiscuit(*dir, mint_options));
  }
  if (*inspect) {
    auto text = token_text();
    if (!text) return Fail(text.error());
    std::optional<std::string> code;
    if (!authorize_with.empty()) code = authorize_with;
    auto result = kc::InspectBiscuit(*dir, *text, code);
    if (!result) return Fail(result.error());
    Print(result->text);
    if (result->ok) return 0;
    std::string_view last = result->text;
    return Fail(last.substr(last.rfind('\n') + 1));
  }
  if (*serve) {
    if (serve_app.empty() && serve_upstream.empty()) {
      std::fprintf(stderr, "Error: serve needs --app echo|info or --upstream URL\n");
      return certified_cli::kExitUsage;
    }
    spdlog::set_level(serve_verbosity >= 2   ? spdlog::level::debug
                      : serve_verbosity == 1 ? spdlog::level::info
                                             : spdlog::level::warn);
    kc::ServiceOptions options;
    options.config_dir = dir->root();
    options.url = serve_url;
    options.service_name = !serve_name.empty()  ? serve_name
                           : !serve_app.empty() ? serve_app
                                                : "proxy";
    options.require_biscuit = require_biscuit;
    options.threads = serve_threads;
    if (!serve_policy.empty()) {
      auto policy = ReadArgument(serve_policy);
      if (!policy) return Fail(policy.error());
      options.policy = *policy;
    }
    for (const auto& file : serve_roots) {
      auto certificate = dir->LoadCertificate(file);
      if (!certificate) return Fail(certificate.error());
      auto key = certificate->public_key();
      if (!key) return Fail(key.error());
      auto root = kc::BiscuitPublicKey(*key);
      if (!root) return Fail(root.error());
      options.extra_root_keys.push_back(*root);
    }
    auto service = kc::Service::Create(std::move(options));
    if (!service) return Fail(service.error());
    auto routed = serve_app == "echo"   ? (*service)->UseEchoApp()
                  : serve_app == "info" ? (*service)->UseInfoApp()
                                        : (*service)->UseProxy(serve_upstream);
    if (!routed) return Fail(routed.error());
    auto port = (*service)->Listen();
    if (!port) return Fail(port.error());
    std::fprintf(stderr, "certified serve: %s on %s (port %u)\n",
                 serve_app.empty() ? ("proxy to " + serve_upstream).c_str() : serve_app.c_str(),
                 serve_url.c_str(), static_cast<unsigned>(*port));
    std::fflush(stderr);
    auto status = (*service)->Run();
    return status ? 0 : Fail(status.error());
  }
  return certified_cli::kExitUsage;
}
