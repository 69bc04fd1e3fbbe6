#include "kisee/certified/serve.h"

#include <nlohmann/json.hpp>

#include "kisee/certified/biscuits.h"
#include "kisee/certified/commands.h"
#include "kisee/certified/message.h"
#include "kisee/certified/service_record.h"
#include "kisee/net/client.h"
#include "kisee/net/tls.h"
#include "kisee/pki/authority.h"
#include "test_util.h"

namespace kisee::certified {
namespace {

using testing::TempDir;

// A server directory and two clients it introduced, one with scope admin.
class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitOptions org;
    org.org = "Example";
    org.unit = "API";
    org.hosts = {"127.0.0.1"};
    ASSERT_TRUE(Init(tmp_.path() / "srv", org));
    srv_ = *ConfigDir::Open(tmp_.path() / "srv");
    admin_ = MakeClient("admin", {"admin"});
    reader_ = MakeClient("reader", {});
  }

  struct Client {
    std::string chain_pem;
    SecretBytes key_pem;
  };

  Client MakeClient(const std::string& name, std::vector<std::string> scopes) {
    InitOptions person;
    person.name = name;
    person.emails = {name + "@example.org"};
    fs::path dir = tmp_.path() / name;
    EXPECT_TRUE(Init(dir, person));
    ConfigDir config = *ConfigDir::Open(dir);
    IntroduceOptions options;
    options.scopes = std::move(scopes);
    auto intro = Introduce(srv_, *ReadTextFile(config.id_cert_path()), options);
    EXPECT_TRUE(intro);
    auto json = nlohmann::json::parse(*intro);
    auto signed_cert = pki::Certificate::FromB64Der(json["signed_cert"].get<std::string>());
    EXPECT_TRUE(signed_cert);
    auto key = config.LoadKey(config.id_key_path());
    EXPECT_TRUE(key);
    return Client{signed_cert->ToPem(), *key->ToPem()};
  }

  Result<net::ClientResponse> Get(const Client& client, std::uint16_t port,
                                  const std::string& target,
                                  std::optional<std::string> token = std::nullopt,
                                  const std::string& method = "GET") {
    net::TlsClientOptions tls;
    tls.trust_anchors_pem = *ReadTextFile(srv_.ca_cert_path());
    tls.certificate_chain_pem = client.chain_pem;
    tls.private_key_pem = client.key_pem.Clone();
    auto context = net::TlsClientContext::Create(tls);
    EXPECT_TRUE(context) << (context ? "" : context.error().message());
    net::ClientOptions options;
    options.tls = *context;
    net::ClientRequest request;
    request.method = method;
    request.target = target;
    if (token) request.headers.Set("Authorization", "Bearer " + *token);
    return net::Fetch(net::Url{"https", "127.0.0.1", port, target}, std::move(request), options);
  }

  std::unique_ptr<Service> Start(ServiceOptions options, std::uint16_t* port) {
    options.config_dir = srv_.root();
    options.url = "https://127.0.0.1:0";
    options.threads = 1;
    options.access_log = [this](const net::AccessLogRecord& record) {
      std::lock_guard lock(log_mutex_);
      log_.push_back(net::FormatAccessLogLine(record));
    };
    auto service = Service::Create(std::move(options));
    EXPECT_TRUE(service) << (service ? "" : service.error().message());
    EXPECT_TRUE((*service)->AddSync(
        "GET", "/whoami", [](const net::Request&, const ClientIdentity& identity) {
          nlohmann::json out = {{"name", identity.name}, {"scopes", identity.scopes}};
          return net::Response::Json(200, out.dump());
        }));
    auto bound = (*service)->Listen();
    EXPECT_TRUE(bound);
    *port = *bound;
    EXPECT_TRUE((*service)->Start());
    return std::move(*service);
  }

  TempDir tmp_;
  ConfigDir srv_ = *ConfigDir::Open(fs::temp_directory_path());
  Client admin_;
  Client reader_;
  std::mutex log_mutex_;
  std::vector<std::string> log_;
};

TEST_F(ServeTest, HandlersSeeTheVerifiedIdentityAndScopes) {
  std::uint16_t port = 0;
  auto service = Start({}, &port);
  auto response = Get(admin_, port, "/whoami");
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 200);
  auto json = nlohmann::json::parse(response->body);
  EXPECT_EQ(json["name"], "cn:admin");
  EXPECT_EQ(json["scopes"], nlohmann::json::array({"admin"}));
  service->Shutdown();
  service->Wait();
  std::lock_guard lock(log_mutex_);
  ASSERT_EQ(log_.size(), 1u);
  auto line = nlohmann::json::parse(log_[0]);
  EXPECT_EQ(line["client"], "cn:admin");
  EXPECT_EQ(line["serial"].get<std::string>().size(), 40u);
  EXPECT_EQ(line["method"], "GET");
  EXPECT_EQ(line["status"], 200);
  EXPECT_TRUE(line.contains("cipher"));
  EXPECT_TRUE(line.contains("duration_ms"));
}

TEST_F(ServeTest, ScopePolicyAllowsAdminAndForbidsOthers) {
  ServiceOptions options;
  options.policy = "allow if scope(\"admin\");";
  std::uint16_t port = 0;
  auto service = Start(std::move(options), &port);
  auto allowed = Get(admin_, port, "/whoami");
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200);
  auto refused = Get(reader_, port, "/whoami");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  EXPECT_EQ(nlohmann::json::parse(refused->body)["detail"], "Forbidden");
}

TEST_F(ServeTest, BiscuitsAreRequiredVerifiedAndAuthorized) {
  ServiceOptions options;
  options.require_biscuit = true;
  std::uint16_t port = 0;
  auto service = Start(std::move(options), &port);
  auto missing = Get(reader_, port, "/whoami");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 401);
  EXPECT_EQ(nlohmann::json::parse(missing->body)["detail"],
            "Required header \"Biscuit: urlsafe-b64-encoded-value\" not found.");
  auto garbage = Get(reader_, port, "/whoami", "bm90IGEgdG9rZW4");
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->status, 401);
  EXPECT_EQ(nlohmann::json::parse(garbage->body)["detail"],
            "Required header \"Biscuit: urlsafe-b64-encoded-value\" invalid format.");
  MintOptions mint;
  mint.user = "cn:reader";
  auto token = MintBiscuit(srv_, mint);
  ASSERT_TRUE(token);
  auto ok = Get(reader_, port, "/whoami", *token);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  auto restricted = AttenuateBiscuit(*token, "check if client(\"cn:someone-else\");");
  ASSERT_TRUE(restricted);
  auto forbidden = Get(reader_, port, "/whoami", *restricted);
  ASSERT_TRUE(forbidden);
  EXPECT_EQ(forbidden->status, 403);
}

TEST_F(ServeTest, AnUnroutedMethodIsAuthorizedAndLoggedLikeAnyRequest) {
  ServiceOptions options;
  options.require_biscuit = true;
  std::uint16_t port = 0;
  auto service = Start(std::move(options), &port);
  // No biscuit: 401 first, not a 405 that tells which methods /whoami has.
  auto missing = Get(reader_, port, "/whoami", std::nullopt, "POST");
  ASSERT_TRUE(missing) << missing.error().message();
  EXPECT_EQ(missing->status, 401);
  MintOptions mint;
  mint.user = "cn:reader";
  auto token = MintBiscuit(srv_, mint);
  ASSERT_TRUE(token);
  auto refused = Get(reader_, port, "/whoami", *token, "DELETE");
  ASSERT_TRUE(refused) << refused.error().message();
  EXPECT_EQ(refused->status, 405);
  EXPECT_EQ(refused->headers.GetOr("Allow", ""), "GET, HEAD");
  service->Shutdown();
  service->Wait();
  std::lock_guard lock(log_mutex_);
  ASSERT_EQ(log_.size(), 2u);
  for (const auto& text : log_) {
    auto line = nlohmann::json::parse(text);
    EXPECT_EQ(line["client"], "cn:reader") << text;
    EXPECT_EQ(line["serial"].get<std::string>().size(), 40u) << text;
  }
}

TEST_F(ServeTest, AnIntermediateCaInKnownClientsIsATrustAnchor) {
  // root (pathlen 1) -> intermediate -> client; only the intermediate is trusted.
  auto root_key = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  auto root = pki::CertificateAuthority::CreateRoot(
      pki::WithPseudonym(pki::PersonName("Root", "", "", "", "", "", ""), pki::kSigningPseudonym),
      *root_key, {}, 1);
  ASSERT_TRUE(root);
  auto middle_key = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  pki::CertificateSubject middle_subject{
      pki::WithPseudonym(pki::PersonName("Middle", "", "", "", "", "", ""), pki::kSigningPseudonym),
      {},
      middle_key->public_key(),
      true,
      0};
  auto middle_cert = root->Issue(middle_subject);
  ASSERT_TRUE(middle_cert) << middle_cert.error().message();
  auto middle = pki::CertificateAuthority::Create(*middle_cert, *middle_key);
  ASSERT_TRUE(middle);
  auto client_key = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  auto client_cert = middle->Issue(
      {pki::PersonName("Leaf", "", "", "", "", "", ""), {}, client_key->public_key()});
  ASSERT_TRUE(client_cert);
  ASSERT_TRUE(WritePublicFile(srv_.known_clients_dir() / "middle.crt", middle_cert->ToPem()));
  std::uint16_t port = 0;
  auto service = Start({}, &port);
  auto response = Get(Client{client_cert->ToPem(), *client_key->ToPem()}, port, "/whoami");
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(nlohmann::json::parse(response->body)["name"], "cn:Leaf");
}

TEST_F(ServeTest, MessageSendsTheChainOfACaIntroduction) {
  // A foreign root (trusted by the server) signed carol's CA: message must
  // send id.crt + CA/<root>.crt because the record's auths name the root.
  auto root_key = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  auto root = pki::CertificateAuthority::CreateRoot(
      pki::WithPseudonym(pki::OrgName("Federation", "Root", "", "", "", "", "", ""),
                         pki::kSigningPseudonym),
      *root_key, {}, 1);
  ASSERT_TRUE(root);
  std::string root_dn = root->certificate().subject().ToRfc4514();
  ASSERT_TRUE(
      WritePublicFile(srv_.known_clients_dir() / "federation.crt", root->certificate().ToPem()));

  InitOptions person;
  person.name = "carol";
  person.emails = {"carol@example.org"};
  ASSERT_TRUE(Init(tmp_.path() / "carol", person));
  ConfigDir carol = *ConfigDir::Open(tmp_.path() / "carol");
  auto carol_ca = carol.LoadAuthority();
  ASSERT_TRUE(carol_ca);
  auto cross =
      root->Issue({carol_ca->certificate().subject(), {}, carol_ca->key().public_key(), true, 0});
  ASSERT_TRUE(cross) << cross.error().message();
  fs::create_directories(carol.ca_dir());
  ASSERT_TRUE(WritePublicFile(carol.ca_dir() / (root_dn + ".crt"), cross->ToPem()));

  std::uint16_t port = 0;
  auto service = Start({}, &port);
  ServiceRecord record{"https://127.0.0.1:" + std::to_string(port),
                       srv_.LoadCertificate(srv_.ca_cert_path())->ToB64Der(),
                       {"O=Nobody", root_dn}};
  ASSERT_TRUE(WritePublicFile(carol.known_servers_dir() / "srv.yaml", record.ToYaml()));
  MessageOptions options;
  options.config_dir = carol.root();
  options.url = "https://srv/whoami";
  MessageOutcome outcome = SendMessage(options);
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(nlohmann::json::parse(outcome.out)["name"], "cn:carol");

  record.auths = {"O=Nobody"};
  ASSERT_TRUE(WritePublicFile(carol.known_servers_dir() / "srv.yaml", record.ToYaml(), true));
  outcome = SendMessage(options);
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_NE(outcome.err.find("Unable to find any certificate signed from any authorizers"),
            std::string::npos)
      << outcome.err;
}

TEST(ClientName, PrefersUidThenLastCnThenAddress) {
  EXPECT_EQ(*ClientNameOf({}, "10.0.0.1"), "addr:10.0.0.1");
  EXPECT_FALSE(ClientNameOf({}, ""));
}

TEST(ServiceOptions, RefuseBadUrls) {
  TempDir tmp;
  for (const char* url : {"http://127.0.0.1:1", "https://127.0.0.1", "https://127.0.0.1:1/x",
                          "https://127.0.0.1:1?q", "nonsense"}) {
    ServiceOptions options;
    options.config_dir = tmp.path();
    options.url = url;
    EXPECT_FALSE(Service::Create(options)) << url;
  }
}

}  // namespace
}  // namespace kisee::certified
