#include "kisee/certified/config.h"

#include <sys/stat.h>

#include <map>

#include "kisee/certified/service_record.h"
#include "test_util.h"

namespace kisee::certified {
namespace {

using testing::TempDir;

GetEnv FakeEnv(std::map<std::string, std::string> values) {
  return [values](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ConfigLookup, FollowsTheSpecifiedOrder) {
  TempDir home;
  std::filesystem::create_directories(home.path() / ".config" / "certified");
  std::filesystem::create_directories(home.path() / "xdg" / "certified");
  std::map<std::string, std::string> env = {
      {"CERTIFIED_CONFIG", "/from/env"},
      {"VIRTUAL_ENV", "/venv"},
      {"XDG_CONFIG_HOME", (home.path() / "xdg").string()},
      {"HOME", home.path().string()},
  };
  EXPECT_EQ(ResolveConfigDir(fs::path("/flag"), FakeEnv(env)), fs::path("/flag"));
  EXPECT_EQ(ResolveConfigDir(std::nullopt, FakeEnv(env)), fs::path("/from/env"));
  env.erase("CERTIFIED_CONFIG");
  EXPECT_EQ(ResolveConfigDir(std::nullopt, FakeEnv(env)), fs::path("/venv/etc/certified"));
  env.erase("VIRTUAL_ENV");
  EXPECT_EQ(ResolveConfigDir(std::nullopt, FakeEnv(env)), home.path() / "xdg" / "certified");
  env.erase("XDG_CONFIG_HOME");
  EXPECT_EQ(ResolveConfigDir(std::nullopt, FakeEnv(env)), home.path() / ".config" / "certified");
  // An empty CERTIFIED_CONFIG does not count.
  env["CERTIFIED_CONFIG"] = "";
  EXPECT_EQ(ResolveConfigDir(std::nullopt, FakeEnv(env)), home.path() / ".config" / "certified");
}

TEST(ConfigLookup, MissingUserDirectoryFallsBackToEtcOnlyWhenItExists) {
  TempDir home;
  fs::path user = home.path() / ".config" / "certified";
  fs::path expected = fs::is_directory("/etc/certified") ? fs::path("/etc/certified") : user;
  EXPECT_EQ(ResolveConfigDir(std::nullopt, FakeEnv({{"HOME", home.path().string()}})), expected);
}

TEST(ConfigDir, OpenRefusesAMissingDirectory) {
  TempDir dir;
  auto missing = ConfigDir::Open(dir.path() / "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(ConfigDir::Open(dir.path()));
}

TEST(KeyFiles, AreCreatedExclusivelyWithMode0600) {
  TempDir dir;
  fs::path key = dir.path() / "k.key";
  ASSERT_TRUE(WriteSecretFile(key, AsBytes("secret")));
  struct stat info {};
  ASSERT_EQ(::stat(key.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  auto again = WriteSecretFile(key, AsBytes("other"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_TRUE(WriteSecretFile(key, AsBytes("other"), /*overwrite=*/true));
}

TEST(KeyFiles, GroupOrOtherReadableKeysAreRefused) {
  TempDir dir;
  fs::path key = dir.path() / "id.key";
  auto generated = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  ASSERT_TRUE(generated);
  auto pem = generated->ToPem();
  ASSERT_TRUE(pem);
  ASSERT_TRUE(WriteSecretFile(key, pem->view()));
  auto config = ConfigDir::Open(dir.path());
  ASSERT_TRUE(config);
  EXPECT_TRUE(config->LoadKey(key));
  for (mode_t mode : {0640, 0604, 0660, 0644}) {
    ASSERT_EQ(::chmod(key.c_str(), mode), 0);
    auto refused = config->LoadKey(key);
    ASSERT_FALSE(refused) << std::oct << mode;
    EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
    EXPECT_EQ(refused.error().message(), key.string() + " has compromised file permissions.");
  }
}

TEST(PublicFiles, RefuseToReplaceWithoutOverwrite) {
  TempDir dir;
  fs::path file = dir.path() / "a.crt";
  ASSERT_TRUE(WritePublicFile(file, "one"));
  auto again = WritePublicFile(file, "two");
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message().find("already exists (use --overwrite)"), std::string::npos);
  ASSERT_TRUE(WritePublicFile(file, "two", true));
  EXPECT_EQ(*ReadTextFile(file), "two");
}

TEST(TrustStore, ConcatenatesCrtAndPemFilesOnly) {
  TempDir dir;
  ASSERT_TRUE(WritePublicFile(dir.path() / "b.pem", "B\n"));
  ASSERT_TRUE(WritePublicFile(dir.path() / "a.crt", "A"));
  ASSERT_TRUE(WritePublicFile(dir.path() / "c.yaml", "C\n"));
  auto config = ConfigDir::Open(dir.path());
  ASSERT_TRUE(config);
  EXPECT_EQ(*config->TrustStorePem(dir.path()), "A\nB\n");
  EXPECT_EQ(*config->TrustStorePem(dir.path() / "missing"), "");
}

TEST(ServiceRecord, WritesSortedKeysAndReadsTheOriginalsShape) {
  ServiceRecord record{
      "https://127.0.0.1:8443/api",
      "MIIB-_x==",
      {"P=Signing Certificate,DC=org,DC=example,OU=Fraud Detection,O=Fictitious Organization"}};
  std::string yaml = record.ToYaml();
  EXPECT_LT(yaml.find("auths:"), yaml.find("cert:"));
  EXPECT_LT(yaml.find("cert:"), yaml.find("url:"));
  auto back = ServiceRecord::FromYaml(yaml);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, record);

  // As PyYAML's yaml.dump writes it, with a null cert and an unknown key.
  auto python = ServiceRecord::FromYaml(
      "auths:\n- O=A\\, Inc.\ncert: null\nextra: 1\nurl: https://example.org\n");
  ASSERT_TRUE(python) << python.error().message();
  EXPECT_EQ(python->url, "https://example.org");
  EXPECT_FALSE(python->cert);
  EXPECT_EQ(python->auths, std::vector<std::string>{"O=A\\, Inc."});

  ServiceRecord empty{"https://x", std::nullopt, {}};
  EXPECT_EQ(empty.ToYaml(), "auths: []\ncert: null\nurl: https://x\n");
}

TEST(ServiceRecord, RejectsMalformedInputWithoutThrowing) {
  for (const char* text : {"", "- a\n- b\n", "url: [1, 2]\n", "cert: x\n", "url: x\nauths: 3\n",
                           "url: x\nauths: [[1]]\n", "{{{{", "url: x\ncert: [1]\n"}) {
    EXPECT_FALSE(ServiceRecord::FromYaml(text)) << text;
  }
}

TEST(ServiceUrl, MustBeHttpsWithAHostAndNoQueryOrFragment) {
  EXPECT_TRUE(ValidateServiceUrl("https://127.0.0.1"));
  EXPECT_TRUE(ValidateServiceUrl("https://example.org:8443/prefix"));
  EXPECT_TRUE(ValidateServiceUrl("https://[::1]:8443"));
  for (const char* url : {"127.0.0.1", "http://example.org", "https://", "https://x?q=1",
                          "https://x#f", "https://u@x", "https://x:0", "https://x:99999"}) {
    EXPECT_FALSE(ValidateServiceUrl(url)) << url;
  }
}

}  // namespace
}  // namespace kisee::certified
