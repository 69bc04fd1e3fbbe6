#include "kisee/net/http.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kisee/net/access_log.h"
#include "kisee/net/client.h"
#include "kisee/net/cors.h"

namespace kisee::net {
namespace {

TEST(Headers, LookupIsCaseInsensitiveAndKeepsOrder) {
  Headers headers;
  headers.Add("Content-Type", "text/plain");
  headers.Add("X-Thing", "1");
  headers.Add("x-thing", "2");
  EXPECT_EQ(headers.Get("content-type"), "text/plain");
  EXPECT_EQ(headers.Get("X-THING"), "1");
  EXPECT_FALSE(headers.Get("Missing").has_value());
  EXPECT_EQ(headers.GetOr("Missing", "dflt"), "dflt");
  headers.Set("X-Thing", "3");
  EXPECT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers.Get("x-thing"), "3");
  EXPECT_EQ(headers.Remove("CONTENT-TYPE"), 1u);
  EXPECT_FALSE(headers.Contains("Content-Type"));
  headers.Set("New", "v");
  EXPECT_EQ(headers.Get("new"), "v");
}

TEST(Response, ProblemDocumentHasTheKiseeShape) {
  Response problem = Response::Problem(400, "Invalid json patch.");
  EXPECT_EQ(problem.status, 400);
  EXPECT_EQ(problem.reason, "Invalid json patch.");
  EXPECT_EQ(problem.headers.Get("Content-Type"), "application/problem+json; charset=utf-8");
  EXPECT_EQ(problem.body,
            "{\n"
            "    \"_type\": \"error\",\n"
            "    \"_meta\": {\n"
            "        \"title\": \"Invalid json patch.\"\n"
            "    },\n"
            "    \"title\": \"Invalid json patch.\",\n"
            "    \"status\": 400\n"
            "}");
}

TEST(Response, ProblemDetailComesBeforeStatusAndDefaultsToTheStandardReason) {
  Response malformed = Response::Problem(400, "Malformed JSON", "Expecting value: line 1");
  EXPECT_NE(malformed.body.find("\"detail\": \"Expecting value: line 1\",\n    \"status\": 400"),
            std::string::npos)
      << malformed.body;
  Response not_found = Response::Problem(404);
  EXPECT_EQ(not_found.reason, "Not Found");
  EXPECT_NE(not_found.body.find("\"title\": \"Not Found\""), std::string::npos);
  // Invalid UTF-8 in a reason is replaced, not thrown.
  Response odd = Response::Problem(400, "bad \xff byte");
  EXPECT_NE(odd.body.find("\"title\""), std::string::npos);
}

TEST(Http, StandardReasonsAndPercentDecoding) {
  EXPECT_EQ(StandardReason(201), "Created");
  EXPECT_EQ(StandardReason(431), "Request Header Fields Too Large");
  EXPECT_EQ(StandardReason(299), "Unknown");
  EXPECT_EQ(PercentDecode("alice%40example.com"), "alice@example.com");
  EXPECT_EQ(PercentDecode("a%2Fb%2f"), "a/b/");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(PercentDecode("a+b"), "a+b");
}

TEST(AccessLog, FormatsOneJsonLineWithExtraFields) {
  std::vector<LogField> fields{{"client", "cn:alice"}, {"status", "spoofed"}, {"q\"", "a\nb"}};
  AccessLogRecord record;
  record.time = TimePoint(std::chrono::milliseconds(1714564800123));
  record.remote_address = "127.0.0.1";
  record.remote_port = 4242;
  record.method = "GET";
  record.path = "/p\xc3\xa9";
  record.status = 200;
  record.bytes = 52;
  record.duration_ms = 1.5;
  record.fields = fields;
  EXPECT_EQ(FormatAccessLogLine(record),
            "{\"time\":\"2024-05-01T12:00:00.123Z\",\"remote\":\"127.0.0.1\",\"port\":4242,"
            "\"method\":\"GET\",\"path\":\"/p\\u00c3\\u00a9\",\"status\":200,\"bytes\":52,"
            "\"duration_ms\":1.500,\"client\":\"cn:alice\",\"q\\\"\":\"a\\u000ab\"}");
}

struct UrlCase {
  std::string text;
  bool ok;
  std::string scheme, host;
  int port;
  std::string target;
};

TEST(ParseUrl, Table) {
  const std::vector<UrlCase> cases = {
      {"http://127.0.0.1:8000", true, "http", "127.0.0.1", 8000, "/"},
      {"https://example.com/a/b?c=d", true, "https", "example.com", 443, "/a/b?c=d"},
      {"HTTP://h", true, "http", "h", 80, "/"},
      {"http://h?x=1", true, "http", "h", 80, "/?x=1"},
      {"https://[::1]:4433/x", true, "https", "::1", 4433, "/x"},
      {"ftp://h/", false},
      {"http://user@h/", false},
      {"http://h/#frag", false},
      {"http://:80/", false},
      {"http://h:0/", false},
      {"http://h:70000/", false},
      {"http://h:/", false},
      {"http://h:8x/", false},
      {"http://h/a b", false},
      {"127.0.0.1:80", false},
  };
  for (const auto& c : cases) {
    auto url = ParseUrl(c.text);
    ASSERT_EQ(url.has_value(), c.ok) << c.text;
    if (!c.ok) {
      EXPECT_EQ(url.error().code(), ErrorCode::kInvalidArgument);
      continue;
    }
    EXPECT_EQ(url->scheme, c.scheme) << c.text;
    EXPECT_EQ(url->host, c.host) << c.text;
    EXPECT_EQ(url->port, c.port) << c.text;
    EXPECT_EQ(url->target, c.target) << c.text;
  }
}

Request PreflightRequest(std::string origin, std::string method, std::string headers = {}) {
  Request request;
  request.method = "OPTIONS";
  request.path = "/jwt/";
  if (!origin.empty()) request.headers.Add("Origin", origin);
  if (!method.empty()) request.headers.Add("Access-Control-Request-Method", method);
  if (!headers.empty()) request.headers.Add("Access-Control-Request-Headers", headers);
  return request;
}

TEST(Cors, PreflightEchoesOriginMethodAndHeaders) {
  CorsPolicy policy;
  std::vector<std::string> methods{"GET", "POST"};
  Response ok = policy.Preflight(
      PreflightRequest("https://app.example", "POST", "content-type,authorization"), methods);
  EXPECT_EQ(ok.status, 200);
  EXPECT_TRUE(ok.body.empty());
  EXPECT_EQ(ok.headers.Get("Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(ok.headers.Get("Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(ok.headers.Get("Access-Control-Allow-Methods"), "POST");
  EXPECT_EQ(ok.headers.Get("Access-Control-Allow-Headers"), "content-type,authorization");
  EXPECT_EQ(ok.headers.Get("Vary"), "Origin");
}

TEST(Cors, PreflightRefusals) {
  CorsPolicy any;
  CorsPolicy restricted(CorsOptions{{"https://good.example"}});
  std::vector<std::string> methods{"GET"};
  struct Case {
    const CorsPolicy* policy;
    Request request;
  };
  std::vector<Case> cases;
  cases.push_back({&any, PreflightRequest("", "GET")});
  cases.push_back({&any, PreflightRequest("https://a.example", "")});
  cases.push_back({&any, PreflightRequest("https://a.example", "DELETE")});
  cases.push_back({&restricted, PreflightRequest("https://evil.example", "GET")});
  for (const auto& c : cases) {
    Response refused = c.policy->Preflight(c.request, methods);
    EXPECT_EQ(refused.status, 403);
    EXPECT_EQ(refused.reason, "Forbidden");
    EXPECT_EQ(refused.headers.Get("Content-Type"), kProblemContentType);
  }
  EXPECT_EQ(restricted.Preflight(PreflightRequest("https://good.example", "GET"), methods).status,
            200);
}

TEST(Cors, DecorateExposesNonSimpleHeaders) {
  CorsPolicy policy;
  Request request;
  request.headers.Add("Origin", "https://app.example");
  Response response = Response::Json(201, "{}");
  response.headers.Add("Location", "/jwt/abc");
  response.headers.Add("X-Request-Id", "1");
  response.headers.Add("x-request-id", "2");
  response.headers.Add("Vary", "Accept");
  policy.Decorate(request, response);
  EXPECT_EQ(response.headers.Get("Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(response.headers.Get("Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(response.headers.Get("Access-Control-Expose-Headers"),
            "Location,X-Request-Id,Vary,Date");
  EXPECT_EQ(response.headers.Get("Vary"), "Accept, Origin");

  // A response without headers of its own still lists Vary and Date: every
  // actual cross-origin request gets the header (kisee-api §2.11).
  Response problem = Response::Problem(403, "Forbidden");
  problem.headers.Add("Date", "ignored: the server writes its own");
  problem.headers.Add("Connection", "close");
  policy.Decorate(request, problem);
  EXPECT_EQ(problem.headers.Get("Access-Control-Expose-Headers"), "Vary,Date");

  Request no_origin;
  Response plain = Response::Json(200, "{}");
  policy.Decorate(no_origin, plain);
  EXPECT_EQ(plain.headers.Get("Vary"), "Origin");
  EXPECT_FALSE(plain.headers.Contains("Access-Control-Allow-Origin"));

  CorsPolicy restricted(CorsOptions{{"https://good.example"}});
  Request evil;
  evil.headers.Add("Origin", "https://evil.example");
  Response refused = Response::Json(200, "{}");
  restricted.Decorate(evil, refused);
  EXPECT_FALSE(refused.headers.Contains("Access-Control-Allow-Origin"));
}

}  // namespace
}  // namespace kisee::net
