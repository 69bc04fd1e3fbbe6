#include "kisee/net/tls.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "kisee/core/bytes.h"
#include "kisee/net/client.h"
#include "kisee/net/router.h"
#include "kisee/net/server.h"
#include "net/test_pki.h"
#include "net/test_util.h"

namespace kisee::net {
namespace {

using namespace testing;
using namespace std::chrono_literals;

// Pki is the cast of the TLS tests: a CA with a server, two clients (one to
// be revoked), and a stranger from another CA.
struct Pki {
  explicit Pki(KeyType type = KeyType::kP256)
      : ca("Test CA", type),
        other("Other CA", type),
        server(ca.Issue("server", "IP:127.0.0.1,DNS:localhost", 100, type)),
        alice(ca.Issue("alice", "", 200, type)),
        mallory(ca.Issue("mallory", "", 201, type)),
        eve(other.Issue("eve", "", 300, type)) {}
  TestCa ca;
  TestCa other;
  Issued server;
  Issued alice;
  Issued mallory;
  Issued eve;
};

std::shared_ptr<const TlsServerContext> ServerContext(const Issued& identity, bool mutual,
                                                      std::string client_cas = {},
                                                      std::string crl = {}) {
  TlsServerOptions options;
  options.certificate_chain_pem = identity.certificate_pem;
  options.private_key_pem = SecretBytes(identity.key_pem);
  if (mutual) {
    options.min_version = TlsVersion::kTls13;
    options.require_client_certificate = true;
    options.client_ca_pem = std::move(client_cas);
    options.crl_pem = std::move(crl);
  }
  auto context = TlsServerContext::Create(options);
  EXPECT_TRUE(context.has_value()) << context.error().message();
  return context ? *context : nullptr;
}

ClientOptions ClientWith(const std::string& trust, const Issued* identity) {
  TlsClientOptions tls;
  tls.trust_anchors_pem = trust;
  if (identity != nullptr) {
    tls.certificate_chain_pem = identity->certificate_pem;
    tls.private_key_pem = SecretBytes(identity->key_pem);
  }
  auto context = TlsClientContext::Create(tls);
  EXPECT_TRUE(context.has_value()) << context.error().message();
  ClientOptions options;
  options.tls = context ? *context : nullptr;
  options.connect_timeout = kWait;
  options.response_timeout = kWait;
  return options;
}

// PeerRouter answers GET /peer with "protocol|cipher|chain length|leaf hex".
std::shared_ptr<Router> PeerRouter() {
  auto router = std::make_shared<Router>();
  EXPECT_TRUE(router->AddSync("GET", "/peer", [](const Request& request) {
    if (!request.tls) return Response::Text(200, "plain");
    const TlsPeer& peer = *request.tls;
    std::string leaf =
        peer.verified_chain_der.empty() ? "" : HexEncode(peer.verified_chain_der.front());
    return Response::Text(200, peer.protocol + "|" + peer.cipher + "|" +
                                   std::to_string(peer.verified_chain_der.size()) + "|" + leaf);
  }));
  return router;
}

ServerOptions TlsOptions(std::shared_ptr<const TlsServerContext> context) {
  ServerOptions options = TestOptions();
  options.tls = std::move(context);
  return options;
}

Result<ClientResponse> GetPeer(std::uint16_t port, const ClientOptions& options,
                               std::string host = "127.0.0.1") {
  auto url = ParseUrl("https://" + host + ":" + std::to_string(port) + "/peer");
  EXPECT_TRUE(url.has_value());
  return Fetch(*url, ClientRequest{}, options);
}

std::string Hex(const std::string& der) { return HexEncode(AsBytes(der)); }

TEST(Tls, ServesHttpsWithoutClientCertificates) {
  Pki pki;
  RunningServer running(PeerRouter(), TlsOptions(ServerContext(pki.server, false)));
  auto answer = GetPeer(running.port(), ClientWith(pki.ca.certificate_pem(), nullptr));
  ASSERT_TRUE(answer) << answer.error().message();
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->body.substr(0, 8), "TLSv1.3|");
  EXPECT_NE(answer->body.find("|0|"), std::string::npos) << answer->body;
}

TEST(Tls, MutualTlsExposesTheVerifiedChain) {
  Pki pki;
  RunningServer running(PeerRouter(),
                        TlsOptions(ServerContext(pki.server, true, pki.ca.certificate_pem())));
  auto answer = GetPeer(running.port(), ClientWith(pki.ca.certificate_pem(), &pki.alice));
  ASSERT_TRUE(answer) << answer.error().message();
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->body.substr(0, 12), "TLSv1.3|TLS_") << answer->body;
  EXPECT_TRUE(answer->body.ends_with("|2|" + Hex(pki.alice.der))) << answer->body;
}

TEST(Tls, MutualTlsRefusesMissingAndUntrustedCertificates) {
  Pki pki;
  RunningServer running(PeerRouter(),
                        TlsOptions(ServerContext(pki.server, true, pki.ca.certificate_pem())));
  auto anonymous = GetPeer(running.port(), ClientWith(pki.ca.certificate_pem(), nullptr));
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().code(), ErrorCode::kUnauthenticated) << anonymous.error().message();
  EXPECT_NE(anonymous.error().message().find("certificate"), std::string::npos)
      << anonymous.error().message();

  auto stranger = GetPeer(running.port(), ClientWith(pki.ca.certificate_pem(), &pki.eve));
  ASSERT_FALSE(stranger);
  EXPECT_EQ(stranger.error().code(), ErrorCode::kUnauthenticated) << stranger.error().message();

  // The server keeps serving good clients.
  auto good = GetPeer(running.port(), ClientWith(pki.ca.certificate_pem(), &pki.alice));
  ASSERT_TRUE(good) << good.error().message();
}

TEST(Tls, RevokedCertificatesAreRefusedWhenACrlIsGiven) {
  Pki pki;
  std::string both = pki.ca.certificate_pem() + pki.other.certificate_pem();
  RunningServer running(PeerRouter(),
                        TlsOptions(ServerContext(pki.server, true, both, pki.ca.Crl({201}))));
  auto revoked = GetPeer(running.port(), ClientWith(pki.ca.certificate_pem(), &pki.mallory));
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(revoked.error().message().find("revoked"), std::string::npos)
      << revoked.error().message();
  auto alice = GetPeer(running.port(), ClientWith(pki.ca.certificate_pem(), &pki.alice));
  ASSERT_TRUE(alice) << alice.error().message();
  // A client of a trusted CA that publishes no CRL is judged on its chain.
  auto eve = GetPeer(running.port(), ClientWith(pki.ca.certificate_pem(), &pki.eve));
  ASSERT_TRUE(eve) << eve.error().message();
}

TEST(Tls, ClientVerifiesTheServerChainAndName) {
  Pki pki;
  Issued misnamed = pki.ca.Issue("server", "DNS:other.example", 101);
  {
    RunningServer running(PeerRouter(), TlsOptions(ServerContext(misnamed, false)));
    auto mismatch = GetPeer(running.port(), ClientWith(pki.ca.certificate_pem(), nullptr));
    ASSERT_FALSE(mismatch);
    EXPECT_EQ(mismatch.error().code(), ErrorCode::kUnauthenticated);
    EXPECT_NE(mismatch.error().message().find("mismatch"), std::string::npos)
        << mismatch.error().message();
  }
  RunningServer running(PeerRouter(), TlsOptions(ServerContext(pki.server, false)));
  auto by_name =
      GetPeer(running.port(), ClientWith(pki.ca.certificate_pem(), nullptr), "localhost");
  EXPECT_TRUE(by_name) << by_name.error().message();
  auto untrusted = GetPeer(running.port(), ClientWith(pki.other.certificate_pem(), nullptr));
  ASSERT_FALSE(untrusted);
  EXPECT_EQ(untrusted.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(untrusted.error().message().find("not trusted"), std::string::npos)
      << untrusted.error().message();
}

TEST(Tls, ReplacedContextAppliesToNewConnections) {
  Pki pki;
  RunningServer running(PeerRouter(),
                        TlsOptions(ServerContext(pki.server, true, pki.ca.certificate_pem())));
  ClientOptions alice = ClientWith(pki.ca.certificate_pem(), &pki.alice);
  ClientOptions eve = ClientWith(pki.ca.certificate_pem(), &pki.eve);
  ASSERT_TRUE(GetPeer(running.port(), alice));
  ASSERT_FALSE(GetPeer(running.port(), eve));
  running.server().SetTlsContext(ServerContext(pki.server, true, pki.other.certificate_pem()));
  EXPECT_FALSE(GetPeer(running.port(), alice));
  auto now_trusted = GetPeer(running.port(), eve);
  EXPECT_TRUE(now_trusted) << now_trusted.error().message();
}

TEST(Tls, Ed25519CertificatesWork) {
  Pki pki(KeyType::kEd25519);
  RunningServer running(PeerRouter(),
                        TlsOptions(ServerContext(pki.server, true, pki.ca.certificate_pem())));
  auto answer = GetPeer(running.port(), ClientWith(pki.ca.certificate_pem(), &pki.alice));
  ASSERT_TRUE(answer) << answer.error().message();
  EXPECT_NE(answer->body.find(Hex(pki.alice.der)), std::string::npos);
}

TEST(Tls, HandshakeTimesOutForSilentClients) {
  Pki pki;
  ServerOptions options = TlsOptions(ServerContext(pki.server, false));
  options.handshake_timeout = 300ms;
  RunningServer running(PeerRouter(), options);
  RawConnection silent(running.port());
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.WaitClosed());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
  // Plain HTTP on a TLS port is not an HTTP request.
  RawConnection confused(running.port());
  confused.Send(SimpleRequest("GET", "/peer"));
  EXPECT_FALSE(confused.ReadResponse(false, 5s));
}

TEST(Tls, ContextCreationChecksItsInputs) {
  Pki pki;
  TlsServerOptions mismatched;
  mismatched.certificate_chain_pem = pki.server.certificate_pem;
  mismatched.private_key_pem = SecretBytes(pki.alice.key_pem);
  auto wrong_key = TlsServerContext::Create(mismatched);
  ASSERT_FALSE(wrong_key);
  EXPECT_NE(wrong_key.error().message().find("does not match"), std::string::npos);

  TlsServerOptions garbage;
  garbage.certificate_chain_pem =
      "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  garbage.private_key_pem = SecretBytes(pki.server.key_pem);
  EXPECT_FALSE(TlsServerContext::Create(garbage));

  TlsServerOptions empty;
  empty.private_key_pem = SecretBytes(pki.server.key_pem);
  EXPECT_FALSE(TlsServerContext::Create(empty));

  TlsServerOptions no_ca;
  no_ca.certificate_chain_pem = pki.server.certificate_pem;
  no_ca.private_key_pem = SecretBytes(pki.server.key_pem);
  no_ca.require_client_certificate = true;
  EXPECT_FALSE(TlsServerContext::Create(no_ca));

  TlsServerOptions bad_crl;
  bad_crl.certificate_chain_pem = pki.server.certificate_pem;
  bad_crl.private_key_pem = SecretBytes(pki.server.key_pem);
  bad_crl.require_client_certificate = true;
  bad_crl.client_ca_pem = pki.ca.certificate_pem();
  bad_crl.crl_pem = "junk";
  EXPECT_FALSE(TlsServerContext::Create(bad_crl));

  TlsClientOptions no_trust;
  EXPECT_FALSE(TlsClientContext::Create(no_trust));
  TlsClientOptions half;
  half.trust_anchors_pem = pki.ca.certificate_pem();
  half.certificate_chain_pem = pki.alice.certificate_pem;
  EXPECT_FALSE(TlsClientContext::Create(half));
}

// RunCommand runs a shell command and returns its exit status and output.
std::pair<int, std::string> RunCommand(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  char chunk[4096];
  while (std::size_t n = std::fread(chunk, 1, sizeof(chunk), pipe)) output.append(chunk, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST(Tls, CurlWithAClientCertificateSpeaksMutualTls) {
  Pki pki;
  RunningServer running(PeerRouter(),
                        TlsOptions(ServerContext(pki.server, true, pki.ca.certificate_pem())));
  std::string dir = TempDir();
  WriteFile(dir + "/ca.pem", pki.ca.certificate_pem());
  WriteFile(dir + "/alice.pem", pki.alice.certificate_pem);
  WriteFile(dir + "/alice.key", pki.alice.key_pem);
  std::string url = "https://127.0.0.1:" + std::to_string(running.port()) + "/peer";
  std::string curl = "curl -sS --max-time 20 --cacert " + dir + "/ca.pem ";

  auto [ok_status, ok_output] =
      RunCommand(curl + "--cert " + dir + "/alice.pem --key " + dir + "/alice.key " + url);
  EXPECT_EQ(ok_status, 0) << ok_output;
  EXPECT_EQ(ok_output.substr(0, 12), "TLSv1.3|TLS_") << ok_output;
  EXPECT_TRUE(ok_output.ends_with("|2|" + Hex(pki.alice.der))) << ok_output;

  auto [anonymous_status, anonymous_output] = RunCommand(curl + url);
  EXPECT_NE(anonymous_status, 0) << anonymous_output;

  auto [old_status, old_output] = RunCommand(curl + "--tls-max 1.2 --cert " + dir +
                                             "/alice.pem --key " + dir + "/alice.key " + url);
  EXPECT_NE(old_status, 0) << old_output;
  RunCommand("rm -rf " + dir);
}

}  // namespace
}  // namespace kisee::net
