#include "kisee/net/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kisee/net/router.h"
#include "kisee/net/server.h"
#include "net/test_util.h"

namespace kisee::net {
namespace {

using namespace testing;
using namespace std::chrono_literals;

// Upstream is an application server that remembers which connections
// (client ports) its requests came on.
struct Upstream {
  explicit Upstream(ServerOptions options = TestOptions()) : router(std::make_shared<Router>()) {
    EXPECT_TRUE(router->AddSync("GET", "/hello/{name}", [this](const Request& request) {
      Remember(request);
      Response response =
          Response::Json(200, "{\"hello\": \"" + std::string(request.Param("name")) + "\"}");
      response.headers.Add("X-Upstream", "yes");
      response.headers.Add("X-Seen-Host", std::string(request.Header("Host").value_or("")));
      return response;
    }));
    EXPECT_TRUE(router->AddSync("POST", "/echo", [this](const Request& request) {
      Remember(request);
      Response response = Response::Text(201, request.body);
      response.reason = "Made It";
      response.headers.Add("X-Method", request.method);
      response.headers.Add("X-Custom", std::string(request.Header("X-Custom").value_or("")));
      return response;
    }));
    EXPECT_TRUE(router->AddSync("GET", "/big", [](const Request&) {
      return Response::Text(200, std::string(100000, 'b'));
    }));
    EXPECT_TRUE(router->Add("GET", "/never", [this](const Request&, Responder respond) {
      std::lock_guard lock(mutex);
      held.push_back(respond);  // answered when the test ends
    }));
    running = std::make_unique<RunningServer>(router, options);
  }
  ~Upstream() {
    {
      std::lock_guard lock(mutex);
      for (auto& respond : held) respond(Response(200));
      held.clear();
    }
    running.reset();
  }
  void Remember(const Request& request) {
    std::lock_guard lock(mutex);
    ports.insert(request.remote_port);
  }
  std::size_t connections_seen() {
    std::lock_guard lock(mutex);
    return ports.size();
  }
  Url UrlFor(const std::string& path) const {
    return *ParseUrl("http://127.0.0.1:" + std::to_string(running->port()) + path);
  }

  std::shared_ptr<Router> router;
  std::mutex mutex;
  std::set<std::uint16_t> ports;
  std::vector<Responder> held;
  std::unique_ptr<RunningServer> running;
};

ClientOptions Patient() {
  ClientOptions options;
  options.connect_timeout = kWait;
  options.response_timeout = kWait;
  return options;
}

TEST(Client, FetchReturnsStatusReasonHeadersAndBody) {
  Upstream upstream;
  ClientRequest request;
  request.method = "POST";
  request.body = "payload";
  request.headers.Add("X-Custom", "value");
  auto response = Fetch(upstream.UrlFor("/echo"), request, Patient());
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->reason, "Made It");
  EXPECT_EQ(response->body, "payload");
  EXPECT_EQ(response->headers.Get("x-method"), "POST");
  EXPECT_EQ(response->headers.Get("X-Custom"), "value");

  auto hello = Fetch(upstream.UrlFor("/hello/bob?x=1"), ClientRequest{}, Patient());
  ASSERT_TRUE(hello) << hello.error().message();
  EXPECT_EQ(hello->body, "{\"hello\": \"bob\"}");
  EXPECT_EQ(hello->headers.Get("X-Seen-Host"),
            "127.0.0.1:" + std::to_string(upstream.running->port()));

  ClientRequest head;
  head.method = "HEAD";
  auto head_response = Fetch(upstream.UrlFor("/hello/bob"), head, Patient());
  ASSERT_TRUE(head_response) << head_response.error().message();
  EXPECT_EQ(head_response->status, 200);
  EXPECT_TRUE(head_response->body.empty());
  EXPECT_EQ(head_response->headers.Get("Content-Length"), "16");
}

std::uint16_t UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

TEST(Client, ErrorsAreClearAndClassified) {
  auto dead = ParseUrl("http://127.0.0.1:" + std::to_string(UnusedPort()) + "/");
  auto refused = Fetch(*dead, ClientRequest{}, Patient());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(refused.error().message().find("cannot connect to 127.0.0.1:"), std::string::npos)
      << refused.error().message();

  Upstream upstream;
  ClientOptions impatient = Patient();
  impatient.response_timeout = 300ms;
  auto slow = Fetch(upstream.UrlFor("/never"), ClientRequest{}, impatient);
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().code(), ErrorCode::kDeadlineExceeded) << slow.error().message();

  ClientOptions small = Patient();
  small.max_response_body_bytes = 1000;
  auto big = Fetch(upstream.UrlFor("/big"), ClientRequest{}, small);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code(), ErrorCode::kResourceExhausted);

  ClientRequest injected;
  injected.headers.Add("X-Evil", "a\r\nInjected: 1");
  auto bad = Fetch(upstream.UrlFor("/hello/x"), injected, Patient());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);

  auto https_without_tls = Fetch(*ParseUrl("https://127.0.0.1:1/"), ClientRequest{}, Patient());
  ASSERT_FALSE(https_without_tls);
  EXPECT_EQ(https_without_tls.error().code(), ErrorCode::kInvalidArgument);
}

// ProxyFront is a server whose every request is forwarded to an upstream
// with an HttpClient running on the front server's own threads, the way
// `certified serve --upstream` works.
struct ProxyFront {
  ProxyFront(Url upstream_url, ClientOptions client_options)
      : upstream(std::move(upstream_url)), router(std::make_shared<Router>()) {
    router->SetFallback([this](const Request& request, Responder respond) {
      ClientRequest forward;
      forward.method = request.method;
      forward.target = request.target;
      forward.body = request.body;
      for (const auto& field : request.headers) {
        if (!EqualsIgnoreCase(field.name, "Host")) forward.headers.Add(field.name, field.value);
      }
      client->Send(upstream, std::move(forward), [respond](Result<ClientResponse> result) {
        if (!result) {
          bool timeout = result.error().code() == ErrorCode::kDeadlineExceeded;
          respond(Response::Problem(timeout ? 504 : 502));
          return;
        }
        Response response(result->status);
        response.reason = result->reason;
        response.headers = std::move(result->headers);
        response.body = std::move(result->body);
        respond(std::move(response));
      });
    });
    server = std::make_unique<Server>(TestOptions(), router);
    client = HttpClient::Create(*server, std::move(client_options));
    auto bound = server->Listen();
    EXPECT_TRUE(bound);
    port = bound ? *bound : 0;
    EXPECT_TRUE(server->Start());
  }
  ~ProxyFront() {
    server->Shutdown();
    server->Wait();
    client.reset();  // before the server it runs on
    server.reset();
  }

  Url upstream;
  std::shared_ptr<Router> router;
  std::unique_ptr<Server> server;
  std::shared_ptr<HttpClient> client;
  std::uint16_t port = 0;
};

TEST(Client, ProxyReusesKeepAliveConnectionsToTheUpstream) {
  Upstream upstream;
  ProxyFront front(upstream.UrlFor("/"), Patient());
  RawConnection connection(front.port);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(connection.Send(SimpleRequest("GET", "/hello/n" + std::to_string(i))));
    auto answer = connection.ReadResponse();
    ASSERT_TRUE(answer) << i;
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(answer->body, "{\"hello\": \"n" + std::to_string(i) + "\"}");
    EXPECT_EQ(answer->headers.Get("X-Upstream"), "yes");
  }
  // Sequential requests travel on one upstream connection.
  EXPECT_EQ(upstream.connections_seen(), 1u);
  EXPECT_EQ(front.client->idle_connections(), 1u);

  // Concurrent clients: the pool grows to the concurrency, not the request count.
  std::vector<std::future<int>> futures;
  for (int c = 0; c < 8; ++c) {
    futures.push_back(std::async(std::launch::async, [&front, c] {
      RawConnection client(front.port);
      int ok = 0;
      for (int i = 0; i < 25; ++i) {
        std::string body = std::to_string(c);
        body += '-';
        body += std::to_string(i);
        if (!client.Send(SimpleRequest("POST", "/echo", "", body))) break;
        auto answer = client.ReadResponse();
        if (answer && answer->status == 201 && answer->body == body && answer->reason == "Made It")
          ++ok;
      }
      return ok;
    }));
  }
  for (auto& future : futures) EXPECT_EQ(future.get(), 25);
  EXPECT_LE(upstream.connections_seen(), 1u + 8u);
}

TEST(Client, StaleKeepAliveConnectionsAreReplaced) {
  ServerOptions quick = TestOptions();
  quick.keep_alive_timeout = 200ms;
  Upstream upstream(quick);
  ProxyFront front(upstream.UrlFor("/"), Patient());
  for (int i = 0; i < 3; ++i) {
    auto answer = Exchange(front.port, SimpleRequest("GET", "/hello/again"));
    ASSERT_TRUE(answer) << i;
    EXPECT_EQ(answer->status, 200) << i;
    // Wait for the upstream's keep-alive timeout to close the pooled
    // connection: the next request finds it dead and opens another.
    auto deadline = std::chrono::steady_clock::now() + kWait;
    while (upstream.running->server().connection_count() > 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(upstream.running->server().connection_count(), 0u);
  }
  EXPECT_EQ(upstream.connections_seen(), 3u);
}

TEST(Client, DeadOrSlowUpstreamBecomes502Or504) {
  auto dead = ParseUrl("http://127.0.0.1:" + std::to_string(UnusedPort()) + "/");
  {
    ProxyFront front(*dead, Patient());
    auto answer = Exchange(front.port, SimpleRequest("GET", "/anything"));
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 502);
    EXPECT_EQ(answer->reason, "Bad Gateway");
  }
  Upstream upstream;
  ClientOptions impatient = Patient();
  impatient.response_timeout = 300ms;
  ProxyFront front(upstream.UrlFor("/"), impatient);
  auto answer = Exchange(front.port, SimpleRequest("GET", "/never"));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 504);
  // The front keeps serving.
  auto fine = Exchange(front.port, SimpleRequest("GET", "/hello/x"));
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->status, 200);
}

}  // namespace
}  // namespace kisee::net
