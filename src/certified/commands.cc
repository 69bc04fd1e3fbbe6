#include "kisee/certified/commands.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "kisee/certified/service_record.h"
#include "kisee/pki/authority.h"
#include "kisee/pki/name.h"
#include "kisee/pki/scope.h"

namespace kisee::certified {
namespace {

using Json = nlohmann::ordered_json;

std::unexpected<Error> Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

// Introduction is the JSON `introduce` prints and add-intro/set-org read.
struct Introduction {
  pki::Certificate signed_cert;
  pki::Certificate ca_cert;
  std::vector<std::pair<std::string, std::string>> services;
};

Result<Introduction> ParseIntroduction(std::string_view text) {
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Invalid("the introduction is not a JSON object");
  }
  auto field = [&](const char* name) -> Result<pki::Certificate> {
    auto it = json.find(name);
    if (it == json.end() || !it->is_string()) {
      return Invalid(std::string("the introduction has no \"") + name + "\"");
    }
    auto certificate = pki::Certificate::FromB64Der(it->get<std::string>());
    if (!certificate) return std::unexpected(certificate.error().WithContext(name));
    return certificate;
  };
  KISEE_ASSIGN_OR_RETURN(auto signed_cert, field("signed_cert"));
  KISEE_ASSIGN_OR_RETURN(auto ca_cert, field("ca_cert"));
  Introduction introduction{std::move(signed_cert), std::move(ca_cert), {}};
  if (auto services = json.find("services"); services != json.end() && !services->is_null()) {
    if (!services->is_object()) return Invalid("\"services\" must map aliases to URLs");
    for (const auto& [alias, url] : services->items()) {
      if (!url.is_string()) return Invalid("\"services\" must map aliases to URLs");
      introduction.services.emplace_back(alias, url.get<std::string>());
    }
  }
  return introduction;
}

Status WriteServices(const ConfigDir& config,
                     const std::vector<std::pair<std::string, std::string>>& services,
                     const std::optional<std::string>& cert, const std::vector<std::string>& auths,
                     bool overwrite) {
  for (const auto& [alias, url] : services) {
    KISEE_RETURN_IF_ERROR(ValidateFileStem(alias));
    KISEE_RETURN_IF_ERROR(ValidateServiceUrl(url));
  }
  std::error_code ec;
  fs::create_directories(config.known_servers_dir(), ec);
  for (const auto& [alias, url] : services) {
    ServiceRecord record{url, cert, auths};
    KISEE_RETURN_IF_ERROR(WritePublicFile(config.known_servers_dir() / (alias + ".yaml"),
                                          record.ToYaml(), overwrite));
  }
  return Ok();
}

Result<crypto::PublicKey> IdentityPublicKey(const ConfigDir& config) {
  KISEE_ASSIGN_OR_RETURN(auto key, config.LoadKey(config.id_key_path()));
  return key.public_key();
}

Status RemovePath(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return MakeError(ErrorCode::kIo, "cannot remove " + path.string() + ": " + ec.message());
  return Ok();
}

Status MakeDirectory(const fs::path& path,
                     fs::perms perms = fs::perms::owner_all | fs::perms::group_read |
                                       fs::perms::group_exec | fs::perms::others_read |
                                       fs::perms::others_exec) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return MakeError(ErrorCode::kIo, "cannot create " + path.string() + ": " + ec.message());
  fs::permissions(path, perms, ec);
  return Ok();
}

Status WriteKey(const fs::path& path, const crypto::PrivateKey& key, bool overwrite = false) {
  KISEE_ASSIGN_OR_RETURN(auto pem, key.ToPem());
  return WriteSecretFile(path, pem.view(), overwrite);
}

std::string Describe(const pki::Certificate& certificate) {
  return certificate.subject().ToRfc4514() + " (serial " + certificate.serial_hex() + ", expires " +
         pki::FormatTime(certificate.not_after()) + ")";
}

Result<pki::RevocationList> ResignCrl(const ConfigDir& config, const pki::CertificateAuthority& ca,
                                      std::vector<pki::RevokedEntry> added, const Clock& clock) {
  KISEE_ASSIGN_OR_RETURN(auto existing, config.LoadCrl());
  std::vector<pki::RevokedEntry> entries;
  std::uint64_t number = 1;
  if (existing) {
    if (!existing->VerifySignature(ca.certificate())) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       config.crl_path().string() + " was not signed by this directory's CA.");
    }
    for (const auto& entry : existing->entries()) {
      entries.push_back({entry.serial_hex, entry.revoked_at});
    }
    number = existing->number() + 1;
  }
  entries.insert(entries.end(), added.begin(), added.end());
  KISEE_ASSIGN_OR_RETURN(auto crl, ca.SignCrl(entries, number, kCrlLifetime, clock));
  KISEE_RETURN_IF_ERROR(WritePublicFile(config.crl_path(), crl.ToPem(), /*overwrite=*/true));
  return crl;
}

}  // namespace

Result<std::string> Init(const fs::path& dir, const InitOptions& options) {
  pki::Name name;
  if (!options.org.empty() || !options.unit.empty()) {
    if (options.unit.empty()) return Invalid("If org is defined, unit must also be defined.");
    if (options.org.empty()) return Invalid("If unit is defined, org must also be defined.");
    if (!options.uid.empty()) return Invalid("If org is defined, uid must not be defined.");
    name = pki::OrgName(options.org, options.unit, "", "", options.country, options.state,
                        options.city, options.domain);
  } else if (!options.name.empty()) {
    name = pki::PersonName(options.name, options.uid, "", options.country, options.state,
                           options.city, options.domain);
  } else {
    return Invalid("Name or org must be provided.");
  }
  if (options.emails.empty() && options.hosts.empty() && options.uris.empty()) {
    return Invalid("Host, Email, or URI must also be provided.");
  }
  KISEE_ASSIGN_OR_RETURN(auto alt_names,
                         pki::MakeAltNames(options.emails, options.hosts, options.uris));
  for (const auto& scope : options.scopes) KISEE_RETURN_IF_ERROR(pki::ValidateScope(scope));

  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec))
      return Invalid(dir.string() + " exists and is not a directory.");
    if (!fs::is_empty(dir, ec)) {
      if (!options.overwrite) {
        return MakeError(ErrorCode::kAlreadyExists,
                         dir.string() + " exists and is not empty (use --overwrite).");
      }
    }
  }

  // Everything is made before the directory is touched: a failure leaves it as it was.
  KISEE_ASSIGN_OR_RETURN(auto ca_key, crypto::PrivateKey::Generate(options.key_type));
  KISEE_ASSIGN_OR_RETURN(auto ca, pki::CertificateAuthority::CreateRoot(
                                      pki::WithPseudonym(name, pki::kSigningPseudonym), ca_key));
  KISEE_ASSIGN_OR_RETURN(auto id_key, crypto::PrivateKey::Generate(options.key_type));
  pki::CertificateSubject subject{name, alt_names, id_key.public_key()};
  subject.scopes = options.scopes;
  KISEE_ASSIGN_OR_RETURN(auto id_cert, ca.Issue(subject));

  if (options.overwrite && fs::exists(dir, ec)) {
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      KISEE_RETURN_IF_ERROR(RemovePath(entry.path()));
    }
  }
  KISEE_RETURN_IF_ERROR(MakeDirectory(dir, fs::perms::owner_all | fs::perms::group_read |
                                               fs::perms::group_exec | fs::perms::others_read |
                                               fs::perms::others_exec));
  KISEE_ASSIGN_OR_RETURN(auto config, ConfigDir::Open(dir));
  KISEE_RETURN_IF_ERROR(WriteKey(config.ca_key_path(), ca_key));
  KISEE_RETURN_IF_ERROR(WritePublicFile(config.ca_cert_path(), ca.certificate().ToPem()));
  KISEE_RETURN_IF_ERROR(WriteKey(config.id_key_path(), id_key));
  KISEE_RETURN_IF_ERROR(WritePublicFile(config.id_cert_path(), id_cert.ToPem()));
  KISEE_RETURN_IF_ERROR(MakeDirectory(config.known_servers_dir()));
  KISEE_RETURN_IF_ERROR(MakeDirectory(config.known_clients_dir()));
  KISEE_RETURN_IF_ERROR(
      WritePublicFile(config.known_servers_dir() / "self.crt", ca.certificate().ToPem()));
  KISEE_RETURN_IF_ERROR(
      WritePublicFile(config.known_clients_dir() / "self.crt", ca.certificate().ToPem()));
  KISEE_RETURN_IF_ERROR(config.AppendSigningLog(ca.certificate(), "init"));
  KISEE_RETURN_IF_ERROR(config.AppendSigningLog(id_cert, "init"));
  return "Generated new config for " + name.ToRfc4514() + " at " + dir.string() + ".";
}

Result<std::string> Introduce(const ConfigDir& config, std::string_view request,
                              const IntroduceOptions& options) {
  pki::Name name;
  std::vector<pki::AltName> alt_names;
  std::optional<crypto::PublicKey> public_key;
  bool is_ca = false;
  if (request.find("CERTIFICATE REQUEST-----") != std::string_view::npos) {
    KISEE_ASSIGN_OR_RETURN(auto csr, pki::CertificateRequest::FromPem(request));
    name = csr.subject();
    alt_names = csr.alt_names();
    public_key = csr.public_key();
    is_ca = csr.is_ca();
  } else {
    KISEE_ASSIGN_OR_RETURN(auto certificate, pki::Certificate::Parse(request));
    name = certificate.subject();
    alt_names = certificate.alt_names();
    KISEE_ASSIGN_OR_RETURN(public_key, certificate.public_key());
    is_ca = certificate.is_ca();
  }
  pki::CertificateSubject subject{std::move(name), std::move(alt_names), *public_key, is_ca};
  subject.scopes = options.scopes;
  for (const auto& [alias, url] : options.services) {
    KISEE_RETURN_IF_ERROR(ValidateFileStem(alias));
    KISEE_RETURN_IF_ERROR(ValidateServiceUrl(url));
  }
  KISEE_ASSIGN_OR_RETURN(auto ca, config.LoadAuthority());
  pki::IssueOptions issue;
  issue.lifetime = options.lifetime;
  KISEE_ASSIGN_OR_RETURN(auto signed_cert, ca.Issue(subject, issue));
  KISEE_RETURN_IF_ERROR(config.AppendSigningLog(signed_cert, "introduce"));
  Json out = {{"signed_cert", signed_cert.ToB64Der()}, {"ca_cert", ca.certificate().ToB64Der()}};
  if (!options.services.empty()) {
    Json services = Json::object();
    for (const auto& [alias, url] : options.services) services[alias] = url;
    out["services"] = services;
  }
  return out.dump(2, ' ', false, Json::error_handler_t::replace);
}

Status AddIntro(const ConfigDir& config, std::string_view introduction_json, bool overwrite) {
  KISEE_ASSIGN_OR_RETURN(auto introduction, ParseIntroduction(introduction_json));
  if (introduction.signed_cert.is_ca()) {
    return Invalid("Cannot use this ca certificate as a client identity.");
  }
  KISEE_RETURN_IF_ERROR(introduction.signed_cert.VerifyIssuedBy(introduction.ca_cert));
  KISEE_ASSIGN_OR_RETURN(auto signed_key, introduction.signed_cert.public_key());
  KISEE_ASSIGN_OR_RETURN(auto my_key, IdentityPublicKey(config));
  if (!(signed_key == my_key)) {
    return Invalid("The signed certificate's public key does not match id.key.");
  }
  std::string signer = introduction.ca_cert.subject().ToRfc4514();
  KISEE_RETURN_IF_ERROR(ValidateFileStem(signer + ".crt"));
  for (const auto& [alias, url] : introduction.services) {
    KISEE_RETURN_IF_ERROR(ValidateFileStem(alias));
    KISEE_RETURN_IF_ERROR(ValidateServiceUrl(url));
  }
  KISEE_RETURN_IF_ERROR(MakeDirectory(config.id_dir()));
  KISEE_RETURN_IF_ERROR(WritePublicFile(config.id_dir() / (signer + ".crt"),
                                        introduction.signed_cert.ToPem(), overwrite));
  return WriteServices(config, introduction.services, introduction.ca_cert.ToB64Der(), {signer},
                       overwrite);
}

Status AddClient(const ConfigDir& config, std::string_view name, std::string_view certificate,
                 bool overwrite) {
  KISEE_RETURN_IF_ERROR(ValidateFileStem(name));
  KISEE_ASSIGN_OR_RETURN(auto parsed, pki::Certificate::Parse(certificate));
  if (!parsed.is_ca()) {
    return Invalid(
        "The client certificate must be a CA certificate (TLS does not accept a "
        "client's own certificate as a trust anchor): use its CA.crt.");
  }
  KISEE_RETURN_IF_ERROR(MakeDirectory(config.known_clients_dir()));
  return WritePublicFile(config.known_clients_dir() / (std::string(name) + ".crt"), parsed.ToPem(),
                         overwrite);
}

Status AddService(const ConfigDir& config, std::string_view name, std::string_view certificate,
                  std::vector<std::string> auths, std::optional<std::string> url, bool overwrite) {
  KISEE_RETURN_IF_ERROR(ValidateFileStem(name));
  std::optional<pki::Certificate> parsed;
  std::string_view trimmed = certificate;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) {
    trimmed.remove_prefix(1);
  }
  if (trimmed.starts_with("{")) {
    Json json = Json::parse(certificate, nullptr, false);
    if (json.is_discarded() || !json.is_object() || !json.contains("ca_cert") ||
        !json["ca_cert"].is_string()) {
      return Invalid("the JSON certificate file needs a \"ca_cert\" string");
    }
    KISEE_ASSIGN_OR_RETURN(parsed,
                           pki::Certificate::FromB64Der(json["ca_cert"].get<std::string>()));
  } else {
    KISEE_ASSIGN_OR_RETURN(parsed, pki::Certificate::Parse(certificate));
  }
  for (const auto& auth : auths) {
    auto dn = pki::Name::FromRfc4514(auth);
    if (!dn) return std::unexpected(dn.error().WithContext("--auth " + auth));
  }
  std::string own = parsed->subject().ToRfc4514();
  if (std::find(auths.begin(), auths.end(), own) == auths.end()) auths.push_back(own);
  ServiceRecord record{url.value_or("https://" + std::string(name)), parsed->ToB64Der(),
                       std::move(auths)};
  KISEE_RETURN_IF_ERROR(ValidateServiceUrl(record.url));
  KISEE_RETURN_IF_ERROR(MakeDirectory(config.known_servers_dir()));
  return WritePublicFile(config.known_servers_dir() / (std::string(name) + ".yaml"),
                         record.ToYaml(), overwrite);
}

Status SetOrg(const ConfigDir& config, std::string_view introduction_json, bool overwrite) {
  if (!overwrite) return Invalid("This function requires --overwrite");
  KISEE_ASSIGN_OR_RETURN(auto introduction, ParseIntroduction(introduction_json));
  KISEE_ASSIGN_OR_RETURN(auto signed_key, introduction.signed_cert.public_key());
  KISEE_ASSIGN_OR_RETURN(auto my_key, IdentityPublicKey(config));
  if (!(signed_key == my_key)) {
    return Invalid("new public key does not fit existing id.key.");
  }
  if (introduction.signed_cert.is_ca()) {
    return Invalid("Cannot use this ca certificate as a client identity.");
  }
  KISEE_RETURN_IF_ERROR(introduction.signed_cert.VerifyIssuedBy(introduction.ca_cert));
  for (const auto& [alias, url] : introduction.services) {
    KISEE_RETURN_IF_ERROR(ValidateFileStem(alias));
    KISEE_RETURN_IF_ERROR(ValidateServiceUrl(url));
  }
  std::string ca_pem = introduction.ca_cert.ToPem();
  KISEE_RETURN_IF_ERROR(MakeDirectory(config.known_clients_dir()));
  KISEE_RETURN_IF_ERROR(MakeDirectory(config.known_servers_dir()));
  KISEE_RETURN_IF_ERROR(WritePublicFile(config.known_clients_dir() / "org.crt", ca_pem, true));
  KISEE_RETURN_IF_ERROR(WritePublicFile(config.known_servers_dir() / "org.crt", ca_pem, true));
  KISEE_RETURN_IF_ERROR(
      WritePublicFile(config.id_cert_path(), introduction.signed_cert.ToPem(), true));
  for (const fs::path& gone :
       {config.id_dir(), config.ca_key_path(), config.ca_cert_path(), config.ca_dir(),
        config.crl_path(), config.known_servers_dir() / "self.crt",
        config.known_clients_dir() / "self.crt"}) {
    KISEE_RETURN_IF_ERROR(RemovePath(gone));
  }
  return WriteServices(config, introduction.services, std::nullopt, {}, overwrite);
}

Result<std::string> GetIdent(const ConfigDir& config) {
  KISEE_ASSIGN_OR_RETURN(auto identity, config.LoadIdentity());
  return identity.ToB64Der();
}

Result<std::string> GetIdentRequest(const ConfigDir& config) {
  KISEE_ASSIGN_OR_RETURN(auto identity, config.LoadIdentity());
  KISEE_ASSIGN_OR_RETURN(auto key, config.LoadKey(config.id_key_path()));
  KISEE_ASSIGN_OR_RETURN(
      auto request, pki::CertificateRequest::Create(key, identity.subject(), identity.alt_names()));
  std::string pem = request.ToPem();
  while (!pem.empty() && pem.back() == '\n') pem.pop_back();
  return pem;
}

Result<std::string> GetSigner(const ConfigDir& config) {
  KISEE_ASSIGN_OR_RETURN(auto signer, config.LoadCertificate(config.ca_cert_path()));
  // The original prints json.dumps(...): ", " and ": " separators.
  return "{\"ca_cert\": " + Json(signer.ToB64Der()).dump() + "}";
}

Result<std::string> List(const ConfigDir& config) {
  std::string out;
  std::error_code ec;
  auto describe_file = [&](const fs::path& path) -> std::string {
    auto certificate = config.LoadCertificate(path);
    if (!certificate) return "unreadable: " + certificate.error().message();
    return Describe(*certificate);
  };
  auto list_folder = [&](const fs::path& folder, const std::string& title, bool records) {
    out += title + ":\n";
    std::vector<fs::path> files;
    if (fs::is_directory(folder, ec)) {
      for (const auto& entry : fs::directory_iterator(folder, ec)) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    bool any = false;
    for (const auto& file : files) {
      auto extension = file.extension();
      if (extension == ".crt" || extension == ".pem") {
        out += "  " + file.filename().string() + ": " + describe_file(file) + "\n";
        any = true;
      } else if (records && extension == ".yaml") {
        any = true;
        auto text = ReadTextFile(file);
        auto record = text ? ServiceRecord::FromYaml(*text) : std::unexpected(text.error());
        if (!record) {
          out +=
              "  " + file.filename().string() + ": unreadable: " + record.error().message() + "\n";
          continue;
        }
        out += "  " + file.stem().string() + " -> " + record->url;
        if (record->cert) {
          auto pinned = pki::Certificate::FromB64Der(*record->cert);
          out += pinned ? "; pinned CA " + Describe(*pinned) : "; pinned CA unreadable";
        }
        if (!record->auths.empty()) {
          out += "; auths:";
          for (const auto& auth : record->auths) out += " [" + auth + "]";
        }
        out += "\n";
      }
    }
    if (!any) out += "  (none)\n";
  };
  out += "identity: " +
         (fs::exists(config.id_cert_path(), ec) ? describe_file(config.id_cert_path()) : "(none)") +
         "\n";
  out += "signer: " +
         (fs::exists(config.ca_cert_path(), ec) ? describe_file(config.ca_cert_path()) : "(none)") +
         "\n";
  list_folder(config.id_dir(), "introductions", false);
  list_folder(config.ca_dir(), "CA introductions", false);
  list_folder(config.known_clients_dir(), "known clients", false);
  list_folder(config.known_servers_dir(), "known servers", true);
  if (auto crl = config.LoadCrl(); crl && *crl) {
    out += "revoked: " + std::to_string((*crl)->entries().size()) + " certificate(s)\n";
  }
  out.pop_back();
  return out;
}

Result<std::string> Revoke(const ConfigDir& config, std::string_view target, const Clock& clock) {
  KISEE_ASSIGN_OR_RETURN(auto ca, config.LoadAuthority());
  std::string serial;
  if (auto certificate = pki::Certificate::Parse(target)) {
    if (!certificate->VerifyIssuedBy(ca.certificate())) {
      return Invalid("That certificate was not issued by this directory's CA.");
    }
    serial = certificate->serial_hex();
  } else {
    std::string_view text = target;
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
      text.remove_suffix(1);
    }
    bool hex = !text.empty() && text.size() <= 64 &&
               std::all_of(text.begin(), text.end(),
                           [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
    if (!hex)
      return Invalid("Not a serial number (hex) or a certificate: " +
                     std::string(target.substr(0, 80)));
    auto bytes = HexDecode(text.size() % 2 == 0 ? std::string(text) : "0" + std::string(text));
    if (!bytes) return Invalid("Not a serial number: " + std::string(text));
    serial = pki::SerialToHex(*bytes);
  }
  KISEE_ASSIGN_OR_RETURN(auto existing, config.LoadCrl());
  if (existing && existing->IsRevoked(serial)) {
    return MakeError(ErrorCode::kAlreadyExists, "Certificate " + serial + " is already revoked.");
  }
  KISEE_ASSIGN_OR_RETURN(auto crl, ResignCrl(config, ca, {{serial, clock.Now()}}, clock));
  (void)crl;
  return "Revoked " + serial + ".";
}

Result<std::string> Crl(const ConfigDir& config, const Clock& clock) {
  KISEE_ASSIGN_OR_RETURN(auto ca, config.LoadAuthority());
  KISEE_ASSIGN_OR_RETURN(auto crl, ResignCrl(config, ca, {}, clock));
  return crl.ToPem();
}

Result<std::string> Renew(const ConfigDir& config, const RenewOptions& options) {
  KISEE_ASSIGN_OR_RETURN(auto ca, config.LoadAuthority());
  KISEE_ASSIGN_OR_RETURN(auto old_cert, config.LoadIdentity());
  KISEE_ASSIGN_OR_RETURN(auto old_key, config.LoadKey(config.id_key_path()));
  KISEE_ASSIGN_OR_RETURN(auto new_key,
                         crypto::PrivateKey::Generate(options.key_type.value_or(old_key.type())));
  pki::CertificateSubject subject{old_cert.subject(), old_cert.alt_names(), new_key.public_key()};
  subject.scopes = old_cert.scopes();
  pki::IssueOptions issue;
  issue.lifetime = options.lifetime;
  KISEE_ASSIGN_OR_RETURN(auto new_cert, ca.Issue(subject, issue));

  KISEE_RETURN_IF_ERROR(MakeDirectory(config.retired_dir(), fs::perms::owner_all));
  std::string stem = "id-" + old_cert.serial_hex();
  fs::path retired_cert = config.retired_dir() / (stem + ".crt");
  fs::path retired_key = config.retired_dir() / (stem + ".key");
  std::error_code ec;
  fs::rename(config.id_key_path(), retired_key, ec);
  if (ec) return MakeError(ErrorCode::kIo, "cannot retire id.key: " + ec.message());
  fs::rename(config.id_cert_path(), retired_cert, ec);
  if (ec) return MakeError(ErrorCode::kIo, "cannot retire id.crt: " + ec.message());
  KISEE_RETURN_IF_ERROR(WriteKey(config.id_key_path(), new_key));
  KISEE_RETURN_IF_ERROR(WritePublicFile(config.id_cert_path(), new_cert.ToPem()));
  KISEE_RETURN_IF_ERROR(config.AppendSigningLog(new_cert, "renew"));

  // Retired identities that have expired are of no use any more.
  auto now = std::chrono::system_clock::now();
  for (const auto& entry : fs::directory_iterator(config.retired_dir(), ec)) {
    if (entry.path().extension() != ".crt") continue;
    auto certificate = config.LoadCertificate(entry.path());
    if (certificate && certificate->not_after() < now) {
      fs::path key = entry.path();
      key.replace_extension(".key");
      fs::remove(key, ec);
      fs::remove(entry.path(), ec);
    }
  }
  return "Renewed the identity " + new_cert.subject().ToRfc4514() + ": serial " +
         new_cert.serial_hex() + "; the previous one (" + old_cert.serial_hex() +
         ") is kept in retired/ until " + pki::FormatTime(old_cert.not_after()) + ".";
}

Result<std::vector<KeyAndCertificate>> IdentityKeys(const ConfigDir& config) {
  std::vector<KeyAndCertificate> keys;
  KISEE_ASSIGN_OR_RETURN(auto key, config.LoadKey(config.id_key_path()));
  std::optional<pki::Certificate> identity;
  if (auto certificate = config.LoadIdentity()) identity = std::move(*certificate);
  keys.push_back({std::move(key), std::move(identity)});
  std::error_code ec;
  if (!fs::is_directory(config.retired_dir(), ec)) return keys;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(config.retired_dir(), ec)) {
    if (entry.path().extension() == ".key") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  auto now = std::chrono::system_clock::now();
  for (const auto& file : files) {
    fs::path cert_path = file;
    cert_path.replace_extension(".crt");
    auto certificate = config.LoadCertificate(cert_path);
    if (!certificate || certificate->not_after() < now) continue;
    KISEE_ASSIGN_OR_RETURN(auto retired, config.LoadKey(file));
    keys.push_back({std::move(retired), std::move(*certificate)});
  }
  return keys;
}

}  // namespace kisee::certified
