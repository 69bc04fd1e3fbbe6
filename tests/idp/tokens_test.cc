#include "idp/tokens.h"

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "kisee/core/bytes.h"
#include "kisee/crypto/keys.h"

namespace kisee::idp {
namespace {

using std::chrono::seconds;

std::string PrivatePem(crypto::KeyType type) {
  auto key = crypto::PrivateKey::Generate(type);
  EXPECT_TRUE(key.has_value());
  return std::string(key->ToPem(crypto::PrivateKeyEncoding::kPkcs8)->chars());
}

Settings MakeSettings(std::string private_pem) {
  Settings s;
  s.jwt.iss = "example.com";
  s.jwt.private_key = std::move(private_pem);
  return s;
}

nlohmann::json Part(std::string_view jwt, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) start = jwt.find('.', start) + 1;
  auto bytes = Base64UrlDecode(jwt.substr(start, jwt.find('.', start) - start));
  return nlohmann::json::parse(AsChars(*bytes));
}

class TokensTest : public testing::Test {
 protected:
  FakeClock clock_{TimePoint(seconds(1'700'000'000))};
  User alice_{.user_id = "alice", .username = "alice", .email = "a@example.com"};
};

TEST_F(TokensTest, LoginTokenHasTheContractShape) {
  auto service = CreateTokenService(MakeSettings(PrivatePem(crypto::KeyType::kSecp256r1)), clock_);
  ASSERT_TRUE(service) << service.error().message();
  auto token = (*service)->IssueLogin(alice_);
  ASSERT_TRUE(token);
  auto header = Part(token->jwt, 0);
  auto claims = Part(token->jwt, 1);
  EXPECT_EQ(header["alg"], "ES256");
  EXPECT_EQ(header["typ"], "JWT");
  EXPECT_EQ(claims["sub"], "alice");
  EXPECT_EQ(claims["exp"], 1'700'003'600);
  EXPECT_EQ(claims["iat"], 1'700'000'000);
  EXPECT_EQ(claims["jti"], token->jti);
  auto verified = (*service)->Verify(token->jwt);
  ASSERT_TRUE(verified) << verified.error().message();
  EXPECT_EQ(verified->sub, "alice");
  EXPECT_FALSE(verified->password_reset_for.has_value());
  auto jwks = nlohmann::json::parse((*service)->Jwks());
  EXPECT_EQ(jwks["keys"][0]["kid"], header["kid"]);
  EXPECT_EQ(jwks["keys"][0]["crv"], "P-256");
}

TEST_F(TokensTest, Secp256k1IsLabelledES256UnlessAskedForES256K) {
  Settings s = MakeSettings(PrivatePem(crypto::KeyType::kSecp256k1));
  auto compat = CreateTokenService(s, clock_);
  ASSERT_TRUE(compat);
  EXPECT_EQ(Part((*compat)->IssueLogin(alice_)->jwt, 0)["alg"], "ES256");
  s.jwt.algorithm = "ES256K";
  auto honest = CreateTokenService(s, clock_);
  ASSERT_TRUE(honest);
  auto token = (*honest)->IssueLogin(alice_);
  EXPECT_EQ(Part(token->jwt, 0)["alg"], "ES256K");
  EXPECT_TRUE((*honest)->Verify(token->jwt));
}

TEST_F(TokensTest, RefusesExpiredTamperedForeignAndAlgNoneTokens) {
  auto service = CreateTokenService(MakeSettings(PrivatePem(crypto::KeyType::kSecp256r1)), clock_);
  auto other = CreateTokenService(MakeSettings(PrivatePem(crypto::KeyType::kSecp256r1)), clock_);
  auto token = (*service)->IssueLogin(alice_)->jwt;
  EXPECT_FALSE((*other)->Verify(token)) << "signed by another key";
  std::string tampered = token;
  tampered[tampered.find('.') + 3] ^= 1;
  EXPECT_FALSE((*service)->Verify(tampered));
  std::string none = Base64UrlEncode(AsBytes(R"({"alg":"none","typ":"JWT"})")) + "." +
                     token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1) +
                     ".";
  EXPECT_FALSE((*service)->Verify(none));
  for (const char* junk : {"", ".", "..", "a.b.c", "a.b.c.d"}) {
    EXPECT_FALSE((*service)->Verify(junk)) << junk;
  }
  // RFC 7519 §4.1.4: valid while now < exp + leeway (5 s by default).
  clock_.Advance(seconds(3600 + 4));
  EXPECT_TRUE((*service)->Verify(token)) << "within the leeway";
  clock_.Advance(seconds(1));
  auto expired = (*service)->Verify(token);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code(), ErrorCode::kUnauthenticated);
}

TEST_F(TokensTest, ResetTokensAreBoundToTheStamp) {
  auto service = CreateTokenService(MakeSettings(PrivatePem(crypto::KeyType::kSecp256r1)), clock_);
  auto token = (*service)->IssueReset(alice_, "hash|nonce1");
  ASSERT_TRUE(token);
  auto claims = Part(token->jwt, 1);
  EXPECT_FALSE(claims.contains("sub"));
  EXPECT_EQ(claims["password_reset_for"], "alice");
  EXPECT_EQ(claims["exp"], 1'700'003'600);
  auto verified = (*service)->Verify(token->jwt);
  ASSERT_TRUE(verified);
  EXPECT_EQ(verified->password_reset_for, "alice");
  EXPECT_EQ(verified->reset_binding, (*service)->BindingDigest("hash|nonce1"));
  EXPECT_NE(verified->reset_binding, (*service)->BindingDigest("hash|nonce2"));
  EXPECT_EQ(claims.dump().find("hash|nonce1"), std::string::npos) << "the stamp is not revealed";
}

TEST_F(TokensTest, RotationNewestSignsAllVerifyAllPublished) {
  std::string old_pem = PrivatePem(crypto::KeyType::kSecp256r1);
  auto old_service = CreateTokenService(MakeSettings(old_pem), clock_);
  auto old_token = (*old_service)->IssueLogin(alice_)->jwt;
  Settings rotated = MakeSettings(PrivatePem(crypto::KeyType::kSecp256r1));
  rotated.jwt.previous_keys = {old_pem};
  auto service = CreateTokenService(rotated, clock_);
  ASSERT_TRUE(service) << service.error().message();
  EXPECT_TRUE((*service)->Verify(old_token));
  auto jwks = nlohmann::json::parse((*service)->Jwks());
  ASSERT_EQ(jwks["keys"].size(), 2u);
  EXPECT_EQ(Part((*service)->IssueLogin(alice_)->jwt, 0)["kid"], jwks["keys"][0]["kid"]);
  EXPECT_EQ(Part(old_token, 0)["kid"], jwks["keys"][1]["kid"]);
}

TEST_F(TokensTest, BadKeysAreOneLineErrors) {
  Settings bad =
      MakeSettings("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
  auto service = CreateTokenService(bad, clock_);
  ASSERT_FALSE(service);
  EXPECT_EQ(service.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(service.error().message().find('\n'), std::string::npos);
  Settings mismatch = MakeSettings(PrivatePem(crypto::KeyType::kSecp256r1));
  mismatch.jwt.public_key =
      crypto::PrivateKey::Generate(crypto::KeyType::kSecp256r1)->public_key().ToPem();
  auto refused = CreateTokenService(mismatch, clock_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(), "jwt.public_key does not match jwt.private_key");
}

}  // namespace
}  // namespace kisee::idp

#include "idp/mailer.h"

namespace kisee::idp {
namespace {

// FakeTransport records every attempt and fails the first `failures`.
class FakeTransport final : public MailTransport {
 public:
  struct Attempt {
    std::chrono::steady_clock::time_point at;
    std::string to;
    std::string message;
  };

  explicit FakeTransport(int failures) : failures_(failures) {}

  Status Send(std::string_view, std::string_view to, std::string_view message) override {
    std::lock_guard lock(mutex_);
    attempts_.push_back({std::chrono::steady_clock::now(), std::string(to), std::string(message)});
    if (static_cast<int>(attempts_.size()) <= failures_) {
      return MakeError(ErrorCode::kUnavailable, "smtp: connection refused");
    }
    return Ok();
  }

  std::vector<Attempt> attempts() {
    std::lock_guard lock(mutex_);
    return attempts_;
  }

 private:
  const int failures_;
  std::mutex mutex_;
  std::vector<Attempt> attempts_;
};

EmailSettings TestEmail() {
  EmailSettings settings;
  settings.present = true;
  settings.sender = "kisee@example.com";
  settings.subject = "Reset for {username}";
  settings.body = "Hello {username},\nfollow {reset_url}\n";
  settings.reset_url = "https://app.example/reset?token={token}";
  return settings;
}

const User kAlice{.user_id = "alice", .username = "alice", .email = "alice@example.com"};

TEST(Mailer, RendersTheTemplatesOfTheSettings) {
  EXPECT_EQ(RenderTemplate("Hello {username}, follow {reset_url} ({token})", "alice", "T.K.N",
                           "https://app/reset?token=T.K.N"),
            "Hello alice, follow https://app/reset?token=T.K.N (T.K.N)");
  EXPECT_EQ(RenderTemplate("https://h/password_recoveries/?token={token}", "a", "X", ""),
            "https://h/password_recoveries/?token=X");
  // Values are inserted literally, not searched again for placeholders.
  EXPECT_EQ(RenderTemplate("Reset for {username}: {reset_url}", "{token}{reset_url}", "T.K.N",
                           "https://app/reset?token=T.K.N"),
            "Reset for {token}{reset_url}: https://app/reset?token=T.K.N");
}

TEST(Mailer, ComposesOneHeaderPerLineAndCrlfBodies) {
  std::string message =
      ComposeMessage("kisee@example.com", "alice@example.com\r\nBcc: eve@example.com",
                     "Réinitialisation", "line one\nline two");
  EXPECT_NE(message.find("To: alice@example.com  Bcc: eve@example.com\r\n"), std::string::npos)
      << message;
  EXPECT_EQ(message.find("\r\nBcc:"), std::string::npos);
  EXPECT_NE(message.find("Subject: =?UTF-8?B?UsOpaW5pdGlhbGlzYXRpb24=?=\r\n"), std::string::npos)
      << message;
  EXPECT_TRUE(message.ends_with("\r\n\r\nline one\r\nline two\r\n")) << message;
}

TEST(Mailer, RetriesWithGrowingDelaysUntilDelivered) {
  auto transport = std::make_unique<FakeTransport>(3);
  FakeTransport* fake = transport.get();
  Mailer mailer(TestEmail(), std::move(transport),
                {.initial_delay = std::chrono::milliseconds(40),
                 .max_delay = std::chrono::milliseconds(80),
                 .give_up_after = std::chrono::seconds(30)});
  ASSERT_TRUE(mailer.Enqueue(kAlice, "HEAD.PAYLOAD.SIG"));
  for (int i = 0; i < 400 && fake->attempts().size() < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  mailer.Shutdown();
  auto attempts = fake->attempts();
  ASSERT_EQ(attempts.size(), 4u);
  // 40 ms, then 80 ms, then capped at 80 ms.
  EXPECT_GE(attempts[1].at - attempts[0].at, std::chrono::milliseconds(40));
  EXPECT_GE(attempts[2].at - attempts[1].at, std::chrono::milliseconds(80));
  EXPECT_GE(attempts[3].at - attempts[2].at, std::chrono::milliseconds(80));
  EXPECT_EQ(attempts[3].to, "alice@example.com");
  EXPECT_NE(attempts[3].message.find("Subject: Reset for alice"), std::string::npos);
  EXPECT_NE(attempts[3].message.find("https://app.example/reset?token=HEAD.PAYLOAD.SIG"),
            std::string::npos);
}

TEST(Mailer, GivesUpAfterItsDeadline) {
  auto transport = std::make_unique<FakeTransport>(1'000'000);
  FakeTransport* fake = transport.get();
  Mailer mailer(TestEmail(), std::move(transport),
                {.initial_delay = std::chrono::milliseconds(10),
                 .max_delay = std::chrono::milliseconds(20),
                 .give_up_after = std::chrono::milliseconds(150)});
  ASSERT_TRUE(mailer.Enqueue(kAlice, "t"));
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  const std::size_t attempts = fake->attempts().size();
  EXPECT_GE(attempts, 3u);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(fake->attempts().size(), attempts) << "still retrying after the deadline";
}

TEST(Mailer, GivesUpOnShutdownWithoutHanging) {
  auto transport = std::make_unique<FakeTransport>(1'000'000);
  Mailer mailer(TestEmail(), std::move(transport));  // 1 s back-off, 24 h deadline
  ASSERT_TRUE(mailer.Enqueue(kAlice, "t"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto start = std::chrono::steady_clock::now();
  mailer.Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(mailer.Enqueue(kAlice, "t").has_value());
}

}  // namespace
}  // namespace kisee::idp
