#include "kisee/net/router.h"

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace kisee::net {
namespace {

// Named returns a handler answering 200 with `name` as body, and the path
// parameters as "name=value;" in the X-Params header.
SyncHandler Named(std::string name) {
  return [name](const Request& request) {
    Response response = Response::Text(200, name);
    std::string params;
    for (const auto& param : request.path_params) params += param.name + "=" + param.value + ";";
    response.headers.Add("X-Params", params);
    return response;
  };
}

Response Route(const Router& router, std::string method, std::string path) {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.target = request.path;
  std::optional<Response> answer;
  router.Dispatch(request, MakeResponder([&](Response r) { answer = std::move(r); }));
  EXPECT_TRUE(answer.has_value());
  Response response = answer ? std::move(*answer) : Response(0);
  router.Finish(request, response);
  return response;
}

Router KiseeLikeRouter() {
  Router router;
  EXPECT_TRUE(router.AddSync("GET", "/", Named("home")));
  EXPECT_TRUE(router.AddSync("GET", "/jwt/", Named("jwt-doc")));
  EXPECT_TRUE(router.AddSync("POST", "/jwt/", Named("login")));
  EXPECT_TRUE(router.AddSync("GET", "/jwt/{jti}", Named("jwt-get")));
  EXPECT_TRUE(router.AddSync("GET", "/users/", Named("users-doc")));
  EXPECT_TRUE(router.AddSync("PATCH", "/users/{user_id}/", Named("patch-user")));
  EXPECT_TRUE(router.AddSync("GET", "/health", Named("health")));
  EXPECT_TRUE(router.AddSync("GET", "/a/{x}/b/{y}", Named("two")));
  return router;
}

struct RouteCase {
  std::string method;
  std::string path;
  int status;
  std::string body;    // for 200: the handler's name
  std::string params;  // X-Params
};

TEST(Router, RoutingTable) {
  Router router = KiseeLikeRouter();
  const std::vector<RouteCase> cases = {
      {"GET", "/", 200, "home", ""},
      {"GET", "/jwt/", 200, "jwt-doc", ""},
      {"POST", "/jwt/", 200, "login", ""},
      {"GET", "/jwt", 404, "", ""},
      {"GET", "/jwt//", 404, "", ""},
      {"GET", "/jwt/abc", 200, "jwt-get", "jti=abc;"},
      {"GET", "/jwt/abc/", 404, "", ""},
      {"GET", "/jwt/a%20b", 200, "jwt-get", "jti=a b;"},
      {"PATCH", "/users/alice/", 200, "patch-user", "user_id=alice;"},
      {"PATCH", "/users/alice%40x.org/", 200, "patch-user", "user_id=alice@x.org;"},
      {"PATCH", "/users/alice", 404, "", ""},
      {"PATCH", "/users//", 404, "", ""},
      {"GET", "/users/alice", 404, "", ""},
      {"GET", "/health", 200, "health", ""},
      {"GET", "/health/", 404, "", ""},
      {"GET", "/HEALTH", 404, "", ""},
      {"GET", "/a/1/b/2", 200, "two", "x=1;y=2;"},
      {"GET", "/a/1/c/2", 404, "", ""},
      {"GET", "", 404, "", ""},
      {"GET", "*", 404, "", ""},
      {"DELETE", "/jwt/", 405, "", ""},
      {"POST", "/health", 405, "", ""},
      {"get", "/health", 405, "", ""},
      {"HEAD", "/health", 200, "health", ""},
      {"HEAD", "/jwt/x", 200, "jwt-get", "jti=x;"},
      {"OPTIONS", "/health", 405, "", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method + " " + c.path);
    Response response = Route(router, c.method, c.path);
    EXPECT_EQ(response.status, c.status);
    if (c.status == 200) {
      EXPECT_EQ(response.body, c.body);
      EXPECT_EQ(response.headers.Get("X-Params"), c.params);
    } else {
      EXPECT_EQ(response.headers.Get("Content-Type"), kProblemContentType);
      EXPECT_EQ(response.reason, c.status == 404 ? "Not Found" : "Method Not Allowed");
    }
  }
}

TEST(Router, MethodNotAllowedListsTheRoutedMethods) {
  Router router = KiseeLikeRouter();
  EXPECT_EQ(Route(router, "DELETE", "/jwt/").headers.Get("Allow"), "GET, POST, HEAD");
  EXPECT_EQ(Route(router, "GET", "/users/x/").headers.Get("Allow"), "PATCH");
  router.SetCors(CorsPolicy());
  EXPECT_EQ(Route(router, "PUT", "/health").headers.Get("Allow"), "GET, HEAD, OPTIONS");
}

TEST(Router, CorsPreflightOnEveryRouteAndDecoration) {
  Router router = KiseeLikeRouter();
  router.SetCors(CorsPolicy());
  Request preflight;
  preflight.method = "OPTIONS";
  preflight.path = "/users/bob/";
  preflight.headers.Add("Origin", "https://app.example");
  preflight.headers.Add("Access-Control-Request-Method", "PATCH");
  std::optional<Response> answer;
  router.Dispatch(preflight, MakeResponder([&](Response r) { answer = std::move(r); }));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->headers.Get("Access-Control-Allow-Methods"), "PATCH");

  // HEAD is a method of every GET route (kisee-api §1): a preflight for it
  // succeeds; a method the path does not serve is refused.
  preflight.path = "/health";
  for (const auto& [method, status] :
       std::vector<std::pair<std::string, int>>{{"HEAD", 200}, {"GET", 200}, {"POST", 403}}) {
    preflight.headers.Set("Access-Control-Request-Method", method);
    answer.reset();
    router.Dispatch(preflight, MakeResponder([&](Response r) { answer = std::move(r); }));
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, status) << method;
  }

  EXPECT_EQ(Route(router, "OPTIONS", "/health").status, 403);  // no Origin
  Response not_found = Route(router, "OPTIONS", "/nowhere");
  EXPECT_EQ(not_found.status, 404);
  EXPECT_EQ(not_found.headers.Get("Vary"), "Origin");
}

TEST(Router, OptionsHookAndFallback) {
  Router router = KiseeLikeRouter();
  router.SetOptionsHandler(FromSync([](const Request&) { return Response(204); }));
  router.SetFallback(
      FromSync([](const Request& r) { return Response::Text(200, "proxy " + r.path); }));
  EXPECT_EQ(Route(router, "OPTIONS", "/jwt/").status, 204);
  Response proxied = Route(router, "DELETE", "/anything/else");
  EXPECT_EQ(proxied.status, 200);
  EXPECT_EQ(proxied.body, "proxy /anything/else");
  EXPECT_EQ(Route(router, "DELETE", "/jwt/").status, 405);  // a routed path keeps its 405
}

TEST(Router, RejectsBadPatternsAndDuplicates) {
  Router router;
  SyncHandler ok = [](const Request&) { return Response(200); };
  for (std::string bad : {"", "jwt", "/{", "/{}", "/{a-b}", "/x{y}", "/{a}b", "/a?b", "/a}"}) {
    auto added = router.AddSync("GET", bad, ok);
    ASSERT_FALSE(added.has_value()) << bad;
    EXPECT_EQ(added.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(router.AddSync("BAD METHOD", "/x", ok).has_value());
  EXPECT_FALSE(router.AddSync("", "/x", ok).has_value());
  ASSERT_TRUE(router.AddSync("GET", "/x/{id}", ok).has_value());
  auto duplicate = router.AddSync("GET", "/x/{id}", ok);
  ASSERT_FALSE(duplicate.has_value());
  EXPECT_EQ(duplicate.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_TRUE(router.AddSync("POST", "/x/{id}", ok).has_value());
}

TEST(Router, LiteralRouteWinsOverPattern) {
  Router router;
  ASSERT_TRUE(router.AddSync("GET", "/jwt/{jti}", Named("pattern")));
  ASSERT_TRUE(router.AddSync("GET", "/jwt/keys", Named("literal")));
  EXPECT_EQ(Route(router, "GET", "/jwt/keys").body, "literal");
  EXPECT_EQ(Route(router, "GET", "/jwt/other").body, "pattern");
}

TEST(Router, HandlerExceptionsAndDroppedRespondersBecome500) {
  Router router;
  ASSERT_TRUE(router.AddSync("GET", "/throw",
                             [](const Request&) -> Response { throw std::runtime_error("boom"); }));
  ASSERT_TRUE(router.Add("GET", "/drop", [](const Request&, Responder) {}));
  EXPECT_EQ(Route(router, "GET", "/throw").status, 500);
  EXPECT_EQ(Route(router, "GET", "/drop").status, 500);
}

TEST(Responder, FirstCallWinsAcrossCopies) {
  std::vector<int> seen;
  {
    Responder responder = MakeResponder([&](Response r) { seen.push_back(r.status); });
    Responder copy = responder;
    EXPECT_FALSE(copy.responded());
    copy(Response(201));
    responder(Response(202));
    EXPECT_TRUE(responder.responded());
  }
  EXPECT_EQ(seen, std::vector<int>{201});
}

}  // namespace
}  // namespace kisee::net
