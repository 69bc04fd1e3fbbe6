// The views through net::Router::Dispatch with a backend whose store can be
// switched off: the store-down contract (503 + Retry-After, /health red,
// /health/ready 503, recovery jobs that wait for the store, recovery
// without restart) and the read-only answers.
#include "idp/views.h"

#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>

#include "kisee/core/bytes.h"
#include "kisee/crypto/keys.h"
#include "kisee/net/handler.h"

namespace kisee::idp {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// SwitchableBackend has one user, alice, whose store can be taken down
// (every call kUnavailable) or made read-only.
class SwitchableBackend final : public IdentityBackend {
 public:
  explicit SwitchableBackend(const Clock& clock) : failures_(clock) {}

  std::atomic<bool> down{false};
  std::atomic<bool> read_only{false};

  Result<std::optional<User>> Identify(std::string_view username,
                                       std::string_view password) override {
    KISEE_RETURN_IF_ERROR(Reachable());
    std::lock_guard lock(mutex_);
    if (username == "alice" && !password.empty() && password == password_) {
      return std::optional<User>(alice_);
    }
    return std::optional<User>();
  }
  Status RegisterUser(std::string_view, std::string_view, std::string_view, bool) override {
    KISEE_RETURN_IF_ERROR(Reachable());
    return Ok();
  }
  Result<std::optional<User>> GetUserByEmail(std::string_view email) override {
    KISEE_RETURN_IF_ERROR(Reachable());
    return email == alice_.email ? std::optional<User>(alice_) : std::nullopt;
  }
  Result<std::optional<User>> GetUserByUsername(std::string_view username) override {
    KISEE_RETURN_IF_ERROR(Reachable());
    return username == "alice" ? std::optional<User>(alice_) : std::nullopt;
  }
  Status SetPasswordForUser(const User&, std::string_view password) override {
    KISEE_RETURN_IF_ERROR(Reachable());
    std::lock_guard lock(mutex_);
    password_ = std::string(password);
    ++generation_;
    return Ok();
  }
  Status SendResetPasswordChallenge(const User&, std::string_view token) override {
    std::lock_guard lock(mutex_);
    tokens_.emplace_back(token);
    sent_.notify_all();
    return Ok();
  }
  bool IsConnectionAlive() override { return !down; }
  Result<std::string> ResetStamp(const User&) override {
    KISEE_RETURN_IF_ERROR(Reachable());
    std::lock_guard lock(mutex_);
    return std::to_string(generation_);
  }
  Result<std::string> NewResetStamp(const User&) override {
    KISEE_RETURN_IF_ERROR(Reachable());
    std::lock_guard lock(mutex_);
    return std::to_string(++generation_);
  }
  FailureStore& failure_store() override { return failures_; }
  bool can_register() const override { return !read_only; }
  bool can_change_passwords() const override { return !read_only; }

  // WaitForToken returns the first reset token sent, or "" after `timeout`.
  std::string WaitForToken(milliseconds timeout) {
    std::unique_lock lock(mutex_);
    sent_.wait_for(lock, timeout, [this] { return !tokens_.empty(); });
    return tokens_.empty() ? "" : tokens_.front();
  }

 private:
  Status Reachable() const {
    if (down) {
      return MakeError(ErrorCode::kUnavailable, "the store is down");
    }
    return Ok();
  }

  const User alice_{.user_id = "alice", .username = "alice", .email = "alice@example.com"};
  MemoryFailureStore failures_;
  std::mutex mutex_;
  std::condition_variable sent_;
  std::string password_ = "wonderland-42";
  std::uint64_t generation_ = 0;
  std::vector<std::string> tokens_;
};

Settings TestSettings() {
  auto key = crypto::PrivateKey::Generate(crypto::KeyType::kSecp256r1);
  auto pem = key->ToPem(crypto::PrivateKeyEncoding::kPkcs8);
  auto settings = ParseSettings(
      "[server]\nhostname='http://h'\n[identity_backend]\nclass='x'\n"
      "[passwords]\n[jwt]\niss='i'\nprivate_key='''\n" +
          std::string(pem->chars()) + "'''\n",
      "settings.toml");
  EXPECT_TRUE(settings.has_value());
  return *settings;
}

class ViewsTest : public testing::Test {
 protected:
  ViewsTest() { EXPECT_TRUE(AddRoutes(router_, app_)); }
  ~ViewsTest() override {
    pool_.Shutdown();
    retry_.Stop();
    background_.Shutdown();
  }

  net::Response Call(std::string method, std::string path, std::string body = "",
                     std::optional<std::string> authorization = std::nullopt) {
    net::Request request;
    request.method = std::move(method);
    request.path = std::move(path);
    request.target = request.path;
    request.body = std::move(body);
    request.remote_address = "192.0.2.1";
    if (authorization) {
      request.headers.Add("Authorization", *authorization);
    }
    auto answer = std::make_shared<std::promise<net::Response>>();
    auto future = answer->get_future();
    router_.Dispatch(request, net::MakeResponder(
                                  [answer](net::Response r) { answer->set_value(std::move(r)); }));
    EXPECT_EQ(future.wait_for(seconds(10)), std::future_status::ready);
    net::Response response = future.get();
    router_.Finish(request, response);
    return response;
  }

  net::Response Login(std::string_view password) {
    return Call("POST", "/jwt/",
                R"({"username": "alice", "password": ")" + std::string(password) + "\"}");
  }

  static std::string HealthStatus(const net::Response& r) {
    return nlohmann::json::parse(r.body)["status"].get<std::string>();
  }

  FakeClock clock_{TimePoint(seconds(1'700'000'000))};
  Settings settings_ = TestSettings();
  SwitchableBackend backend_{clock_};
  std::unique_ptr<TokenService> tokens_ = *CreateTokenService(settings_, clock_);
  LoginLimiter limiter_{settings_.limits, backend_.failure_store(), clock_};
  PasswordPolicy policy_{settings_.passwords};
  crypto::HashingPool pool_{1, 16};
  WorkerPool background_{1, 16};
  RetryGate retry_{milliseconds(20), milliseconds(40)};
  App app_{.settings = settings_,
           .backend = backend_,
           .tokens = *tokens_,
           .limiter = limiter_,
           .policy = policy_,
           .pool = pool_,
           .background = background_,
           .retry = retry_,
           .clock = clock_,
           .version = "test"};
  net::Router router_;
};

TEST_F(ViewsTest, AStoreThatGoesAwayAnswers503AndComesBackWithoutRestart) {
  EXPECT_EQ(Login("wonderland-42").status, 201);
  EXPECT_EQ(HealthStatus(Call("GET", "/health")), "green");

  backend_.down = true;
  for (const auto& response :
       {Login("wonderland-42"),
        Call("POST", "/users/", R"({"username": "bob", "password": "x", "email": "b@e.org"})"),
        Call("PATCH", "/users/alice/", R"([{"op": "replace", "path": "/password", "value": "y"}])",
             "Basic " + Base64Encode(AsBytes(std::string_view("alice:wonderland-42")),
                                     {.alphabet = Base64Alphabet::kStandard,
                                     .padding = Base64Padding::kRequired}))}) {
    EXPECT_EQ(response.status, 503);
    EXPECT_EQ(response.reason, "Service Unavailable");
    ASSERT_TRUE(response.headers.Get("Retry-After").has_value());
    EXPECT_GT(std::stoi(std::string(*response.headers.Get("Retry-After"))), 0);
  }
  // The health probe is cached for a moment: red once it is refreshed.
  clock_.Advance(seconds(3));
  net::Response health = Call("GET", "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(HealthStatus(health), "red");
  net::Response ready = Call("GET", "/health/ready");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.reason, "Service Unavailable");
  EXPECT_EQ(ready.headers.Get("Content-Type"), net::kProblemContentType)
      << "every 5xx is a problem";
  EXPECT_TRUE(ready.headers.Get("Retry-After").has_value());
  // Routes that need no store keep working.
  EXPECT_EQ(Call("GET", "/").status, 200);
  EXPECT_EQ(Call("GET", "/.well-known/jwks.json").status, 200);

  backend_.down = false;
  EXPECT_EQ(Login("wonderland-42").status, 201);
  clock_.Advance(seconds(3));
  EXPECT_EQ(HealthStatus(Call("GET", "/health")), "green");
  EXPECT_EQ(Call("GET", "/health/ready").status, 200);
}

TEST_F(ViewsTest, ARecoveryAcceptedWhileTheStoreIsDownIsSentWhenItReturns) {
  backend_.down = true;
  net::Response accepted =
      Call("POST", "/password_recoveries/", R"({"email": "alice@example.com"})");
  EXPECT_EQ(accepted.status, 201);
  EXPECT_EQ(accepted.body, "");
  EXPECT_EQ(backend_.WaitForToken(milliseconds(150)), "") << "nothing while the store is down";
  backend_.down = false;
  const std::string token = backend_.WaitForToken(seconds(5));
  ASSERT_FALSE(token.empty()) << "the job retried once the store was back";
  net::Response changed = Call(
      "PATCH", "/users/alice/",
      R"([{"op": "replace", "path": "/password", "value": "looking-glass-7"}])", "Bearer " + token);
  EXPECT_EQ(changed.status, 204);
  EXPECT_EQ(Login("looking-glass-7").status, 201);
}

TEST_F(ViewsTest, AReadOnlyStoreRefusesRegistrationAndPasswordChanges) {
  backend_.read_only = true;
  net::Response registered =
      Call("POST", "/users/", R"({"username": "bob", "password": "x", "email": "b@e.org"})");
  EXPECT_EQ(registered.status, 403);
  EXPECT_EQ(registered.reason, "Registration is not available.");
  net::Response patched = Call("PATCH", "/users/alice/", "[]", "Basic YWxpY2U6eA==");
  EXPECT_EQ(patched.status, 403);
  EXPECT_EQ(patched.reason, "Password changes are not available.");
  EXPECT_EQ(Call("POST", "/password_recoveries/", R"({"username": "alice"})").status, 201);
  EXPECT_EQ(backend_.WaitForToken(milliseconds(200)), "") << "no token for a read-only store";
}

}  // namespace
}  // namespace kisee::idp
