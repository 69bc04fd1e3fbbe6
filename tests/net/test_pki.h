// Certificates for the TLS tests, made with OpenSSL's APIs in memory: a CA,
// leaves it issues (server and client), and CRLs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kisee::net::testing {

enum class KeyType { kP256, kEd25519 };

// Issued is a certificate and its private key, both PEM.
struct Issued {
  std::string certificate_pem;
  std::string key_pem;
  std::string der;  // the certificate's DER
};

// TestCa is a self-signed CA that issues leaves. Aborts the test program on
// an OpenSSL failure (test code only).
class TestCa {
 public:
  explicit TestCa(const std::string& common_name, KeyType key_type = KeyType::kP256);
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  const std::string& certificate_pem() const { return self_.certificate_pem; }

  // Issue makes a leaf for `common_name` with subjectAltName `sans` (e.g.
  // "IP:127.0.0.1,DNS:localhost"; empty for none), serial `serial`,
  // usable for client and server authentication.
  Issued Issue(const std::string& common_name, const std::string& sans, std::uint64_t serial,
               KeyType key_type = KeyType::kP256) const;

  // Crl returns a PEM CRL of this CA revoking `serials`.
  std::string Crl(const std::vector<std::uint64_t>& serials) const;

 private:
  struct State;
  State* state_;
  Issued self_;
};

// WriteFile writes `content` to `path` (mode 0600); aborts on failure.
void WriteFile(const std::string& path, const std::string& content);

// TempDir creates a fresh temporary directory and returns its path.
std::string TempDir();

}  // namespace kisee::net::testing
