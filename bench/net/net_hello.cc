// net_hello: a kisee::net server answering 200 "ok" on every GET, for the
// benchmark against nginx's `return 200` (bench/net/run). With --cert/--key
// it serves HTTPS, with --client-ca also mTLS (TLS 1.3, client certificate
// required), as `certified serve` does. With --upstream it forwards every
// request there through a pooled HttpClient, as `certified serve --upstream`.
//
// Usage: net_hello [--port N] [--threads N] [--cert PEM --key PEM [--client-ca PEM]]
//                  [--access-log] [--upstream http://HOST:PORT]
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>

#include "kisee/net/access_log.h"
#include "kisee/net/client.h"
#include "kisee/net/router.h"
#include "kisee/net/server.h"
#include "kisee/net/tls.h"

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int Fail(const std::string& message) {
  std::cerr << "net_hello: " << message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  kisee::net::ServerOptions options;
  options.port = 8080;
  std::string cert, key, client_ca, upstream;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--port") {
      options.port = static_cast<std::uint16_t>(std::atoi(next().c_str()));
    } else if (arg == "--threads") {
      options.threads = std::atoi(next().c_str());
    } else if (arg == "--cert") {
      cert = next();
    } else if (arg == "--key") {
      key = next();
    } else if (arg == "--client-ca") {
      client_ca = next();
    } else if (arg == "--upstream") {
      upstream = next();
    } else if (arg == "--access-log") {
      options.access_log = kisee::net::SpdlogAccessLog();
    } else {
      return Fail("unknown argument " + std::string(arg));
    }
  }
  if (!cert.empty()) {
    kisee::net::TlsServerOptions tls;
    tls.certificate_chain_pem = ReadFile(cert);
    tls.private_key_pem = kisee::SecretBytes(ReadFile(key));
    if (!client_ca.empty()) {
      tls.min_version = kisee::net::TlsVersion::kTls13;
      tls.require_client_certificate = true;
      tls.client_ca_pem = ReadFile(client_ca);
    }
    auto context = kisee::net::TlsServerContext::Create(tls);
    if (!context) return Fail(context.error().message());
    options.tls = *context;
  }

  auto router = std::make_shared<kisee::net::Router>();
  auto ok = [](const kisee::net::Request&) { return kisee::net::Response::Text(200, "ok"); };
  if (upstream.empty() &&
      (!router->AddSync("GET", "/", ok) || !router->AddSync("GET", "/health", ok))) {
    return Fail("cannot route");
  }
  std::shared_ptr<kisee::net::HttpClient> client;
  kisee::net::Url upstream_url;
  if (!upstream.empty()) {
    auto url = kisee::net::ParseUrl(upstream);
    if (!url) return Fail(url.error().message());
    upstream_url = *url;
    router->SetFallback([&client, &upstream_url](const kisee::net::Request& request,
                                                 kisee::net::Responder respond) {
      kisee::net::ClientRequest forward;
      forward.method = request.method;
      forward.target = request.target;
      forward.body = request.body;
      client->Send(upstream_url, std::move(forward),
                   [respond](kisee::Result<kisee::net::ClientResponse> result) {
                     if (!result) {
                       respond(kisee::net::Response::Problem(502));
                       return;
                     }
                     kisee::net::Response response(result->status);
                     response.headers = std::move(result->headers);
                     response.body = std::move(result->body);
                     respond(std::move(response));
                   });
    });
  }
  kisee::net::Server server(std::move(options), router);
  if (!upstream.empty()) client = kisee::net::HttpClient::Create(server, {});
  auto port = server.Listen();
  if (!port) return Fail(port.error().message());
  if (auto signals = server.HandleSignals(); !signals) return Fail(signals.error().message());
  std::printf("listening on %u\n", static_cast<unsigned>(*port));
  std::fflush(stdout);
  auto ran = server.Run();
  client.reset();
  if (!ran) return Fail(ran.error().message());
  return 0;
}
