#include "kisee/net/client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/server_impl.h"
#include "net/tls_impl.h"
#include "net/wire.h"

namespace kisee::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using boost::system::error_code;

bool IsDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string LowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return out;
}

std::string Authority(const Url& url) {
  bool v6 = url.host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + url.host + "]" : url.host;
  bool default_port =
      (url.scheme == "http" && url.port == 80) || (url.scheme == "https" && url.port == 443);
  return default_port ? host : host + ":" + std::to_string(url.port);
}

std::string PeerText(const Url& url) {
  bool v6 = url.host.find(':') != std::string::npos;
  return (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
}

// Connection is one client connection, plain or TLS, with the buffer that
// carries bytes from one response to the next. Used by one exchange at a
// time; idle ones wait in the pool.
struct Connection {
  Connection(asio::any_io_executor executor, const TlsClientContext* tls) : executor(executor) {
    if (tls != nullptr) {
      secure.emplace(executor, tls->impl().ssl);
    } else {
      plain.emplace(executor);
    }
  }

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  void Close() {
    error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
  }

  // LooksAlive checks an idle plain connection without blocking: the peer
  // may have closed it (a keep-alive timeout) or sent stray bytes; either
  // way it must not carry the next request.
  bool LooksAlive() {
    if (!lowest().socket().is_open()) return false;
    if (secure) return true;  // TLS records cannot be peeked at meaningfully
    char byte;
    ssize_t n = ::recv(lowest().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  asio::any_io_executor executor;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  SteadyClock::time_point idle_since;
};

}  // namespace

class HttpClient::Impl : public std::enable_shared_from_this<HttpClient::Impl> {
 public:
  Impl(asio::io_context& io_context, ClientOptions options)
      : io_context_(io_context), options_(std::move(options)) {}

  void Send(const Url& url, ClientRequest request, ClientCallback done);

  std::shared_ptr<Connection> TakeIdle(const std::string& key) {
    std::vector<std::shared_ptr<Connection>> stale;
    std::shared_ptr<Connection> found;
    {
      std::lock_guard lock(mutex_);
      auto it = idle_.find(key);
      if (it == idle_.end()) return nullptr;
      auto& list = it->second;
      auto now = SteadyClock::now();
      while (!list.empty()) {
        auto candidate = std::move(list.back());
        list.pop_back();
        --idle_count_;
        if (now - candidate->idle_since < options_.idle_timeout && candidate->LooksAlive()) {
          found = std::move(candidate);
          break;
        }
        stale.push_back(std::move(candidate));
      }
    }
    for (auto& connection : stale) connection->Close();
    return found;
  }

  void ReturnIdle(const std::string& key, std::shared_ptr<Connection> connection) {
    {
      std::lock_guard lock(mutex_);
      if (!closed_ && idle_count_ < options_.max_idle_connections) {
        connection->idle_since = SteadyClock::now();
        idle_[key].push_back(std::move(connection));
        ++idle_count_;
        return;
      }
    }
    connection->Close();
  }

  void CloseIdle() {
    std::unordered_map<std::string, std::vector<std::shared_ptr<Connection>>> idle;
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      idle.swap(idle_);
      idle_count_ = 0;
    }
    for (auto& [key, list] : idle) {
      for (auto& connection : list) connection->Close();
    }
  }

  std::size_t idle_connections() const {
    std::lock_guard lock(mutex_);
    return idle_count_;
  }

  asio::io_context& io_context() { return io_context_; }
  const ClientOptions& options() const { return options_; }

 private:
  asio::io_context& io_context_;
  const ClientOptions options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<Connection>>> idle_;  // by origin
  std::size_t idle_count_ = 0;
  bool closed_ = false;
};

namespace {

// Exchange is one request and its response, possibly retried once on a
// fresh connection when a pooled one turns out to be dead.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(std::shared_ptr<HttpClient::Impl> client, Url url, std::string head, std::string body,
           bool is_head, ClientCallback done)
      : client_(std::move(client)),
        options_(client_->options()),
        url_(std::move(url)),
        key_(url_.scheme + "://" + PeerText(url_)),
        head_(std::move(head)),
        body_(std::move(body)),
        is_head_(is_head),
        done_(std::move(done)) {}

  void Start() {
    if (auto idle = client_->TakeIdle(key_)) {
      connection_ = std::move(idle);
      reused_ = true;
      asio::dispatch(connection_->executor, [self = shared_from_this()] { self->DoWrite(); });
      return;
    }
    NewConnection();
  }

 private:
  void NewConnection() {
    reused_ = false;
    const TlsClientContext* tls = url_.scheme == "https" ? options_.tls.get() : nullptr;
    connection_ = std::make_shared<Connection>(asio::make_strand(client_->io_context()), tls);
    asio::dispatch(connection_->executor, [self = shared_from_this()] { self->DoResolve(); });
  }

  void DoResolve() {
    error_code ec;
    auto address = asio::ip::make_address(url_.host, ec);
    connection_->lowest().expires_after(options_.connect_timeout);
    if (!ec) {
      std::array<tcp::endpoint, 1> endpoints{tcp::endpoint(address, url_.port)};
      DoConnect(endpoints);
      return;
    }
    resolver_.emplace(connection_->executor);
    resolver_->async_resolve(
        url_.host, std::to_string(url_.port),
        [self = shared_from_this()](error_code resolve_ec, tcp::resolver::results_type results) {
          if (resolve_ec) {
            self->Finish(MakeError(ErrorCode::kUnavailable, "cannot resolve " + self->url_.host +
                                                                ": " + resolve_ec.message()));
            return;
          }
          self->DoConnect(results);
        });
  }

  template <class Endpoints>
  void DoConnect(const Endpoints& endpoints) {
    connection_->lowest().async_connect(
        endpoints,
        [self = shared_from_this()](error_code ec, const tcp::endpoint&) { self->OnConnect(ec); });
  }

  void OnConnect(error_code ec) {
    if (ec) {
      if (ec == beast::error::timeout) {
        Finish(
            MakeError(ErrorCode::kDeadlineExceeded, "timed out connecting to " + PeerText(url_)));
      } else {
        Finish(MakeError(ErrorCode::kUnavailable,
                         "cannot connect to " + PeerText(url_) + ": " + ec.message()));
      }
      return;
    }
    error_code ignored;
    connection_->lowest().socket().set_option(tcp::no_delay(true), ignored);
    if (!connection_->secure) {
      DoWrite();
      return;
    }
    SSL* ssl = connection_->secure->native_handle();
    error_code not_ip;
    asio::ip::make_address(url_.host, not_ip);
    bool configured = true;
    if (not_ip) {
      // SNI is for DNS names only (RFC 6066 §3); the name is checked against
      // the certificate's DNS SANs.
      configured = SSL_set_tlsext_host_name(ssl, url_.host.c_str()) == 1 &&
                   SSL_set1_host(ssl, url_.host.c_str()) == 1;
    } else {
      configured = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url_.host.c_str()) == 1;
    }
    if (!configured) {
      ERR_clear_error();
      Finish(MakeError(ErrorCode::kInvalidArgument, "cannot verify the name " + url_.host));
      return;
    }
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    // The handshake shares the connect deadline: connect_timeout bounds both.
    connection_->secure->async_handshake(
        asio::ssl::stream_base::client,
        [self = shared_from_this()](error_code handshake_ec) { self->OnHandshake(handshake_ec); });
  }

  void OnHandshake(error_code ec) {
    if (!ec) {
      DoWrite();
      return;
    }
    if (ec == beast::error::timeout) {
      Finish(MakeError(ErrorCode::kDeadlineExceeded,
                       "timed out in the TLS handshake with " + PeerText(url_)));
      return;
    }
    long verify = SSL_get_verify_result(connection_->secure->native_handle());
    if (verify != X509_V_OK) {
      Finish(MakeError(
          ErrorCode::kUnauthenticated,
          "TLS handshake with " + PeerText(url_) +
              " failed: server certificate not trusted: " + X509_verify_cert_error_string(verify)));
      return;
    }
    Finish(TlsFailure("TLS handshake with " + PeerText(url_) + " failed: ", ec));
  }

  // TlsFailure classifies a TLS-level error: alerts about certificates
  // (ours refused, revoked, missing) are authentication failures.
  std::unexpected<Error> TlsFailure(std::string prefix, error_code ec) {
    std::string message = ec.message();
    bool certificate = message.find("certificate") != std::string::npos ||
                       message.find("alert") != std::string::npos;
    return MakeError(certificate ? ErrorCode::kUnauthenticated : ErrorCode::kUnavailable,
                     prefix + message);
  }

  void DoWrite() {
    connection_->lowest().expires_after(options_.response_timeout);
    std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(body_)};
    auto on_write = [self = shared_from_this()](error_code ec, std::size_t) { self->OnWrite(ec); };
    if (connection_->secure) {
      asio::async_write(*connection_->secure, buffers, std::move(on_write));
    } else {
      asio::async_write(*connection_->plain, buffers, std::move(on_write));
    }
  }

  void OnWrite(error_code ec) {
    if (ec) {
      OnExchangeError(ec);
      return;
    }
    DoRead();
  }

  void DoRead() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options_.max_response_header_bytes, UINT32_MAX)));
    parser_->body_limit(options_.max_response_body_bytes);
    if (is_head_) parser_->skip(true);
    auto on_read = [self = shared_from_this()](error_code ec, std::size_t) { self->OnRead(ec); };
    if (connection_->secure) {
      http::async_read(*connection_->secure, connection_->buffer, *parser_, std::move(on_read));
    } else {
      http::async_read(*connection_->plain, connection_->buffer, *parser_, std::move(on_read));
    }
  }

  void OnRead(error_code ec) {
    if (ec) {
      OnExchangeError(ec);
      return;
    }
    auto& message = parser_->get();
    int status = message.result_int();
    if (status >= 100 && status < 200) {
      // An interim response (100 Continue): the real one follows.
      connection_->lowest().expires_after(options_.response_timeout);
      DoRead();
      return;
    }
    ClientResponse response;
    response.status = status;
    response.reason = std::string(message.reason());
    for (const auto& field : message) {
      response.headers.Add(std::string(field.name_string()), std::string(field.value()));
    }
    response.body = std::move(message.body());
    bool reusable = parser_->keep_alive() && !parser_->need_eof();
    parser_.reset();
    if (reusable) {
      connection_->lowest().expires_never();
      client_->ReturnIdle(key_, std::move(connection_));
    } else {
      connection_->Close();
      connection_.reset();
    }
    Finish(std::move(response));
  }

  void OnExchangeError(error_code ec) {
    bool nothing_received = !(parser_ && parser_->got_some()) && connection_->buffer.size() == 0;
    connection_->Close();
    if (reused_ && nothing_received && !retried_ && ec != beast::error::timeout) {
      // The pooled connection was closed by the upstream while idle: the
      // request never reached it, so sending it again is safe.
      retried_ = true;
      parser_.reset();
      NewConnection();
      return;
    }
    if (ec == beast::error::timeout) {
      Finish(MakeError(ErrorCode::kDeadlineExceeded,
                       "timed out waiting for the response from " + PeerText(url_)));
    } else if (ec == http::error::body_limit || ec == http::error::header_limit) {
      Finish(MakeError(ErrorCode::kResourceExhausted,
                       "response from " + PeerText(url_) + " too large: " + ec.message()));
    } else if (ec.category() == asio::error::get_ssl_category() ||
               ec == asio::ssl::error::stream_truncated) {
      Finish(TlsFailure("TLS error with " + PeerText(url_) + ": ", ec));
    } else if (ec == http::error::end_of_stream || ec == asio::error::eof) {
      Finish(MakeError(ErrorCode::kUnavailable,
                       PeerText(url_) + " closed the connection without a response"));
    } else {
      Finish(MakeError(ErrorCode::kUnavailable,
                       "exchange with " + PeerText(url_) + " failed: " + ec.message()));
    }
  }

  void Finish(Result<ClientResponse> result) {
    if (finished_) return;
    finished_ = true;
    if (connection_) {
      connection_->Close();
      connection_.reset();
    }
    auto done = std::move(done_);
    try {
      done(std::move(result));
    } catch (...) {
      // The callback reports its own failures; an exception must not unwind
      // into the I/O loop.
    }
  }

  std::shared_ptr<HttpClient::Impl> client_;
  const ClientOptions& options_;
  Url url_;
  std::string key_;
  std::string head_;
  std::string body_;
  bool is_head_;
  ClientCallback done_;
  std::shared_ptr<Connection> connection_;
  std::optional<tcp::resolver> resolver_;
  std::optional<http::response_parser<http::string_body>> parser_;
  bool reused_ = false;
  bool retried_ = false;
  bool finished_ = false;
};

}  // namespace

void HttpClient::Impl::Send(const Url& url, ClientRequest request, ClientCallback done) {
  auto fail = [&](Error error) {
    asio::post(io_context_, [done = std::move(done), error = std::move(error)]() mutable {
      done(std::unexpected(std::move(error)));
    });
  };
  if (url.scheme != "http" && url.scheme != "https") {
    fail(Error(ErrorCode::kInvalidArgument, "unsupported URL scheme: " + url.scheme));
    return;
  }
  if (url.scheme == "https" && !options_.tls) {
    fail(Error(ErrorCode::kInvalidArgument, "an https URL needs a TLS client context"));
    return;
  }
  if (url.host.empty() || url.port == 0) {
    fail(Error(ErrorCode::kInvalidArgument, "URL without host or port"));
    return;
  }
  std::string_view target =
      request.target.empty() ? std::string_view(url.target) : std::string_view(request.target);
  std::string head;
  head.reserve(256);
  auto written = internal::AppendRequestHead(request.method, target, Authority(url),
                                             request.headers, request.body.size(), head);
  if (!written) {
    fail(written.error());
    return;
  }
  bool is_head = request.method == "HEAD";
  std::make_shared<Exchange>(shared_from_this(), url, std::move(head), std::move(request.body),
                             is_head, std::move(done))
      ->Start();
}

Result<Url> ParseUrl(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid URL (" + std::string(why) + ")");
  };
  std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return bad("no scheme");
  Url url;
  url.scheme = LowerAscii(text.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https") return bad("scheme must be http or https");
  std::string_view rest = text.substr(scheme_end + 3);
  if (rest.find('#') != std::string_view::npos) return bad("fragment");
  for (char c : rest) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return bad("space or control character");
  }
  std::size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view target =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) return bad("user info");
  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("junk after IPv6 address");
      port = after.substr(1);
      if (port.empty()) return bad("empty port");
    }
  } else {
    std::size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return bad("empty port");
    }
  }
  if (host.empty()) return bad("no host");
  url.host = std::string(host);
  if (port.empty()) {
    url.port = url.scheme == "https" ? 443 : 80;
  } else {
    if (!IsDigits(port) || port.size() > 5) return bad("bad port");
    unsigned value = 0;
    for (char c : port) value = value * 10 + static_cast<unsigned>(c - '0');
    if (value == 0 || value > 65535) return bad("bad port");
    url.port = static_cast<std::uint16_t>(value);
  }
  if (target.empty()) {
    url.target = "/";
  } else if (target.front() == '?') {
    url.target = "/" + std::string(target);
  } else {
    url.target = std::string(target);
  }
  return url;
}

HttpClient::HttpClient(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpClient::~HttpClient() { impl_->CloseIdle(); }

std::shared_ptr<HttpClient> HttpClient::Create(Server& server, ClientOptions options) {
  return std::shared_ptr<HttpClient>(
      new HttpClient(std::make_shared<Impl>(server.impl().io_context(), std::move(options))));
}

void HttpClient::Send(const Url& url, ClientRequest request, ClientCallback done) {
  impl_->Send(url, std::move(request), std::move(done));
}

std::size_t HttpClient::idle_connections() const { return impl_->idle_connections(); }

Result<ClientResponse> Fetch(const Url& url, ClientRequest request, const ClientOptions& options) {
  // Declared first, destroyed last: the client's sockets belong to it.
  asio::io_context io_context(1);
  std::optional<Result<ClientResponse>> outcome;
  {
    auto client = std::make_shared<HttpClient::Impl>(io_context, options);
    client->Send(url, std::move(request),
                 [&outcome](Result<ClientResponse> result) { outcome = std::move(result); });
    io_context.run();
    client->CloseIdle();
  }
  if (!outcome) return MakeError(ErrorCode::kInternal, "the request ended without an outcome");
  return std::move(*outcome);
}

}  // namespace kisee::net
