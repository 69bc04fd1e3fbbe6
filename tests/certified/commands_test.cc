#include "kisee/certified/commands.h"

#include <nlohmann/json.hpp>

#include "kisee/biscuit/authorizer.h"
#include "kisee/biscuit/biscuit.h"
#include "kisee/certified/biscuits.h"
#include "kisee/certified/service_record.h"
#include "kisee/pki/verify.h"
#include "test_util.h"

namespace kisee::certified {
namespace {

using testing::TempDir;

constexpr std::string_view kOrgSigner =
    "P=Signing Certificate,OU=Fraud Detection,O=Fictitious Organization";

InitOptions Person() {
  InitOptions options;
  options.name = "David Rogers";
  options.emails = {"me@home.org"};
  return options;
}

InitOptions Org() {
  InitOptions options;
  options.org = "Fictitious Organization";
  options.unit = "Fraud Detection";
  options.hosts = {"127.0.0.1"};
  return options;
}

ConfigDir MustInit(const fs::path& dir, const InitOptions& options) {
  auto message = Init(dir, options);
  EXPECT_TRUE(message) << (message ? "" : message.error().message());
  auto config = ConfigDir::Open(dir);
  EXPECT_TRUE(config);
  return *config;
}

TEST(Init, CreatesTheLayoutOfTheOriginal) {
  TempDir tmp;
  auto message = Init(tmp.path() / "cli", Person());
  ASSERT_TRUE(message) << message.error().message();
  EXPECT_EQ(*message,
            "Generated new config for CN=David Rogers at " + (tmp.path() / "cli").string() + ".");
  auto config = ConfigDir::Open(tmp.path() / "cli");
  ASSERT_TRUE(config);
  for (const char* file : {"CA.key", "CA.crt", "id.key", "id.crt", "known_servers/self.crt",
                           "known_clients/self.crt"}) {
    EXPECT_TRUE(fs::exists(config->root() / file)) << file;
  }
  auto ca = config->LoadAuthority();
  ASSERT_TRUE(ca) << ca.error().message();
  EXPECT_EQ(ca->certificate().subject().ToRfc4514(), "P=Signing Certificate,CN=David Rogers");
  auto identity = config->LoadIdentity();
  ASSERT_TRUE(identity);
  EXPECT_TRUE(identity->VerifyIssuedBy(ca->certificate()));
  EXPECT_EQ(*ReadTextFile(config->known_clients_dir() / "self.crt"),
            *ReadTextFile(config->ca_cert_path()));
}

TEST(Init, ReportsTheSpecifiedErrors) {
  TempDir tmp;
  struct Case {
    InitOptions options;
    std::string message;
  };
  InitOptions no_name;
  no_name.emails = {"me@home.org"};
  InitOptions no_san = Person();
  no_san.emails.clear();
  InitOptions org_without_unit = Org();
  org_without_unit.unit.clear();
  InitOptions org_with_uid = Org();
  org_with_uid.uid = "x";
  for (const auto& c :
       std::vector<Case>{{no_name, "Name or org must be provided."},
                         {no_san, "Host, Email, or URI must also be provided."},
                         {org_without_unit, "If org is defined, unit must also be defined."},
                         {org_with_uid, "If org is defined, uid must not be defined."}}) {
    auto result = Init(tmp.path() / "x", c.options);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().message(), c.message);
  }
  MustInit(tmp.path() / "x", Person());
  auto again = Init(tmp.path() / "x", Person());
  ASSERT_FALSE(again);
  InitOptions overwrite = Org();
  overwrite.overwrite = true;
  EXPECT_TRUE(Init(tmp.path() / "x", overwrite));
}

TEST(Introduction, FlowsFromServerToClient) {
  TempDir tmp;
  ConfigDir cli = MustInit(tmp.path() / "cli", Person());
  ConfigDir srv = MustInit(tmp.path() / "srv", Org());
  auto cli_id = ReadTextFile(cli.id_cert_path());
  ASSERT_TRUE(cli_id);
  IntroduceOptions options;
  options.scopes = {"admin"};
  options.services = {{"test", "https://127.0.0.1:8314"}};
  auto intro = Introduce(srv, *cli_id, options);
  ASSERT_TRUE(intro) << intro.error().message();
  auto json = nlohmann::json::parse(*intro);
  EXPECT_TRUE(json.contains("signed_cert"));
  EXPECT_EQ(json["services"]["test"], "https://127.0.0.1:8314");

  ASSERT_TRUE(AddIntro(cli, *intro, false));
  fs::path installed = cli.id_dir() / (std::string(kOrgSigner) + ".crt");
  ASSERT_TRUE(fs::exists(installed));
  auto record = ServiceRecord::FromYaml(*ReadTextFile(cli.known_servers_dir() / "test.yaml"));
  ASSERT_TRUE(record);
  EXPECT_EQ(record->auths, std::vector<std::string>{std::string(kOrgSigner)});
  auto signed_cert = cli.LoadCertificate(installed);
  ASSERT_TRUE(signed_cert);
  EXPECT_EQ(signed_cert->scopes(), std::vector<std::string>{"admin"});
  EXPECT_FALSE(AddIntro(cli, *intro, false));  // exists
  EXPECT_TRUE(AddIntro(cli, *intro, true));
  // b64-DER values carry no whitespace (certified.md §1).
  auto spaced = json;
  spaced["signed_cert"] = json["signed_cert"].get<std::string>() + "\n";
  EXPECT_FALSE(AddIntro(cli, spaced.dump(), true));

  // The signing log has the introduction.
  EXPECT_NE(ReadTextFile(srv.log_path())->find(signed_cert->serial_hex()), std::string::npos);
}

TEST(Introduction, RefusesCasOwnSubjectAndForeignKeys) {
  TempDir tmp;
  ConfigDir cli = MustInit(tmp.path() / "cli", Person());
  ConfigDir srv = MustInit(tmp.path() / "srv", Org());
  auto refused = Introduce(srv, *ReadTextFile(srv.ca_cert_path()), {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(), "Unable to sign for a CA (insufficient path length).");
  EXPECT_FALSE(Introduce(srv, "garbage", {}));

  // An introduction for someone else's key cannot be installed.
  ConfigDir other = MustInit(tmp.path() / "other", Person());
  auto intro = Introduce(srv, *ReadTextFile(other.id_cert_path()), {});
  ASSERT_TRUE(intro);
  auto mismatch = AddIntro(cli, *intro, false);
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().message().find("does not match id.key"), std::string::npos);
  EXPECT_FALSE(AddIntro(cli, "{\"signed_cert\": 3}", false));
  EXPECT_FALSE(AddIntro(cli, "not json", false));
}

TEST(Introduction, AcceptsACsr) {
  TempDir tmp;
  ConfigDir srv = MustInit(tmp.path() / "srv", Org());
  auto key = crypto::PrivateKey::Generate(crypto::KeyType::kSecp256r1);
  ASSERT_TRUE(key);
  auto names = pki::MakeAltNames({"x@y.org"}, {}, {});
  auto csr =
      pki::CertificateRequest::Create(*key, pki::PersonName("Csr", "", "", "", "", "", ""), *names);
  ASSERT_TRUE(csr);
  auto intro = Introduce(srv, csr->ToPem(), {});
  ASSERT_TRUE(intro) << intro.error().message();
  auto json = nlohmann::json::parse(*intro);
  auto certificate = pki::Certificate::FromB64Der(json["signed_cert"].get<std::string>());
  ASSERT_TRUE(certificate);
  EXPECT_EQ(certificate->subject().ToRfc4514(), "CN=Csr");
  EXPECT_EQ(*certificate->public_key(), key->public_key());
}

TEST(AddClientAndService, WriteTrustAndRecords) {
  TempDir tmp;
  ConfigDir cli = MustInit(tmp.path() / "cli", Person());
  ConfigDir srv = MustInit(tmp.path() / "srv", Org());
  EXPECT_TRUE(AddClient(srv, "david", *ReadTextFile(cli.ca_cert_path()), false));
  EXPECT_TRUE(fs::exists(srv.known_clients_dir() / "david.crt"));
  auto leaf = AddClient(srv, "leaf", *ReadTextFile(cli.id_cert_path()), false);
  ASSERT_FALSE(leaf);
  EXPECT_FALSE(AddClient(srv, "../evil", *ReadTextFile(cli.ca_cert_path()), false));

  auto signer = GetSigner(srv);
  ASSERT_TRUE(signer);
  EXPECT_TRUE(signer->starts_with("{\"ca_cert\": \""));
  EXPECT_TRUE(AddService(cli, "test", *signer, {}, std::nullopt, false));
  auto record = ServiceRecord::FromYaml(*ReadTextFile(cli.known_servers_dir() / "test.yaml"));
  ASSERT_TRUE(record);
  EXPECT_EQ(record->url, "https://test");
  EXPECT_EQ(record->auths, std::vector<std::string>{std::string(kOrgSigner)});
  auto bad_url = AddService(cli, "bad", *signer, {}, std::string("127.0.0.1"), false);
  ASSERT_FALSE(bad_url);
  EXPECT_FALSE(AddService(cli, "bad", *signer, {"not a dn"}, std::nullopt, false));
  auto ident = GetIdent(cli);
  ASSERT_TRUE(ident);
  EXPECT_TRUE(pki::Certificate::FromB64Der(*ident));
}

TEST(SetOrg, ReplacesTheCaWithTheOrganisation) {
  TempDir tmp;
  ConfigDir cli = MustInit(tmp.path() / "cli", Person());
  ConfigDir srv = MustInit(tmp.path() / "srv", Org());
  auto intro = Introduce(srv, *ReadTextFile(cli.id_cert_path()), {});
  ASSERT_TRUE(intro);
  auto refused = SetOrg(cli, *intro, false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(), "This function requires --overwrite");
  ASSERT_TRUE(SetOrg(cli, *intro, true));
  for (const char* gone :
       {"CA.key", "CA.crt", "known_servers/self.crt", "known_clients/self.crt"}) {
    EXPECT_FALSE(fs::exists(cli.root() / gone)) << gone;
  }
  EXPECT_EQ(*ReadTextFile(cli.known_clients_dir() / "org.crt"), *ReadTextFile(srv.ca_cert_path()));
  auto identity = cli.LoadIdentity();
  ASSERT_TRUE(identity);
  EXPECT_TRUE(identity->VerifyIssuedBy(*srv.LoadCertificate(srv.ca_cert_path())));
}

TEST(Revocation, RevokesBySerialOrCertificateAndPrintsTheCrl) {
  TempDir tmp;
  ConfigDir cli = MustInit(tmp.path() / "cli", Person());
  ConfigDir srv = MustInit(tmp.path() / "srv", Org());
  auto intro = Introduce(srv, *ReadTextFile(cli.id_cert_path()), {});
  ASSERT_TRUE(intro);
  auto signed_cert =
      pki::Certificate::FromB64Der(nlohmann::json::parse(*intro)["signed_cert"].get<std::string>());
  ASSERT_TRUE(signed_cert);
  auto revoked = Revoke(srv, signed_cert->ToPem());
  ASSERT_TRUE(revoked) << revoked.error().message();
  EXPECT_EQ(*revoked, "Revoked " + signed_cert->serial_hex() + ".");
  EXPECT_FALSE(Revoke(srv, signed_cert->serial_hex()));  // already
  EXPECT_TRUE(Revoke(srv, "0abc"));
  EXPECT_FALSE(Revoke(srv, "xyz"));
  EXPECT_FALSE(Revoke(srv, *ReadTextFile(cli.id_cert_path())));  // not mine
  auto pem = Crl(srv);
  ASSERT_TRUE(pem);
  auto crl = pki::RevocationList::FromPem(*pem);
  ASSERT_TRUE(crl);
  EXPECT_TRUE(crl->IsRevoked(signed_cert->serial_hex()));
  EXPECT_TRUE(crl->IsRevoked("abc"));
  EXPECT_EQ(crl->number(), 3u);
  EXPECT_TRUE(crl->VerifySignature(*srv.LoadCertificate(srv.ca_cert_path())));
  std::vector<pki::Certificate> anchors = {*srv.LoadCertificate(srv.ca_cert_path())};
  std::vector<pki::RevocationList> crls = {*crl};
  EXPECT_FALSE(pki::VerifyChain(*signed_cert, {}, anchors, crls, std::chrono::system_clock::now()));
}

TEST(Renew, KeepsThePreviousIdentityUntilItExpires) {
  TempDir tmp;
  InitOptions options = Person();
  options.scopes = {"read"};
  ConfigDir cli = MustInit(tmp.path() / "cli", options);
  auto before = cli.LoadIdentity();
  ASSERT_TRUE(before);
  auto summary = Renew(cli, {});
  ASSERT_TRUE(summary) << summary.error().message();
  auto after = cli.LoadIdentity();
  ASSERT_TRUE(after);
  EXPECT_NE(after->serial_hex(), before->serial_hex());
  EXPECT_EQ(after->subject(), before->subject());
  EXPECT_EQ(after->scopes(), std::vector<std::string>{"read"});
  EXPECT_NE(*after->public_key(), *before->public_key());
  auto keys = IdentityKeys(cli);
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[1].key.public_key(), *before->public_key());
  EXPECT_TRUE(fs::exists(cli.retired_dir() / ("id-" + before->serial_hex() + ".key")));
}

TEST(Biscuits, MintWithTheCaKeyAttenuateAndInspect) {
  TempDir tmp;
  ConfigDir srv = MustInit(tmp.path() / "srv", Org());
  MintOptions mint;
  mint.user = "cn:alice";
  auto token = MintBiscuit(srv, mint);
  ASSERT_TRUE(token) << token.error().message();
  auto ca = srv.LoadAuthority();
  ASSERT_TRUE(ca);
  auto root = BiscuitPublicKey(ca->key().public_key());
  ASSERT_TRUE(root);
  auto parsed = biscuit::Biscuit::FromBase64(*token, *root);
  ASSERT_TRUE(parsed);
  EXPECT_NE(parsed->BlockSource(0)->find("user(\"cn:alice\")"), std::string::npos);
  EXPECT_NE(parsed->BlockSource(0)->find("check if time($time)"), std::string::npos);

  auto attenuated = AttenuateBiscuit(*token, "check if operation(\"GET\");");
  ASSERT_TRUE(attenuated) << attenuated.error().message();
  auto inspected =
      InspectBiscuit(srv, *attenuated, std::string("operation(\"POST\"); allow if user($u);"));
  ASSERT_TRUE(inspected);
  EXPECT_FALSE(inspected->ok);
  inspected =
      InspectBiscuit(srv, *attenuated, std::string("operation(\"GET\"); allow if user($u);"));
  ASSERT_TRUE(inspected);
  EXPECT_TRUE(inspected->ok) << inspected->text;

  InitOptions p384 = Org();
  p384.key_type = crypto::KeyType::kSecp384r1;
  ConfigDir other = MustInit(tmp.path() / "p384", p384);
  auto unsupported = MintBiscuit(other, mint);
  ASSERT_FALSE(unsupported);
  EXPECT_EQ(unsupported.error().message(),
            "Key type secp384r1 cannot sign biscuits (supported: ed25519, secp256r1).");
  InitOptions p256 = Org();
  p256.key_type = crypto::KeyType::kSecp256r1;
  ConfigDir nist = MustInit(tmp.path() / "p256", p256);
  EXPECT_TRUE(MintBiscuit(nist, mint));
}

}  // namespace
}  // namespace kisee::certified
