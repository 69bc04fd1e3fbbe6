#include "kisee/certified/message.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <exception>
#include <nlohmann/json.hpp>
#include <regex>

#include "certified/internal/json_depth.h"
#include "certified/internal/url.h"
#include "kisee/certified/commands.h"
#include "kisee/certified/config.h"
#include "kisee/certified/service_record.h"
#include "kisee/net/client.h"
#include "kisee/net/tls.h"

namespace kisee::certified {
namespace {

using Json = nlohmann::json;

// Failure ends the command: one line on stderr and an exit status.
struct Failure {
  int exit_code;
  std::string message;
};

// OneLine turns line breaks into spaces: a failure is reported on one line
// (certified.md §6) even when its message quotes user input.
std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

MessageOutcome Fail(const Failure& failure) {
  return MessageOutcome{failure.exit_code, "", "Error: " + OneLine(failure.message) + "\n"};
}

// ScalarToJson resolves a plain YAML scalar as the YAML 1.2 core schema
// (and so PyYAML, for these cases) does: null, booleans, integers, floats,
// otherwise a string. Quoted scalars stay strings.
Json ScalarToJson(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() != "?") return text;
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (std::regex_match(text, kInt)) {
    try {
      return std::stoll(text);
    } catch (const std::exception&) {
      return text;  // out of range: keep the digits
    }
  }
  if (std::regex_match(text, kFloat)) {
    try {
      double value = std::stod(text);
      if (std::isfinite(value)) return value;
    } catch (const std::exception&) {
    }
    return text;
  }
  return text;
}

Json YamlToJson(const YAML::Node& node, int depth) {
  if (depth > 64) throw std::runtime_error("YAML nested too deeply");
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return ScalarToJson(node);
    case YAML::NodeType::Sequence: {
      Json array = Json::array();
      for (const auto& item : node) array.push_back(YamlToJson(item, depth + 1));
      return array;
    }
    case YAML::NodeType::Map: {
      Json object = Json::object();
      for (const auto& item : node) {
        object[item.first.as<std::string>()] = YamlToJson(item.second, depth + 1);
      }
      return object;
    }
  }
  return nullptr;
}

Result<std::string> ReadBody(const MessageOptions& options) {
  if (options.data) {
    if (!internal::JsonDepthWithin(*options.data)) {
      return MakeError(ErrorCode::kInvalidArgument, "DATA nests too deeply");
    }
    Json json = Json::parse(*options.data, nullptr, false);
    if (json.is_discarded())
      return MakeError(ErrorCode::kInvalidArgument, "DATA is not valid JSON");
    return json.dump();
  }
  if (options.json_file) {
    KISEE_ASSIGN_OR_RETURN(auto text, ReadTextFile(*options.json_file));
    if (!internal::JsonDepthWithin(text)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       options.json_file->string() + " nests too deeply");
    }
    Json json = Json::parse(text, nullptr, false);
    if (json.is_discarded()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       options.json_file->string() + " is not valid JSON");
    }
    return json.dump();
  }
  KISEE_ASSIGN_OR_RETURN(auto text, ReadTextFile(*options.yaml_file));
  // yaml-cpp reports by exception; none leaves this function.
  try {
    return YamlToJson(YAML::Load(text), 0).dump();
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kInvalidArgument,
                     options.yaml_file->string() + " is not valid YAML: " + e.what());
  }
}

std::string JoinPaths(std::string_view prefix, std::string_view path) {
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return prefix.empty() ? "/" : std::string(prefix);
  return std::string(prefix) + "/" + std::string(path);
}

struct ClientChain {
  std::string chain_pem;
  SecretBytes key_pem;
  std::string description;
};

Result<ClientChain> KeyFor(const std::vector<KeyAndCertificate>& keys, const pki::Certificate& leaf,
                           std::string chain_pem, std::string description) {
  KISEE_ASSIGN_OR_RETURN(auto public_key, leaf.public_key());
  for (const auto& candidate : keys) {
    if (candidate.key.public_key() == public_key) {
      KISEE_ASSIGN_OR_RETURN(auto pem, candidate.key.ToPem());
      return ClientChain{std::move(chain_pem), std::move(pem), std::move(description)};
    }
  }
  return MakeError(ErrorCode::kFailedPrecondition,
                   description + " does not belong to id.key (nor to a retired identity key)");
}

Result<ClientChain> ChooseChain(const ConfigDir& config,
                                const std::optional<ServiceRecord>& record) {
  KISEE_ASSIGN_OR_RETURN(auto keys, IdentityKeys(config));
  std::error_code ec;
  if (!record || record->auths.empty()) {
    KISEE_ASSIGN_OR_RETURN(auto pem, ReadTextFile(config.id_cert_path()));
    KISEE_ASSIGN_OR_RETURN(auto leaf, pki::Certificate::FromPem(pem));
    return KeyFor(keys, leaf, std::move(pem), "id.crt");
  }
  for (const auto& dn : record->auths) {
    if (!ValidateFileStem(dn + ".crt")) continue;
    fs::path file = config.id_dir() / (dn + ".crt");
    if (!fs::is_regular_file(file, ec)) continue;
    KISEE_ASSIGN_OR_RETURN(auto pem, ReadTextFile(file));
    KISEE_ASSIGN_OR_RETURN(auto leaf, pki::Certificate::FromPem(pem));
    return KeyFor(keys, leaf, std::move(pem), "id/" + dn + ".crt");
  }
  for (const auto& dn : record->auths) {
    if (!ValidateFileStem(dn + ".crt")) continue;
    fs::path file = config.ca_dir() / (dn + ".crt");
    if (!fs::is_regular_file(file, ec)) continue;
    KISEE_ASSIGN_OR_RETURN(auto id_pem, ReadTextFile(config.id_cert_path()));
    KISEE_ASSIGN_OR_RETURN(auto ca_pem, ReadTextFile(file));
    KISEE_ASSIGN_OR_RETURN(auto leaf, pki::Certificate::FromPem(id_pem));
    if (!id_pem.empty() && id_pem.back() != '\n') id_pem += '\n';
    return KeyFor(keys, leaf, id_pem + ca_pem, "id.crt + CA/" + dn + ".crt");
  }
  std::string names;
  for (const auto& dn : record->auths) names += (names.empty() ? "" : ", ") + ("'" + dn + "'");
  return MakeError(
      ErrorCode::kNotFound,
      "Unable to find any certificate signed from any authorizers in {" + names + "}.");
}

MessageOutcome Send(const MessageOptions& options) {
  int bodies = (options.data ? 1 : 0) + (options.json_file ? 1 : 0) + (options.yaml_file ? 1 : 0);
  if (bodies > 1) return Fail({2, "Only one of <data> or --json or --yaml allowed."});
  net::Headers headers;
  for (const auto& header : options.headers) {
    std::size_t split = header.find(": ");
    if (split == std::string::npos || split == 0 ||
        header.find_first_of("\r\n") != std::string::npos) {
      return Fail({2, "Invalid header: '" + header + "'"});
    }
    headers.Add(header.substr(0, split), header.substr(split + 2));
  }
  std::string body;
  if (bodies == 1) {
    auto read = ReadBody(options);
    if (!read) return Fail({1, read.error().message()});
    body = std::move(*read);
    headers.Set("Content-Type", "application/json");
  }
  if (!headers.Contains("User-Agent")) headers.Set("User-Agent", "certified-message/1.2");
  std::string method = options.method.value_or(bodies == 1 ? "POST" : "GET");

  auto config = ConfigDir::Open(options.config_dir);
  if (!config) return Fail({1, config.error().message()});
  auto parts = internal::SplitUrl(options.url);
  if (!parts) return Fail({1, parts.error().message()});
  if (parts->scheme != "https") return Fail({1, "message speaks https only: " + options.url});
  if (parts->has_user_info) return Fail({1, "URL must not contain user info: " + options.url});

  std::optional<ServiceRecord> record;
  std::string verbose;
  std::error_code ec;
  if (ValidateFileStem(parts->host)) {
    fs::path record_path = config->known_servers_dir() / (parts->host + ".yaml");
    if (fs::is_regular_file(record_path, ec)) {
      auto text = ReadTextFile(record_path);
      auto parsed = text ? ServiceRecord::FromYaml(*text) : std::unexpected(text.error());
      if (!parsed) return Fail({1, record_path.string() + ": " + parsed.error().message()});
      auto base = internal::SplitUrl(parsed->url);
      if (!base) return Fail({1, record_path.string() + ": " + base.error().message()});
      if (base->scheme != parts->scheme) return Fail({1, "Cannot change protocol scheme."});
      if (base->query || base->fragment) {
        return Fail({1, record_path.string() + ": the url must not contain a query or fragment"});
      }
      if (base->port && parts->port) {
        return Fail({1, "Cannot define port in both the server's url field and the server name."});
      }
      verbose += "Using service record " + record_path.string() + "\n";
      parts->host = base->host;
      if (base->port) parts->port = base->port;
      parts->path = JoinPaths(base->path, parts->path);
      record = std::move(*parsed);
    }
  }

  auto chain = ChooseChain(*config, record);
  if (!chain) return Fail({1, chain.error().message()});
  verbose += "Client certificate: " + chain->description + "\n";
  std::string trust;
  if (record && record->cert) {
    auto pinned = pki::Certificate::FromB64Der(*record->cert);
    if (!pinned) return Fail({1, "the service record's cert: " + pinned.error().message()});
    trust = pinned->ToPem();
    verbose += "Server trust: pinned " + pinned->subject().ToRfc4514() + "\n";
  } else {
    auto store = config->TrustStorePem(config->known_servers_dir());
    if (!store) return Fail({1, store.error().message()});
    if (store->empty()) {
      return Fail({1, "No trusted server certificate in " + config->known_servers_dir().string()});
    }
    trust = std::move(*store);
    verbose += "Server trust: known_servers/*.crt|*.pem\n";
  }
  net::TlsClientOptions tls;
  tls.trust_anchors_pem = std::move(trust);
  tls.certificate_chain_pem = std::move(chain->chain_pem);
  tls.private_key_pem = std::move(chain->key_pem);
  tls.min_version = net::TlsVersion::kTls13;
  // A pinned or known server CA need not be self-signed (as the original).
  tls.trust_partial_chains = true;
  auto context = net::TlsClientContext::Create(tls);
  if (!context) return Fail({1, context.error().message()});

  net::Url url;
  url.scheme = "https";
  url.host = parts->host;
  url.port = parts->port.value_or(443);
  url.target = parts->path.empty() ? "/" : parts->path;
  if (parts->query) url.target += "?" + *parts->query;
  verbose += method + " https://" + parts->Authority() + url.target + "\n";

  net::ClientRequest request;
  request.method = method;
  request.headers = std::move(headers);
  request.body = std::move(body);
  net::ClientOptions client;
  client.tls = *context;
  auto response = net::Fetch(url, std::move(request), client);
  MessageOutcome outcome;
  if (options.verbosity > 0) outcome.err = verbose;
  if (!response) {
    outcome.exit_code = 1;
    outcome.err += "Error: " + OneLine(response.error().message()) + "\n";
    return outcome;
  }
  std::string text = response->body;
  if (options.pretty && internal::JsonDepthWithin(text)) {
    Json json = Json::parse(text, nullptr, false);
    if (!json.is_discarded()) text = json.dump(2);
  }
  if (response->status / 100 != 2) {
    outcome.exit_code = response->status % 256;
    outcome.err += "Error: " + text + "\n";
    return outcome;
  }
  outcome.out = text + "\n";
  return outcome;
}

}  // namespace

MessageOutcome SendMessage(const MessageOptions& options) {
  // Nothing below throws by design; this is the boundary that guarantees it.
  try {
    return Send(options);
  } catch (const std::exception& e) {
    return Fail({1, e.what()});
  }
}

}  // namespace kisee::certified
