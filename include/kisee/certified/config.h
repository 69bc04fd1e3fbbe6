// certified's configuration directory (certified.md §1): where it is, what
// it holds, and the rules for the files in it (private keys created with
// O_EXCL and mode 0600, and refused when group or others can read them).
//
// Layout:
//   CA.key CA.crt            the signing CA (PEM PKCS#8 key, PEM certificate)
//   id.key id.crt            the identity (TLS) key and certificate
//   id/<DN>.crt              my identity signed by another CA (introductions)
//   CA/<DN>.crt              my CA signed by another CA
//   known_servers/*.crt|pem  trust anchors for servers; <alias>.yaml records
//   known_clients/*.crt|pem  trust anchors (CA certificates) for clients
// and, written by this implementation only (the original ignores them):
//   CA.log                   one JSON line per certificate the CA signed
//   CA.crl                   the CA's revocation list (PEM)
//   retired/id-<serial>.*    identities replaced by `renew`, kept until expiry
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kisee/core/error.h"
#include "kisee/core/secret.h"
#include "kisee/crypto/keys.h"
#include "kisee/pki/authority.h"
#include "kisee/pki/certificate.h"
#include "kisee/pki/crl.h"

namespace kisee::certified {

namespace fs = std::filesystem;

// GetEnv returns an environment variable, or nullopt when it is unset.
using GetEnv = std::function<std::optional<std::string>(std::string_view name)>;

// ProcessEnvironment reads the process's environment.
GetEnv ProcessEnvironment();

// ResolveConfigDir picks the configuration directory, first match wins:
//   1. `flag` (--config PATH);
//   2. $CERTIFIED_CONFIG (when set and not empty);
//   3. $VIRTUAL_ENV/etc/certified (when $VIRTUAL_ENV is set);
//   4. $XDG_CONFIG_HOME/certified, or ~/.config/certified without
//      $XDG_CONFIG_HOME, when that directory exists;
//   5. /etc/certified when it exists;
//   6. otherwise the directory of step 4 (where `init` creates one), or
//      /etc/certified when there is no home directory.
// The result need not exist; ConfigDir::Open says so.
fs::path ResolveConfigDir(const std::optional<fs::path>& flag,
                          const GetEnv& env = ProcessEnvironment());

// CheckKeyPermissions refuses a key file that group or others may read
// (or write): kPermissionDenied "<path> has compromised file permissions."
Status CheckKeyPermissions(const fs::path& path);

// WriteSecretFile creates `path` with O_EXCL and mode 0600 and writes
// `data`. With `overwrite` an existing file is removed first. Errors:
// kAlreadyExists, kIo.
Status WriteSecretFile(const fs::path& path, ByteView data, bool overwrite = false);

// WritePublicFile writes `text` to `path` (mode 0644). Without `overwrite`
// an existing file is kAlreadyExists "<path> already exists (use
// --overwrite)". The file is replaced atomically (temporary + rename).
Status WritePublicFile(const fs::path& path, std::string_view text, bool overwrite = false);

// ReadTextFile reads a whole file (at most 16 MiB). Errors: kNotFound, kIo.
Result<std::string> ReadTextFile(const fs::path& path);

// ConfigDir is an existing configuration directory. Thread-compatible.
class ConfigDir {
 public:
  // Open checks that `root` is a directory. kNotFound "Configuration
  // directory <root> does not exist." otherwise.
  static Result<ConfigDir> Open(const fs::path& root);

  // root is the directory; the *_path and *_dir accessors name its files.
  const fs::path& root() const { return root_; }
  fs::path ca_key_path() const { return root_ / "CA.key"; }
  fs::path ca_cert_path() const { return root_ / "CA.crt"; }
  fs::path id_key_path() const { return root_ / "id.key"; }
  fs::path id_cert_path() const { return root_ / "id.crt"; }
  fs::path id_dir() const { return root_ / "id"; }
  fs::path ca_dir() const { return root_ / "CA"; }
  fs::path known_servers_dir() const { return root_ / "known_servers"; }
  fs::path known_clients_dir() const { return root_ / "known_clients"; }
  fs::path log_path() const { return root_ / "CA.log"; }
  fs::path crl_path() const { return root_ / "CA.crl"; }
  fs::path retired_dir() const { return root_ / "retired"; }

  // LoadKey reads a PEM private key after CheckKeyPermissions.
  Result<crypto::PrivateKey> LoadKey(const fs::path& path) const;
  // LoadCertificate reads the first certificate of a PEM (or b64-DER) file.
  Result<pki::Certificate> LoadCertificate(const fs::path& path) const;
  // LoadAuthority reads CA.crt and CA.key. kNotFound when this directory
  // has no CA (e.g. after set-org).
  Result<pki::CertificateAuthority> LoadAuthority() const;
  // LoadIdentity reads id.crt.
  Result<pki::Certificate> LoadIdentity() const;
  // LoadCrl reads CA.crl if present (nullopt if not).
  Result<std::optional<pki::RevocationList>> LoadCrl() const;

  // TrustStorePem concatenates every .crt and .pem file of `folder` (sorted
  // by name; none if the folder is missing).
  Result<std::string> TrustStorePem(const fs::path& folder) const;

  // AppendSigningLog records a certificate the CA signed in CA.log.
  Status AppendSigningLog(const pki::Certificate& certificate, std::string_view command) const;

 private:
  explicit ConfigDir(fs::path root) : root_(std::move(root)) {}
  fs::path root_;
};

// ValidateFileStem accepts a name usable as one file name component (no
// '/', NUL, not "." or "..", not empty, at most 255 bytes). Errors:
// kInvalidArgument.
Status ValidateFileStem(std::string_view name);

}  // namespace kisee::certified
