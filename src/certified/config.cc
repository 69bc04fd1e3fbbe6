#include "kisee/certified/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace kisee::certified {
namespace {

constexpr std::uintmax_t kMaxFileBytes = 16u << 20;

std::unexpected<Error> IoError(const fs::path& path, std::string_view what, int error) {
  return MakeError(ErrorCode::kIo,
                   std::string(what) + " " + path.string() + ": " + std::strerror(error));
}

bool IsDirectory(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

// WriteAll writes every byte to `fd`, retrying short writes and EINTR.
bool WriteAll(int fd, ByteView data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

GetEnv ProcessEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

fs::path ResolveConfigDir(const std::optional<fs::path>& flag, const GetEnv& env) {
  if (flag) return *flag;
  if (auto value = env("CERTIFIED_CONFIG"); value && !value->empty()) return fs::path(*value);
  if (auto venv = env("VIRTUAL_ENV"); venv && !venv->empty()) {
    return fs::path(*venv) / "etc" / "certified";
  }
  std::optional<fs::path> user;
  if (auto xdg = env("XDG_CONFIG_HOME"); xdg && !xdg->empty()) {
    user = fs::path(*xdg) / "certified";
  } else if (auto home = env("HOME"); home && !home->empty()) {
    user = fs::path(*home) / ".config" / "certified";
  }
  if (user && IsDirectory(*user)) return *user;
  const fs::path system = "/etc/certified";
  if (IsDirectory(system)) return system;
  return user ? *user : system;
}

Status CheckKeyPermissions(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) {
      return MakeError(ErrorCode::kNotFound, path.string() + " does not exist.");
    }
    return IoError(path, "cannot stat", errno);
  }
  if ((info.st_mode & 077) != 0) {
    return MakeError(ErrorCode::kPermissionDenied,
                     path.string() + " has compromised file permissions.");
  }
  return Ok();
}

Status WriteSecretFile(const fs::path& path, ByteView data, bool overwrite) {
  if (overwrite && ::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return IoError(path, "cannot remove", errno);
  }
  // O_EXCL: never write a key through a file (or symlink) someone else
  // prepared; 0600 from the start, so the key is never readable by others.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return MakeError(ErrorCode::kAlreadyExists, path.string() + " already exists.");
    }
    return IoError(path, "cannot create", errno);
  }
  bool ok = WriteAll(fd, data) && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return IoError(path, "cannot write", saved);
  }
  return Ok();
}

Status WritePublicFile(const fs::path& path, std::string_view text, bool overwrite) {
  std::error_code ec;
  if (!overwrite && fs::exists(fs::symlink_status(path, ec))) {
    return MakeError(ErrorCode::kAlreadyExists,
                     path.string() + " already exists (use --overwrite).");
  }
  fs::path temporary = path;
  temporary += ".tmp-" + std::to_string(::getpid());
  ::unlink(temporary.c_str());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return IoError(temporary, "cannot create", errno);
  bool ok = WriteAll(fd, AsBytes(text)) && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(temporary.c_str());
    return IoError(path, "cannot write", saved);
  }
  if (!overwrite) {
    // link() fails if the name appeared meanwhile: no silent replacement.
    if (::link(temporary.c_str(), path.c_str()) != 0) {
      saved = errno;
      ::unlink(temporary.c_str());
      if (saved == EEXIST) {
        return MakeError(ErrorCode::kAlreadyExists,
                         path.string() + " already exists (use --overwrite).");
      }
      return IoError(path, "cannot create", saved);
    }
    ::unlink(temporary.c_str());
    return Ok();
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    saved = errno;
    ::unlink(temporary.c_str());
    return IoError(path, "cannot replace", saved);
  }
  return Ok();
}

Result<std::string> ReadTextFile(const fs::path& path) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    return MakeError(ErrorCode::kNotFound, path.string() + " does not exist.");
  }
  if (fs::is_directory(status)) {
    return MakeError(ErrorCode::kInvalidArgument, path.string() + " is a directory.");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(path, "cannot read", errno);
  std::string text;
  char buffer[65536];
  while (in.read(buffer, sizeof(buffer)) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxFileBytes) {
      return MakeError(ErrorCode::kInvalidArgument, path.string() + " is too large.");
    }
  }
  if (in.bad()) return IoError(path, "cannot read", errno);
  return text;
}

Status ValidateFileStem(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.size() > 250 ||
      name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid name \"" + std::string(name) +
                                                      "\": it must be usable as a file name");
  }
  return Ok();
}

Result<ConfigDir> ConfigDir::Open(const fs::path& root) {
  if (!IsDirectory(root)) {
    return MakeError(ErrorCode::kNotFound,
                     "Configuration directory " + root.string() +
                         " does not exist (create one with `certified init`).");
  }
  return ConfigDir(root);
}

Result<crypto::PrivateKey> ConfigDir::LoadKey(const fs::path& path) const {
  KISEE_RETURN_IF_ERROR(CheckKeyPermissions(path));
  KISEE_ASSIGN_OR_RETURN(auto text, ReadTextFile(path));
  SecretBytes secret(std::string_view{text});
  SecureWipe(text);
  auto key = crypto::PrivateKey::FromPem(secret.chars());
  if (!key) return std::unexpected(key.error().WithContext(path.string()));
  return key;
}

Result<pki::Certificate> ConfigDir::LoadCertificate(const fs::path& path) const {
  KISEE_ASSIGN_OR_RETURN(auto text, ReadTextFile(path));
  auto certificate = pki::Certificate::Parse(text);
  if (!certificate) return std::unexpected(certificate.error().WithContext(path.string()));
  return certificate;
}

Result<pki::CertificateAuthority> ConfigDir::LoadAuthority() const {
  std::error_code ec;
  if (!fs::exists(ca_cert_path(), ec) || !fs::exists(ca_key_path(), ec)) {
    return MakeError(ErrorCode::kNotFound,
                     "no signing CA in " + root_.string() + " (CA.crt and CA.key are needed)");
  }
  KISEE_ASSIGN_OR_RETURN(auto certificate, LoadCertificate(ca_cert_path()));
  KISEE_ASSIGN_OR_RETURN(auto key, LoadKey(ca_key_path()));
  return pki::CertificateAuthority::Create(std::move(certificate), std::move(key));
}

Result<pki::Certificate> ConfigDir::LoadIdentity() const { return LoadCertificate(id_cert_path()); }

Result<std::optional<pki::RevocationList>> ConfigDir::LoadCrl() const {
  std::error_code ec;
  if (!fs::exists(crl_path(), ec)) return std::optional<pki::RevocationList>();
  KISEE_ASSIGN_OR_RETURN(auto text, ReadTextFile(crl_path()));
  auto crl = pki::RevocationList::FromPem(text);
  if (!crl) return std::unexpected(crl.error().WithContext(crl_path().string()));
  return std::optional<pki::RevocationList>(std::move(*crl));
}

Result<std::string> ConfigDir::TrustStorePem(const fs::path& folder) const {
  std::string pem;
  if (!IsDirectory(folder)) return pem;
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    auto extension = entry.path().extension();
    if ((extension == ".crt" || extension == ".pem") && entry.is_regular_file(ec)) {
      files.push_back(entry.path());
    }
  }
  if (ec) return IoError(folder, "cannot list", ec.value());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    KISEE_ASSIGN_OR_RETURN(auto text, ReadTextFile(file));
    pem += text;
    if (!pem.empty() && pem.back() != '\n') pem += '\n';
  }
  return pem;
}

Status ConfigDir::AppendSigningLog(const pki::Certificate& certificate,
                                   std::string_view command) const {
  nlohmann::ordered_json line = {
      {"serial", certificate.serial_hex()},
      {"subject", certificate.subject().ToRfc4514()},
      {"signed", pki::FormatTime(certificate.not_before())},
      {"not_after", pki::FormatTime(certificate.not_after())},
      {"ca", certificate.is_ca()},
      {"command", std::string(command)},
      {"cert", certificate.ToB64Der()},
  };
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  int fd = ::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return IoError(log_path(), "cannot open", errno);
  bool ok = WriteAll(fd, AsBytes(text));
  int saved = errno;
  ::close(fd);
  if (!ok) return IoError(log_path(), "cannot write", saved);
  return Ok();
}

}  // namespace kisee::certified
