#include "kisee/net/server.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kisee/core/worker_pool.h"
#include "kisee/net/access_log.h"
#include "kisee/net/client.h"
#include "kisee/net/router.h"
#include "net/test_util.h"

namespace kisee::net {
namespace {

using namespace testing;
using namespace std::chrono_literals;

// Gate lets a test hold asynchronous handlers until it opens.
class Gate {
 public:
  void Open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

std::shared_ptr<Router> BasicRouter() {
  auto router = std::make_shared<Router>();
  EXPECT_TRUE(router->AddSync("GET", "/health", [](const Request&) {
    return Response::Json(200, R"({"status": "green"})");
  }));
  EXPECT_TRUE(router->AddSync("PATCH", "/users/{user_id}/", [](const Request& request) {
    if (request.body != "[]") return Response::Problem(400, "Invalid json patch.");
    Response response(204);
    response.headers.Add("X-User", std::string(request.Param("user_id")));
    return response;
  }));
  EXPECT_TRUE(router->AddSync("POST", "/echo", [](const Request& request) {
    Response response = Response::Text(201, request.body);
    response.headers.Add("X-Query", request.query);
    response.headers.Add("X-Path", request.path);
    response.headers.Add("X-Remote", request.remote_address);
    response.headers.Add("X-Has-Tls", request.tls ? "yes" : "no");
    return response;
  }));
  EXPECT_TRUE(router->AddSync("GET", "/bad-header", [](const Request&) {
    Response response = Response::Text(200, "x");
    response.reason = "Evil\r\nInjected: yes";
    response.headers.Add("X-Split", "a\r\nInjected2: yes");
    response.headers.Add("Content-Length", "999");
    return response;
  }));
  return router;
}

TEST(Server, RoutesOverTheWireWithProblemDocuments) {
  RunningServer running(BasicRouter());
  auto ok = Exchange(running.port(), SimpleRequest("GET", "/health?verbose=1"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->version, "HTTP/1.1");
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->reason, "OK");
  EXPECT_EQ(ok->body, R"({"status": "green"})");
  EXPECT_EQ(ok->headers.Get("Content-Type"), "application/json");
  EXPECT_TRUE(ok->headers.Contains("Date"));

  auto missing = Exchange(running.port(), SimpleRequest("GET", "/health/"));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->reason, "Not Found");
  EXPECT_EQ(missing->headers.Get("Content-Type"), "application/problem+json; charset=utf-8");
  EXPECT_NE(missing->body.find("\"_type\": \"error\""), std::string::npos);
  EXPECT_NE(missing->body.find("\"status\": 404"), std::string::npos);

  auto wrong_method = Exchange(running.port(), SimpleRequest("DELETE", "/health"));
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(wrong_method->reason, "Method Not Allowed");
  EXPECT_EQ(wrong_method->headers.Get("Allow"), "GET, HEAD");
}

TEST(Server, CustomReasonPhraseReachesTheClient) {
  RunningServer running(BasicRouter());
  auto answer = Exchange(running.port(), SimpleRequest("PATCH", "/users/alice/", "", "{}"));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 400);
  EXPECT_EQ(answer->reason, "Invalid json patch.");
  EXPECT_NE(answer->body.find("\"title\": \"Invalid json patch.\""), std::string::npos);

  auto no_content = Exchange(running.port(), SimpleRequest("PATCH", "/users/al%69ce/", "", "[]"));
  ASSERT_TRUE(no_content);
  EXPECT_EQ(no_content->status, 204);
  EXPECT_EQ(no_content->headers.Get("X-User"), "alice");
  EXPECT_FALSE(no_content->headers.Contains("Content-Length"));
  EXPECT_TRUE(no_content->body.empty());
}

TEST(Server, HeadersCannotSmuggleLinesAndFramingIsTheServers) {
  RunningServer running(BasicRouter());
  auto answer = Exchange(running.port(), SimpleRequest("GET", "/bad-header"));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->reason, "Evil  Injected: yes");
  EXPECT_FALSE(answer->headers.Contains("Injected"));
  EXPECT_FALSE(answer->headers.Contains("Injected2"));
  EXPECT_FALSE(answer->headers.Contains("X-Split"));
  EXPECT_EQ(answer->headers.Get("Content-Length"), "1");
  EXPECT_EQ(answer->body, "x");
}

TEST(Server, HeadKeepsContentLengthAndDropsTheBody) {
  RunningServer running(BasicRouter());
  RawConnection connection(running.port());
  ASSERT_TRUE(connection.Send(SimpleRequest("HEAD", "/health") + SimpleRequest("GET", "/health")));
  auto head = connection.ReadResponse(/*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->headers.Get("Content-Length"), "19");
  EXPECT_TRUE(head->body.empty());
  // The next response starts right after the head: no body bytes in between.
  auto get = connection.ReadResponse();
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, R"({"status": "green"})");
}

TEST(Server, RequestFieldsReachTheHandler) {
  RunningServer running(BasicRouter());
  auto answer =
      Exchange(running.port(), SimpleRequest("POST", "/echo?token=secret&x=1", "", "hello"));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 201);
  EXPECT_EQ(answer->body, "hello");
  EXPECT_EQ(answer->headers.Get("X-Query"), "token=secret&x=1");
  EXPECT_EQ(answer->headers.Get("X-Path"), "/echo");
  EXPECT_EQ(answer->headers.Get("X-Remote"), "127.0.0.1");
  EXPECT_EQ(answer->headers.Get("X-Has-Tls"), "no");

  // Chunked request bodies are reassembled.
  auto chunked = Exchange(running.port(),
                          "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->body, "abcde");
}

TEST(Server, KeepAliveServesManyRequestsOnOneConnection) {
  RunningServer running(BasicRouter());
  RawConnection connection(running.port());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(connection.Send(SimpleRequest("GET", "/health")));
    auto answer = connection.ReadResponse();
    ASSERT_TRUE(answer) << i;
    EXPECT_EQ(answer->status, 200);
    EXPECT_FALSE(answer->headers.Contains("Connection"));
  }
  ASSERT_TRUE(connection.Send(SimpleRequest("GET", "/health", "Connection: close\r\n")));
  auto last = connection.ReadResponse();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->headers.Get("Connection"), "close");
  EXPECT_TRUE(connection.WaitClosed());
}

TEST(Server, Http10ClosesUnlessKeepAliveIsAsked) {
  RunningServer running(BasicRouter());
  RawConnection keep(running.port());
  ASSERT_TRUE(keep.Send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto first = keep.ReadResponse();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->headers.Get("Connection"), "keep-alive");
  ASSERT_TRUE(keep.Send("GET /health HTTP/1.0\r\n\r\n"));
  auto second = keep.ReadResponse();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->headers.Get("Connection"), "close");
  EXPECT_TRUE(keep.WaitClosed());
}

// An asynchronous router: /slow/{n} answers from a worker pool after the
// gate opens (or after n ms), /fast at once.
struct AsyncFixture {
  AsyncFixture() : pool(2, 64), router(std::make_shared<Router>()) {
    EXPECT_TRUE(router->Add("GET", "/slow/{ms}", [this](const Request& request, Responder respond) {
      int ms = std::stoi(std::string(request.Param("ms")));
      bool queued = pool.TrySubmit([respond, ms, &request] {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        // The request stays valid until the responder is called.
        Response response = Response::Text(200, "slow " + std::string(request.Param("ms")));
        response.headers.Add(
            "X-Thread", std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id())));
        respond(std::move(response));
      });
      if (!queued) respond(Response::Problem(503));
    }));
    EXPECT_TRUE(router->Add("GET", "/gated", [this](const Request&, Responder respond) {
      std::lock_guard lock(threads_mutex);
      threads.emplace_back([this, respond] {
        gate.Wait();
        respond(Response::Text(200, "gated"));
      });
      ++gated_started;
    }));
    EXPECT_TRUE(router->AddSync("GET", "/fast",
                                [](const Request&) { return Response::Text(200, "fast"); }));
  }
  ~AsyncFixture() { Release(); }
  // Release opens the gate and waits for the gated handlers' threads.
  void Release() {
    gate.Open();
    std::lock_guard lock(threads_mutex);
    for (auto& thread : threads) {
      if (thread.joinable()) thread.join();
    }
  }
  WorkerPool pool;
  Gate gate;
  std::atomic<int> gated_started{0};
  std::mutex threads_mutex;
  std::vector<std::thread> threads;
  std::shared_ptr<Router> router;
};

TEST(Server, AsynchronousHandlersAnswerFromAnotherThread) {
  AsyncFixture fixture;
  RunningServer running(fixture.router);
  auto answer = Exchange(running.port(), SimpleRequest("GET", "/slow/20"));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->body, "slow 20");
  EXPECT_NE(answer->headers.Get("X-Thread"),
            std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id())));

  // Many concurrent connections, each waiting on the pool.
  std::vector<std::future<std::optional<RawResponse>>> futures;
  for (int i = 0; i < 16; ++i) {
    futures.push_back(std::async(std::launch::async, [&running] {
      return Exchange(running.port(), SimpleRequest("GET", "/slow/5"));
    }));
  }
  for (auto& future : futures) {
    auto result = future.get();
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 200);
  }
  fixture.pool.Shutdown();
}

TEST(Server, PipelinedRequestsAreAnsweredInOrder) {
  AsyncFixture fixture;
  RunningServer running(fixture.router);
  RawConnection connection(running.port());
  // The first answer comes last from the pool; the order on the wire must
  // still follow the requests.
  ASSERT_TRUE(connection.Send(SimpleRequest("GET", "/slow/300") + SimpleRequest("GET", "/fast") +
                              SimpleRequest("GET", "/slow/1") + SimpleRequest("GET", "/fast")));
  std::vector<std::string> bodies;
  for (int i = 0; i < 4; ++i) {
    auto answer = connection.ReadResponse();
    ASSERT_TRUE(answer) << i;
    bodies.push_back(answer->body);
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"slow 300", "fast", "slow 1", "fast"}));
  fixture.pool.Shutdown();
}

TEST(Server, PipeliningIsBoundedAndStillCorrect) {
  AsyncFixture fixture;
  ServerOptions options = TestOptions();
  options.max_pipelined = 2;
  RunningServer running(fixture.router, options);
  RawConnection connection(running.port());
  std::string burst;
  for (int i = 0; i < 25; ++i) burst += SimpleRequest("GET", i % 2 ? "/fast" : "/slow/1");
  ASSERT_TRUE(connection.Send(burst));
  for (int i = 0; i < 25; ++i) {
    auto answer = connection.ReadResponse();
    ASSERT_TRUE(answer) << i;
    EXPECT_EQ(answer->body, i % 2 ? "fast" : "slow 1");
  }
  // A client that half-closes after pipelining still gets every answer.
  RawConnection half(running.port());
  ASSERT_TRUE(half.Send(SimpleRequest("GET", "/fast") + SimpleRequest("GET", "/slow/50")));
  half.ShutdownWrite();
  ASSERT_TRUE(half.ReadResponse());
  auto last = half.ReadResponse();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->body, "slow 50");
  EXPECT_TRUE(half.WaitClosed());
  fixture.pool.Shutdown();
}

TEST(Server, DroppedResponderAndThrowingHandlerGive500) {
  auto router = std::make_shared<Router>();
  ASSERT_TRUE(router->Add("GET", "/drop", [](const Request&, Responder) {}));
  ASSERT_TRUE(router->Add("GET", "/drop-later", [](const Request&, Responder respond) {
    std::thread([respond] { std::this_thread::sleep_for(10ms); }).detach();
  }));
  ASSERT_TRUE(router->AddSync(
      "GET", "/throw", [](const Request&) -> Response { throw std::runtime_error("boom"); }));
  ASSERT_TRUE(router->AddSync("GET", "/weird-status", [](const Request&) { return Response(99); }));
  RunningServer running(router);
  for (const char* path : {"/drop", "/drop-later", "/throw", "/weird-status"}) {
    auto answer = Exchange(running.port(), SimpleRequest("GET", path));
    ASSERT_TRUE(answer) << path;
    EXPECT_EQ(answer->status, 500) << path;
    EXPECT_EQ(answer->headers.Get("Content-Type"), kProblemContentType);
  }
}

TEST(Server, OversizedBodiesAndHeadersAreRefused) {
  ServerOptions options = TestOptions();
  options.max_body_bytes = 1000;
  options.max_header_bytes = 2000;
  RunningServer running(BasicRouter(), options);

  auto declared =
      Exchange(running.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n");
  ASSERT_TRUE(declared);
  EXPECT_EQ(declared->status, 413);
  EXPECT_EQ(declared->headers.Get("Connection"), "close");

  std::string chunks = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) chunks += "1f4\r\n" + std::string(500, 'a') + "\r\n";
  chunks += "0\r\n\r\n";
  auto chunked = Exchange(running.port(), chunks);
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->status, 413);

  auto at_limit =
      Exchange(running.port(), SimpleRequest("POST", "/echo", "", std::string(1000, 'b')));
  ASSERT_TRUE(at_limit);
  EXPECT_EQ(at_limit->status, 201);
  EXPECT_EQ(at_limit->body.size(), 1000u);

  auto big_header = Exchange(
      running.port(), SimpleRequest("GET", "/health", "X-Big: " + std::string(3000, 'h') + "\r\n"));
  ASSERT_TRUE(big_header);
  EXPECT_EQ(big_header->status, 431);
  EXPECT_EQ(big_header->headers.Get("Content-Type"), kProblemContentType);

  // Refusals are errors like the others: CORS headers included.
  auto cors_router = BasicRouter();
  cors_router->SetCors(CorsPolicy());
  RunningServer cors(cors_router, options);
  auto refused = Exchange(cors.port(),
                          "POST /echo HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n"
                          "Content-Length: 1001\r\n\r\n");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 413);
  EXPECT_EQ(refused->headers.Get("Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(refused->headers.Get("Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(refused->headers.Get("Vary"), "Origin");
}

TEST(Server, MalformedRequestsGet400AndNeverCrashTheServer) {
  RunningServer running(BasicRouter());
  const std::vector<std::string> garbage = {
      "GARBAGE\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "GET /health HTTP/1.1\r\nBad Header\r\n\r\n",
      "POST /echo HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
      "POST /echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      std::string("GET /\0 HTTP/1.1\r\n\r\n", 20),
  };
  for (const auto& text : garbage) {
    auto answer = Exchange(running.port(), text);
    ASSERT_TRUE(answer) << text;
    EXPECT_EQ(answer->status, 400) << text;
  }
  auto still_fine = Exchange(running.port(), SimpleRequest("GET", "/health"));
  ASSERT_TRUE(still_fine);
  EXPECT_EQ(still_fine->status, 200);
}

TEST(Server, SlowClientsTimeOut) {
  ServerOptions options = TestOptions();
  options.header_timeout = 300ms;
  options.keep_alive_timeout = 300ms;
  options.body_timeout = 300ms;
  RunningServer running(BasicRouter(), options);

  // Slowloris: a header that never ends.
  RawConnection slow(running.port());
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(slow.Send("GET /health HTTP/1.1\r\nHost: x\r\n"));
  std::this_thread::sleep_for(100ms);
  slow.Send("X-A: 1\r\n");
  EXPECT_TRUE(slow.WaitClosed());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);

  // A body that never comes.
  RawConnection no_body(running.port());
  ASSERT_TRUE(no_body.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"));
  EXPECT_TRUE(no_body.WaitClosed());

  // An idle keep-alive connection.
  RawConnection idle(running.port());
  ASSERT_TRUE(idle.Send(SimpleRequest("GET", "/health")));
  ASSERT_TRUE(idle.ReadResponse());
  EXPECT_TRUE(idle.WaitClosed());

  // A connection that never sends anything.
  RawConnection silent(running.port());
  EXPECT_TRUE(silent.WaitClosed());
}

TEST(Server, ClientsThatDoNotReadTimeOut) {
  auto router = std::make_shared<Router>();
  ASSERT_TRUE(router->AddSync("GET", "/huge", [](const Request&) {
    return Response::Text(200, std::string(64 << 20, 'x'));
  }));
  ServerOptions options = TestOptions();
  options.write_timeout = 300ms;
  RunningServer running(router, options);
  RawConnection reluctant(running.port());
  ASSERT_TRUE(reluctant.Send(SimpleRequest("GET", "/huge")));
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (running.server().connection_count() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  // The response cannot fit in the socket buffers: the write stalls until
  // the timeout closes the connection.
  while (running.server().connection_count() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(running.server().connection_count(), 0u);
  EXPECT_TRUE(reluctant.WaitClosed());
}

TEST(Server, ConnectionsBeyondTheLimitAreRefusedCleanly) {
  ServerOptions options = TestOptions();
  options.max_connections = 2;
  RunningServer running(BasicRouter(), options);
  RawConnection first(running.port());
  RawConnection second(running.port());
  for (RawConnection* connection : {&first, &second}) {
    ASSERT_TRUE(connection->Send(SimpleRequest("GET", "/health")));
    auto answer = connection->ReadResponse();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 200);
  }
  EXPECT_EQ(running.server().connection_count(), 2u);
  {
    RawConnection third(running.port());
    ASSERT_TRUE(third.connected());
    third.Send(SimpleRequest("GET", "/health"));
    auto refused = third.ReadResponse();
    // A 503 when it arrives before the close; never a 200.
    if (refused) {
      EXPECT_EQ(refused->status, 503);
      EXPECT_EQ(refused->headers.Get("Connection"), "close");
    }
    EXPECT_TRUE(third.WaitClosed());
  }
  // The admitted connections keep working.
  ASSERT_TRUE(first.Send(SimpleRequest("GET", "/health")));
  auto again = first.ReadResponse();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  // Once one leaves, a newcomer is served.
  ASSERT_TRUE(second.Send(SimpleRequest("GET", "/health", "Connection: close\r\n")));
  ASSERT_TRUE(second.ReadResponse());
  ASSERT_TRUE(second.WaitClosed());
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (running.server().connection_count() > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  auto newcomer = Exchange(running.port(), SimpleRequest("GET", "/health"));
  ASSERT_TRUE(newcomer);
  EXPECT_EQ(newcomer->status, 200);
}

TEST(Server, ExpectContinueGetsAnInterimResponse) {
  RunningServer running(BasicRouter());
  RawConnection connection(running.port());
  ASSERT_TRUE(connection.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  auto interim = connection.ReadResponse();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(connection.Send("data"));
  auto final_answer = connection.ReadResponse();
  ASSERT_TRUE(final_answer);
  EXPECT_EQ(final_answer->status, 201);
  EXPECT_EQ(final_answer->body, "data");
}

TEST(Server, CorsPreflightAndActualRequestHeaders) {
  auto router = BasicRouter();
  router->SetCors(CorsPolicy());
  RunningServer running(router);
  auto preflight =
      Exchange(running.port(), SimpleRequest("OPTIONS", "/users/bob/",
                                             "Origin: https://app.example\r\n"
                                             "Access-Control-Request-Method: PATCH\r\n"
                                             "Access-Control-Request-Headers: authorization\r\n"));
  ASSERT_TRUE(preflight);
  EXPECT_EQ(preflight->status, 200);
  EXPECT_EQ(preflight->headers.Get("Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(preflight->headers.Get("Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(preflight->headers.Get("Access-Control-Allow-Methods"), "PATCH");
  EXPECT_EQ(preflight->headers.Get("Access-Control-Allow-Headers"), "authorization");
  EXPECT_EQ(preflight->headers.Get("Vary"), "Origin");
  EXPECT_EQ(preflight->headers.Get("Content-Length"), "0");

  auto forbidden = Exchange(running.port(), SimpleRequest("OPTIONS", "/health"));
  ASSERT_TRUE(forbidden);
  EXPECT_EQ(forbidden->status, 403);
  EXPECT_EQ(forbidden->reason, "Forbidden");

  auto actual = Exchange(running.port(), SimpleRequest("PATCH", "/users/bob/",
                                                       "Origin: https://app.example\r\n", "[]"));
  ASSERT_TRUE(actual);
  EXPECT_EQ(actual->status, 204);
  EXPECT_EQ(actual->headers.Get("Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(actual->headers.Get("Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(actual->headers.Get("Access-Control-Expose-Headers"), "X-User,Vary,Date");
  EXPECT_TRUE(actual->headers.Contains("Date"));
  EXPECT_EQ(actual->headers.Get("Vary"), "Origin");

  auto error =
      Exchange(running.port(), SimpleRequest("GET", "/nope", "Origin: https://app.example\r\n"));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->status, 404);
  EXPECT_EQ(error->headers.Get("Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(error->headers.Get("Access-Control-Expose-Headers"), "Vary,Date");
}

TEST(Server, AccessLogHasOneLinePerRequestWithoutSecrets) {
  std::mutex mutex;
  std::vector<std::string> lines;
  auto router = BasicRouter();
  ASSERT_TRUE(router->AddSync("GET", "/fields", [](const Request&) {
    Response response = Response::Text(200, "abc");
    response.AddLogField("client", "cn:alice");
    return response;
  }));
  ServerOptions options = TestOptions();
  options.access_log = LineAccessLog([&](std::string_view line) {
    std::lock_guard lock(mutex);
    lines.emplace_back(line);
  });
  {
    RunningServer running(router, options);
    ASSERT_TRUE(Exchange(running.port(),
                         SimpleRequest("POST", "/echo?token=reset-secret",
                                       "Authorization: Basic c2VjcmV0\r\n", "password=hunter2")));
    ASSERT_TRUE(Exchange(running.port(), SimpleRequest("GET", "/fields")));
    ASSERT_TRUE(Exchange(running.port(), SimpleRequest("HEAD", "/fields"), true));
  }
  std::lock_guard lock(mutex);
  ASSERT_EQ(lines.size(), 3u);
  // A line is written once the response is sent, so a later request on
  // another event loop may log first: order the lines by method.
  auto rank = [](const std::string& line) {
    if (line.find("\"method\":\"POST\"") != std::string::npos) return 0;
    return line.find("\"method\":\"GET\"") != std::string::npos ? 1 : 2;
  };
  std::sort(lines.begin(), lines.end(),
            [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
  EXPECT_NE(lines[0].find("\"method\":\"POST\",\"path\":\"/echo\",\"status\":201,\"bytes\":16"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find("\"remote\":\"127.0.0.1\""), std::string::npos);
  for (const char* secret : {"reset-secret", "hunter2", "c2VjcmV0", "token"}) {
    EXPECT_EQ(lines[0].find(secret), std::string::npos) << secret;
  }
  EXPECT_NE(lines[1].find("\"bytes\":3,"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("\"client\":\"cn:alice\"}"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("\"method\":\"HEAD\""), std::string::npos);
  EXPECT_NE(lines[2].find("\"bytes\":0,"), std::string::npos) << lines[2];
}

TEST(Server, GracefulShutdownFinishesInFlightRequests) {
  AsyncFixture fixture;
  ServerOptions options = TestOptions();
  auto server = std::make_unique<Server>(options, fixture.router);
  auto port = server->Listen();
  ASSERT_TRUE(port);
  ASSERT_TRUE(server->Start());

  RawConnection idle(*port);
  ASSERT_TRUE(idle.Send(SimpleRequest("GET", "/fast")));
  ASSERT_TRUE(idle.ReadResponse());

  RawConnection busy(*port);
  ASSERT_TRUE(busy.Send(SimpleRequest("GET", "/gated")));
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (fixture.gated_started == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(fixture.gated_started, 1);

  server->Shutdown();
  // The idle keep-alive connection is closed; the busy one is not.
  EXPECT_TRUE(idle.WaitClosed());
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    server->Wait();
    returned = true;
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(returned);
  // New connections are no longer accepted.
  RawConnection late(*port);
  EXPECT_TRUE(!late.connected() || late.WaitClosed());

  fixture.gate.Open();
  auto answer = busy.ReadResponse();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->body, "gated");
  EXPECT_EQ(answer->headers.Get("Connection"), "close");
  EXPECT_TRUE(busy.WaitClosed());
  waiter.join();
  EXPECT_TRUE(returned);
  EXPECT_EQ(server->connection_count(), 0u);
}

TEST(Server, DrainTimeoutBoundsTheShutdown) {
  AsyncFixture fixture;
  ServerOptions options = TestOptions();
  options.drain_timeout = 200ms;
  auto server = std::make_unique<Server>(options, fixture.router);
  auto port = server->Listen();
  ASSERT_TRUE(port);
  ASSERT_TRUE(server->Start());
  RawConnection stuck(*port);
  ASSERT_TRUE(stuck.Send(SimpleRequest("GET", "/gated")));
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (fixture.gated_started == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  auto start = std::chrono::steady_clock::now();
  server->Shutdown();
  server->Wait();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
  // The handler answers after the server stopped; the server still exists,
  // so its response is dropped quietly.
  fixture.Release();
  server.reset();
}

TEST(Server, SignalsStartTheGracefulShutdownAndHangupReloads) {
  auto router = BasicRouter();
  auto server = std::make_unique<Server>(TestOptions(), router);
  auto port = server->Listen();
  ASSERT_TRUE(port);
  std::atomic<int> hangups{0};
  ASSERT_TRUE(server->HandleSignals([&] { ++hangups; }));
  ASSERT_TRUE(server->Start());
  ASSERT_EQ(::raise(SIGHUP), 0);
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (hangups == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(hangups, 1);
  auto answer = Exchange(*port, SimpleRequest("GET", "/health"));
  ASSERT_TRUE(answer);
  ASSERT_EQ(::raise(SIGTERM), 0);
  server->Wait();  // returns: the signal shut it down
  EXPECT_EQ(server->connection_count(), 0u);
}

TEST(Server, ReportsEventLoopsItCannotCreate) {
  auto router = BasicRouter();
  rlimit original{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &original), 0);
  // With descriptors 0-2 taken, an epoll instance cannot be opened.
  rlimit tight = original;
  tight.rlim_cur = 3;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  auto server = std::make_unique<Server>(TestOptions(), router);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &original), 0);

  auto port = server->Listen();
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error().code(), ErrorCode::kIo);
  EXPECT_NE(port.error().message().find("event loops"), std::string::npos)
      << port.error().message();
  EXPECT_FALSE(server->Start());
  EXPECT_FALSE(server->HandleSignals());
  server->Shutdown();
  server->Wait();
  auto client = HttpClient::Create(*server, ClientOptions{});
  std::optional<Result<ClientResponse>> outcome;
  client->Send(*ParseUrl("http://127.0.0.1:1/"), ClientRequest{},
               [&](Result<ClientResponse> result) { outcome = std::move(result); });
  ASSERT_TRUE(outcome);
  ASSERT_FALSE(*outcome);
  EXPECT_EQ(outcome->error().code(), ErrorCode::kUnavailable);
}

TEST(Server, ListenErrors) {
  auto router = BasicRouter();
  ServerOptions bad_host = TestOptions();
  bad_host.host = "not an address";
  Server invalid(bad_host, router);
  auto refused = invalid.Listen();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);

  RunningServer running(router);
  ServerOptions taken = TestOptions();
  taken.port = running.port();
  Server second(taken, router);
  auto busy = second.Listen();
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code(), ErrorCode::kIo);
  EXPECT_NE(busy.error().message().find("in use"), std::string::npos) << busy.error().message();

  Server not_listening(TestOptions(), router);
  EXPECT_FALSE(not_listening.Start());
}

}  // namespace
}  // namespace kisee::net
