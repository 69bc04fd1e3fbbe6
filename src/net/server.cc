#include "kisee/net/server.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <exception>
#include <type_traits>
#include <utility>

#include "net/request_parser.h"
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
using Executor = asio::io_context::executor_type;
// TcpStream (Beast's stream with timeouts) serves the rare refusals; the
// connections themselves use plain sockets and the event loop's deadline
// sweep, because arming and cancelling a timer around every read and write
// costs more CPU than the rest of a trivial request.
using TcpStream = beast::basic_stream<tcp, Executor, beast::unlimited_rate_policy>;
using Socket = Server::Impl::Socket;
using Deadline = SteadyClock::time_point;
constexpr Deadline kNever = Deadline::max();
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// After answering a request we refuse (too large, malformed), the client may
// still be sending; reading a little before closing keeps the kernel from
// answering its data with a reset that would destroy our answer in flight.
constexpr std::size_t kLingerBytes = 1 << 20;
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::chrono::seconds kTlsShutdownTime{3};
// How often each event loop looks for expired deadlines: the precision of
// every timeout.
constexpr std::chrono::milliseconds kSweepInterval{100};

std::string EndpointText(std::string_view host, std::uint16_t port) {
  bool v6 = host.find(':') != std::string_view::npos;
  return (v6 ? "[" + std::string(host) + "]" : std::string(host)) + ":" + std::to_string(port);
}

// Slot holds one request in flight on a connection, from its header to its
// response being written. A connection has at most max_pipelined of them.
struct Slot {
  Request request;
  Response response;
  std::string head;  // the serialised response head, reused
  std::uint64_t seq = 0;
  bool ready = false;      // the response is in `response`
  bool keep_alive = true;  // the request allows another one after it
  bool is_head = false;    // HEAD: the body is not sent
  bool linger = false;     // a refused request: linger before closing
  bool close_after = false;
  SteadyClock::time_point start;
  TimePoint start_wall;
};

template <bool kTls>
class Session;

// SlotResponder carries one response back to its connection, from whatever
// thread the handler answers on.
template <bool kTls>
class SlotResponder final : public internal::ResponderState {
 public:
  SlotResponder(std::shared_ptr<Session<kTls>> session, std::uint64_t seq)
      : session_(std::move(session)), seq_(seq) {}

  // A handler that lost its responder gets its request answered anyway,
  // rather than leaving the client (and the graceful shutdown) waiting.
  ~SlotResponder() override {
    try {
      if (Claim()) Deliver(Response::Problem(500));
    } catch (...) {
    }
  }

  void Deliver(Response response) override { session_->Complete(seq_, std::move(response)); }

 private:
  std::shared_ptr<Session<kTls>> session_;
  std::uint64_t seq_;
};

// Session is one connection, plain or TLS, in the style of the Beast async
// examples: do_/on_ pairs, a deadline set before every operation (enforced
// by the event loop's sweep). All its handlers run on its event loop's
// single thread.
template <bool kTls>
class Session final : public internal::SessionBase {
 public:
  using Stream = std::conditional_t<kTls, beast::ssl_stream<Socket>, Socket>;

  Session(Server::Impl& server, Server::Impl::Loop& loop, Socket socket,
          std::shared_ptr<const TlsServerContext> tls) requires(kTls)
      : server_(server),
        loop_(loop),
        options_(server.options()),
        executor_(socket.get_executor()),
        tls_context_(std::move(tls)),
        stream_(std::move(socket), tls_context_->impl().ssl) {
    // Asio sets SSL_MODE_RELEASE_BUFFERS, which frees and reallocates the
    // record buffers between the flights of every handshake; keeping them
    // costs ~34 KiB per TLS connection and saves CPU on each handshake.
    SSL_clear_mode(stream_.native_handle(), SSL_MODE_RELEASE_BUFFERS);
    Init();
  }

  Session(Server::Impl& server, Server::Impl::Loop& loop, Socket socket) requires(!kTls)
      : server_(server),
        loop_(loop),
        options_(server.options()),
        executor_(socket.get_executor()),
        stream_(std::move(socket)) {
    Init();
  }

  ~Session() override { server_.Unregister(this); }

  void Start() {
    asio::dispatch(executor_, [self = Self()] { self->OnStart(); });
  }

  void BeginShutdown() override {
    asio::post(executor_, [self = Self()] { self->OnServerShutdown(); });
  }

  // CheckDeadline closes the socket when the operation in progress has
  // outlived its timeout; the pending handlers then see the cancellation.
  void CheckDeadline(Deadline now) override {
    if (socket_closed_) return;
    bool expired = (reading_ && now >= read_deadline_) || (writing_ && now >= write_deadline_) ||
                   ((handshaking_ || closing_) && now >= other_deadline_);
    if (!expired) return;
    timed_out_ = true;
    if (!closed_) {
      spdlog::debug("connection from {} timed out", EndpointText(remote_address_, remote_port_));
    }
    CloseNow();
  }

  // Complete hands the response of request `seq` to the connection; any
  // thread. Runs inline when already on the connection's event loop.
  void Complete(std::uint64_t seq, Response response) {
    asio::dispatch(executor_, [self = Self(), seq, response = std::move(response)]() mutable {
      self->OnComplete(seq, std::move(response));
    });
  }

 private:
  void Init() {
    slots_.resize(std::max<std::size_t>(1, options_.max_pipelined));
    error_code ec;
    auto endpoint = beast::get_lowest_layer(stream_).remote_endpoint(ec);
    if (!ec) {
      remote_address_ = endpoint.address().to_string();
      remote_port_ = endpoint.port();
    }
  }

  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }

  void OnStart() {
    loop_.sessions.push_back(weak_from_this());
    if constexpr (kTls) {
      handshaking_ = true;
      other_deadline_ = SteadyClock::now() + options_.handshake_timeout;
      stream_.async_handshake(asio::ssl::stream_base::server,
                              beast::bind_front_handler(&Session::OnHandshake, Self()));
    } else {
      DoRead();
    }
  }

  void OnHandshake(error_code ec) {
    handshaking_ = false;
    if (closed_) return;
    if (ec) {
      // Refused client certificates end here; not worth more than debug:
      // scanners and health checks would flood the log.
      spdlog::debug("TLS handshake with {} failed: {}", EndpointText(remote_address_, remote_port_),
                    ec.message());
      CloseNow();
      return;
    }
    if constexpr (kTls) tls_peer_ = ExtractPeer();
    if (shutting_down_) {
      DoClose(false);
      return;
    }
    DoRead();
  }

  std::shared_ptr<const TlsPeer> ExtractPeer() {
    auto peer = std::make_shared<TlsPeer>();
    SSL* ssl = stream_.native_handle();
    if (STACK_OF(X509)* chain = SSL_get0_verified_chain(ssl)) {
      for (int i = 0; i < sk_X509_num(chain); ++i) {
        X509* certificate = sk_X509_value(chain, i);
        int length = i2d_X509(certificate, nullptr);
        if (length <= 0) continue;
        Bytes der(static_cast<std::size_t>(length));
        unsigned char* out = der.data();
        i2d_X509(certificate, &out);
        peer->verified_chain_der.push_back(std::move(der));
      }
    }
    if (const char* cipher = SSL_get_cipher_name(ssl)) peer->cipher = cipher;
    if (const char* version = SSL_get_version(ssl)) peer->protocol = version;
    return peer;
  }

  Slot& SlotAt(std::size_t offset) {
    auto& slot = slots_[(head_ + offset) % slots_.size()];
    if (!slot) slot = std::make_unique<Slot>();
    return *slot;
  }

  Slot* FindSlot(std::uint64_t seq) {
    for (std::size_t i = 0; i < count_; ++i) {
      Slot& slot = SlotAt(i);
      if (slot.seq == seq) return &slot;
    }
    return nullptr;
  }

  void ResetSlot(Slot& slot) {
    Request& request = slot.request;
    request.method.clear();
    request.target.clear();
    request.path.clear();
    request.query.clear();
    request.version = 11;
    request.headers.clear();
    request.body.clear();
    // Keep small buffers for the next request, not a megabyte body's.
    if (request.body.capacity() > 65536) std::string().swap(request.body);
    request.path_params.clear();
    request.remote_address = remote_address_;
    request.remote_port = remote_port_;
    request.tls = tls_peer_;
    slot.response = Response();
    slot.ready = false;
    slot.keep_alive = true;
    slot.is_head = false;
    slot.linger = false;
    slot.close_after = false;
  }

  void MaybeRead() {
    if (reading_ || read_closed_ || closed_ || shutting_down_ || handshaking_) return;
    if (count_ >= slots_.size()) return;
    // With responses pending, read on only if the client already pipelined
    // more: a keep-alive client waiting for its answer must not trip a read
    // timeout meanwhile.
    if (count_ > 0 && buffer_.size() == 0) return;
    DoRead();
  }

  void DoRead() {
    Slot& slot = SlotAt(count_);
    ResetSlot(slot);
    slot.seq = next_seq_++;
    parser_.emplace(slot.request);
    parser_->header_limit(
        static_cast<std::uint32_t>(std::min<std::size_t>(options_.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(options_.max_body_bytes);
    bool first_or_pipelined = requests_seen_ == 0 || buffer_.size() > 0;
    read_deadline_ = SteadyClock::now() +
                     (first_or_pipelined ? options_.header_timeout : options_.keep_alive_timeout);
    reading_ = true;
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnReadHeader, Self()));
  }

  void OnReadHeader(error_code ec, std::size_t) {
    reading_ = false;
    if (closed_) return;
    if (ec) {
      OnReadError(ec, /*counted=*/false);
      return;
    }
    ++requests_seen_;
    Slot& slot = SlotAt(count_);
    ++count_;
    slot.start = SteadyClock::now();
    slot.start_wall = std::chrono::system_clock::now();
    if (parser_->is_done()) {
      Dispatch(slot);
      return;
    }
    auto expect = slot.request.headers.Get("Expect");
    if (expect && EqualsIgnoreCase(*expect, "100-continue") && slot.request.version >= 11 &&
        count_ == 1 && !writing_) {
      writing_ = true;
      write_deadline_ = SteadyClock::now() + options_.write_timeout;
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                        beast::bind_front_handler(&Session::OnContinueWritten, Self()));
    }
    read_deadline_ = SteadyClock::now() + options_.body_timeout;
    reading_ = true;
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnReadBody, Self()));
  }

  void OnContinueWritten(error_code ec, std::size_t) {
    writing_ = false;
    if (closed_) return;
    if (ec) {
      CloseNow();
      return;
    }
    MaybeWrite();
  }

  void OnReadBody(error_code ec, std::size_t) {
    reading_ = false;
    if (closed_) return;
    if (ec) {
      OnReadError(ec, /*counted=*/true);
      return;
    }
    Dispatch(SlotAt(count_ - 1));
  }

  // OnReadError decides what a failed read means. `counted`: the request's
  // header was complete (its slot is in flight).
  void OnReadError(error_code ec, bool counted) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::ssl::error::stream_truncated || ec == http::error::partial_message) {
      // The client closed its side. Answer what was complete; a request cut
      // short cannot be answered.
      if (counted) {
        CloseNow();
        return;
      }
      read_closed_ = true;
      parser_.reset();
      MaybeFinish();
      return;
    }
    if (ec == http::error::header_limit) {
      Reject(431, counted);
      return;
    }
    if (ec == http::error::body_limit) {
      Reject(413, counted);
      return;
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
      Reject(400, counted);
      return;
    }
    // Timeouts (the sweep has already closed the socket), resets, our own
    // cancellation: nothing more can be said on this connection.
    if (!timed_out_ && ec != asio::error::operation_aborted) {
      spdlog::debug("read from {} failed: {}", EndpointText(remote_address_, remote_port_),
                    ec.message());
    }
    CloseNow();
  }

  // Reject answers the request being read with a problem and closes after.
  void Reject(int status, bool counted) {
    if (!counted) {
      Slot& slot = SlotAt(count_);
      ++count_;
      slot.start = SteadyClock::now();
      slot.start_wall = std::chrono::system_clock::now();
    }
    Slot& slot = SlotAt(count_ - 1);
    parser_.reset();
    read_closed_ = true;
    slot.response = Response::Problem(status);
    // A refused request still gets the router's CORS headers (errors
    // included): a browser script then sees the 413, not a CORS failure.
    try {
      server_.router().Finish(slot.request, slot.response);
    } catch (const std::exception& e) {
      spdlog::error("finishing a refusal failed: {}", e.what());
    }
    slot.keep_alive = false;
    slot.linger = true;
    slot.is_head = false;
    slot.ready = true;
    MaybeWrite();
  }

  void Dispatch(Slot& slot) {
    slot.keep_alive = parser_->keep_alive() && !shutting_down_;
    if (!slot.keep_alive) read_closed_ = true;
    slot.is_head = slot.request.method == "HEAD";
    parser_.reset();
    server_.router().Dispatch(slot.request,
                              Responder(std::make_shared<SlotResponder<kTls>>(Self(), slot.seq)));
    MaybeRead();
  }

  void OnComplete(std::uint64_t seq, Response response) {
    if (closed_) return;
    Slot* slot = FindSlot(seq);
    if (slot == nullptr || slot->ready) return;
    if (response.status < 200 || response.status > 599) {
      spdlog::error("handler for {} {} answered status {}", slot->request.method,
                    slot->request.path, response.status);
      response = Response::Problem(500);
    }
    try {
      server_.router().Finish(slot->request, response);
    } catch (const std::exception& e) {
      spdlog::error("finishing the response to {} failed: {}", slot->request.path, e.what());
    }
    slot->response = std::move(response);
    slot->ready = true;
    MaybeWrite();
  }

  void MaybeWrite() {
    if (writing_ || closed_ || count_ == 0) return;
    Slot& slot = SlotAt(0);
    if (!slot.ready) return;
    bool last = count_ == 1 && !reading_;
    slot.close_after = !slot.keep_alive || (last && (shutting_down_ || read_closed_));
    bool send_body = !slot.is_head && internal::ResponseHasBody(slot.response.status);
    slot.head.clear();
    internal::AppendResponseHead(slot.response, slot.response.body.size(), slot.close_after,
                                 slot.request.version == 10 && !slot.close_after, slot.head);
    std::array<asio::const_buffer, 2> buffers{
        asio::buffer(slot.head),
        send_body ? asio::buffer(slot.response.body) : asio::const_buffer()};
    writing_ = true;
    write_deadline_ = SteadyClock::now() + options_.write_timeout;
    asio::async_write(stream_, buffers, beast::bind_front_handler(&Session::OnWrite, Self()));
  }

  void OnWrite(error_code ec, std::size_t) {
    writing_ = false;
    if (closed_) return;
    if (ec) {
      spdlog::debug("write to {} failed: {}", EndpointText(remote_address_, remote_port_),
                    ec.message());
      CloseNow();
      return;
    }
    Slot& slot = SlotAt(0);
    bool sent_body = !slot.is_head && internal::ResponseHasBody(slot.response.status);
    LogAccess(slot, sent_body ? slot.response.body.size() : 0);
    bool close = slot.close_after;
    bool linger = slot.linger;
    slot.response = Response();
    slot.ready = false;
    head_ = (head_ + 1) % slots_.size();
    --count_;
    if (close) {
      DoClose(linger);
      return;
    }
    MaybeWrite();
    MaybeRead();
    MaybeFinish();
  }

  void LogAccess(const Slot& slot, std::uint64_t body_bytes) {
    if (!options_.access_log) return;
    AccessLogRecord record;
    record.time = slot.start_wall;
    record.remote_address = remote_address_;
    record.remote_port = remote_port_;
    record.method = slot.request.method;
    record.path = slot.request.path;
    record.status = slot.response.status;
    record.bytes = body_bytes;
    record.duration_ms =
        std::chrono::duration<double, std::milli>(SteadyClock::now() - slot.start).count();
    record.fields = slot.response.log_fields;
    try {
      options_.access_log(record);
    } catch (const std::exception& e) {
      spdlog::error("access log sink failed: {}", e.what());
    }
  }

  // MaybeFinish closes a connection that has nothing left to do.
  void MaybeFinish() {
    if (closed_ || count_ != 0 || reading_ || writing_ || handshaking_) return;
    if (read_closed_ || shutting_down_) DoClose(false);
  }

  void OnServerShutdown() {
    shutting_down_ = true;
    if (closed_) return;
    if (handshaking_) {
      CloseNow();
      return;
    }
    bool idle = count_ == 0 && reading_ && buffer_.size() == 0 && !(parser_ && parser_->got_some());
    if (idle) {
      CloseNow();
      return;
    }
    MaybeFinish();
  }

  // DoClose ends the connection politely: TLS close_notify, or a TCP
  // half-close (with a linger for refused requests).
  void DoClose(bool linger) {
    if (closed_) return;
    closed_ = true;
    closing_ = true;
    if constexpr (kTls) {
      other_deadline_ = SteadyClock::now() +
                        std::min<SteadyClock::duration>(options_.write_timeout, kTlsShutdownTime);
      stream_.async_shutdown([self = Self()](error_code) { self->CloseSocket(); });
    } else {
      error_code ec;
      stream_.shutdown(tcp::socket::shutdown_send, ec);
      if (linger && !ec) {
        other_deadline_ = SteadyClock::now() + kLingerTime;
        DoLinger();
      } else {
        CloseSocket();
      }
    }
  }

  void DoLinger() {
    if (!linger_buffer_) linger_buffer_ = std::make_unique<std::array<char, 4096>>();
    stream_.async_read_some(asio::buffer(*linger_buffer_),
                            [self = Self()](error_code ec, std::size_t n) {
                              self->lingered_ += n;
                              if (ec || self->lingered_ > kLingerBytes) {
                                self->CloseSocket();
                                return;
                              }
                              self->DoLinger();
                            });
  }

  void CloseNow() {
    closed_ = true;
    CloseSocket();
  }

  void CloseSocket() {
    closing_ = false;
    if (socket_closed_) return;
    socket_closed_ = true;
    error_code ignored;
    beast::get_lowest_layer(stream_).close(ignored);
  }

  Server::Impl& server_;
  Server::Impl::Loop& loop_;
  const ServerOptions& options_;
  Executor executor_;                                    // the connection's event loop
  std::shared_ptr<const TlsServerContext> tls_context_;  // keeps the SSL_CTX of this connection
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<internal::RequestParser> parser_;
  std::vector<std::unique_ptr<Slot>> slots_;  // a ring: head_ is the oldest in flight
  std::size_t head_ = 0;
  std::size_t count_ = 0;  // requests whose header was read and whose response is not written
  std::uint64_t next_seq_ = 1;
  std::uint64_t requests_seen_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  bool handshaking_ = false;
  bool read_closed_ = false;  // no more requests will be read
  bool shutting_down_ = false;
  bool closed_ = false;   // no more requests or responses
  bool closing_ = false;  // closed_, with a TLS shutdown or a linger under way
  bool socket_closed_ = false;
  bool timed_out_ = false;
  // The deadlines of the operations in progress, checked by the sweep.
  Deadline read_deadline_ = kNever;
  Deadline write_deadline_ = kNever;
  Deadline other_deadline_ = kNever;  // handshake, TLS shutdown, linger
  std::string remote_address_;
  std::uint16_t remote_port_ = 0;
  std::shared_ptr<const TlsPeer> tls_peer_;
  std::unique_ptr<std::array<char, 4096>> linger_buffer_;
  std::size_t lingered_ = 0;
};

// RefusalText is the answer to a connection over the limit: a complete
// response, so that a client sees why instead of a bare reset.
const std::string& RefusalText() {
  static const std::string text = [] {
    Response response = Response::Problem(503);
    response.headers.Add("Retry-After", "1");
    std::string out;
    internal::AppendResponseHead(response, response.body.size(), true, false, out);
    return out + response.body;
  }();
  return text;
}

// Refusal answers 503 on a connection over the limit and closes it, within
// a second whatever the client does.
class Refusal : public std::enable_shared_from_this<Refusal> {
 public:
  explicit Refusal(Socket socket) : stream_(std::move(socket)) {}

  void Start() {
    stream_.expires_after(std::chrono::seconds(1));
    asio::async_write(stream_, asio::buffer(RefusalText()),
                      [self = shared_from_this()](error_code ec, std::size_t) {
                        if (ec) {
                          self->stream_.close();
                          return;
                        }
                        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
                        self->Drain();
                      });
  }

 private:
  void Drain() {
    stream_.async_read_some(asio::buffer(scratch_),
                            [self = shared_from_this()](error_code ec, std::size_t) {
                              if (ec) {
                                self->stream_.close();
                                return;
                              }
                              self->Drain();
                            });
  }

  TcpStream stream_;
  std::array<char, 1024> scratch_;
};

}  // namespace

namespace {

// MakeLoops creates the event loops; an empty vector (and `error`) when the
// system refuses them (no file descriptor left for an epoll instance).
std::vector<std::unique_ptr<Server::Impl::Loop>> MakeLoops(int threads,
                                                           std::optional<Error>& error) {
  int count = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<Server::Impl::Loop>> loops;
  try {
    for (int i = 0; i < std::max(1, count); ++i) {
      loops.push_back(std::make_unique<Server::Impl::Loop>());
    }
  } catch (const std::exception& e) {
    loops.clear();
    error = Error(ErrorCode::kIo, std::string("cannot create the event loops: ") + e.what());
  }
  return loops;
}

// The event loop run by the calling thread, if it is a server thread.
thread_local asio::io_context* current_loop = nullptr;

}  // namespace

Server::Impl::Impl(ServerOptions options, std::shared_ptr<const Router> router)
    : options_(std::move(options)),
      router_(std::move(router)),
      tls_(options_.tls),
      loops_(MakeLoops(options_.threads, init_error_)) {
  if (loops_.empty()) return;
  auto executor = loops_[0]->context.get_executor();

  drain_timer_.emplace(executor);
}

Server::Impl::~Impl() {
  destroying_ = true;
  StopLoops();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  // A handler left in one loop may own a connection of another loop (a
  // client callback holding a responder): destroy every loop's pending work
  // while all the loops still exist, then the loops.
  for (auto& loop : loops_) loop->context.DestroyPendingWork();
}

void Server::Impl::StopLoops() {
  for (auto& loop : loops_) loop->context.stop();
}

asio::io_context* Server::Impl::NextContext() {
  if (loops_.empty()) return nullptr;
  for (auto& loop : loops_) {
    if (&loop->context == current_loop) return &loop->context;
  }
  return &loops_[next_loop_.fetch_add(1, std::memory_order_relaxed) % loops_.size()]->context;
}

Result<std::uint16_t> Server::Impl::Listen() {
  if (init_error_) return std::unexpected(*init_error_);
  Acceptor& primary = loops_[0]->acceptor;
  if (primary.is_open()) return MakeError(ErrorCode::kFailedPrecondition, "already listening");
  error_code ec;
  auto address = asio::ip::make_address(options_.host, ec);
  if (ec) return MakeError(ErrorCode::kInvalidArgument, "invalid listen address: " + options_.host);
  tcp::endpoint endpoint(address, options_.port);
  std::string where = EndpointText(options_.host, options_.port);
  auto fail = [&](std::string_view step) {
    error_code ignored;
    for (auto& loop : loops_) loop->acceptor.close(ignored);
    return MakeError(ErrorCode::kIo,
                     "cannot listen on " + where + ": " + std::string(step) + ": " + ec.message());
  };
  primary.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  primary.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("SO_REUSEADDR");
  primary.bind(endpoint, ec);
  if (ec) return fail("bind");
  primary.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  auto local = primary.local_endpoint(ec);
  if (ec) return fail("local address");
  for (std::size_t i = 1; i < loops_.size(); ++i) {
    int copy = ::dup(primary.native_handle());
    if (copy < 0) {
      ec = error_code(errno, boost::system::system_category());
      return fail("dup");
    }
    loops_[i]->acceptor.assign(endpoint.protocol(), copy, ec);
    if (ec) {
      ::close(copy);
      return fail("assign");
    }
  }
  port_ = local.port();
  return local.port();
}

Status Server::Impl::HandleSignals(std::function<void()> on_hangup) {
  if (init_error_) return std::unexpected(*init_error_);
  if (started_) return MakeError(ErrorCode::kFailedPrecondition, "HandleSignals after Start");
  error_code ec;
  signals_.emplace(loops_[0]->context.get_executor());
  signals_->add(SIGINT, ec);
  if (!ec) signals_->add(SIGTERM, ec);
  if (!ec && on_hangup) signals_->add(SIGHUP, ec);
  if (ec) {
    signals_.reset();
    return MakeError(ErrorCode::kIo, "cannot handle signals: " + ec.message());
  }
  on_hangup_ = std::move(on_hangup);
  WaitForSignal();
  return Ok();
}

void Server::Impl::WaitForSignal() {
  signals_->async_wait([this](error_code ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      try {
        if (on_hangup_) on_hangup_();
      } catch (const std::exception& e) {
        spdlog::error("SIGHUP handler failed: {}", e.what());
      }
    } else if (draining_) {
      // A second SIGTERM/SIGINT during the drain: stop waiting.
      spdlog::warn("second stop signal: closing {} connections now", connections_.load());
      StopLoops();
      return;
    } else {
      spdlog::info("signal {}: shutting down gracefully", signal);
      BeginShutdown();
    }
    WaitForSignal();
  });
}

Status Server::Impl::Start() {
  if (init_error_) return std::unexpected(*init_error_);
  if (!loops_[0]->acceptor.is_open()) {
    return MakeError(ErrorCode::kFailedPrecondition, "Start before Listen");
  }
  if (started_.exchange(true)) return MakeError(ErrorCode::kFailedPrecondition, "already started");
  for (auto& loop : loops_) {
    loop->work.emplace(loop->context.get_executor());
    asio::post(loop->context, [this, &loop = *loop] {
      Sweep(loop);
      DoAccept(loop);
    });
  }
  try {
    threads_.reserve(loops_.size());
    for (std::size_t i = 0; i < loops_.size(); ++i) {
      threads_.emplace_back([this, i] { RunThread(i); });
    }
  } catch (const std::exception& e) {
    // Without all its threads some connections would never be served.
    StopLoops();
    Wait();
    return MakeError(ErrorCode::kIo, std::string("cannot start the I/O threads: ") + e.what());
  }
  return Ok();
}

void Server::Impl::Sweep(Loop& loop) {
  auto now = SteadyClock::now();
  auto& sessions = loop.sessions;
  for (std::size_t i = 0; i < sessions.size();) {
    if (auto session = sessions[i].lock()) {
      session->CheckDeadline(now);
      ++i;
    } else {
      sessions[i] = std::move(sessions.back());
      sessions.pop_back();
    }
  }
  loop.sweeper.expires_after(kSweepInterval);
  loop.sweeper.async_wait([this, &loop](error_code ec) {
    if (!ec) Sweep(loop);
  });
}

void Server::Impl::RunThread(std::size_t index) {
  asio::io_context& context = loops_[index]->context;
  current_loop = &context;
  for (;;) {
    try {
      context.run();
      return;
    } catch (const std::exception& e) {
      // Handlers catch their own errors; this is a last resort so that one
      // bug does not take the process down.
      spdlog::error("uncaught exception in the I/O loop: {}", e.what());
    } catch (...) {
      spdlog::error("uncaught non-standard exception in the I/O loop");
    }
  }
}

void Server::Impl::Wait() {
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
  for (auto& loop : loops_) loop->work.reset();
}

void Server::Impl::Shutdown() {
  if (loops_.empty()) return;
  asio::post(loops_[0]->context, [this] { BeginShutdown(); });
}

void Server::Impl::BeginShutdown() {
  if (draining_.exchange(true)) return;
  for (auto& loop : loops_) {
    asio::dispatch(loop->context, [&loop = *loop] {
      error_code ec;
      loop.acceptor.close(ec);
      loop.accept_retry.cancel();
    });
  }
  std::vector<std::shared_ptr<internal::SessionBase>> live;
  {
    std::lock_guard lock(sessions_mutex_);
    live.reserve(sessions_.size());
    for (auto* session : sessions_) {
      if (auto locked = session->weak_from_this().lock()) live.push_back(std::move(locked));
    }
  }
  for (auto& session : live) session->BeginShutdown();
  live.clear();
  drain_timer_->expires_after(options_.drain_timeout);
  drain_timer_->async_wait([this](error_code ec) {
    if (ec) return;
    spdlog::warn("drain timeout: closing {} connections", connections_.load());
    StopLoops();
  });
  if (connections_.load() == 0) StopLoops();
}

void Server::Impl::Register(internal::SessionBase* session) {
  std::lock_guard lock(sessions_mutex_);
  sessions_.push_front(session);
  session->registry_position = sessions_.begin();
}

void Server::Impl::Unregister(internal::SessionBase* session) {
  {
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(session->registry_position);
  }
  if (connections_.fetch_sub(1) == 1 && draining_ && !destroying_) StopLoops();
}

void Server::Impl::DoAccept(Loop& loop) {
  // Each event loop, run by one thread, accepts and serves its own
  // connections (nginx's model): no lock or thread hop per request.
  loop.acceptor.async_accept(
      loop.context.get_executor(),
      [this, &loop](error_code ec, Socket socket) { OnAccept(ec, std::move(socket), loop); });
}

void Server::Impl::OnAccept(error_code ec, Socket socket, Loop& loop) {
  if (draining_ || !loop.acceptor.is_open()) return;
  if (ec) {
    if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
        ec == asio::error::no_memory) {
      // Out of file descriptors: accepting again at once would spin.
      spdlog::warn("accept failed: {}; retrying in 100 ms", ec.message());
      loop.accept_retry.expires_after(std::chrono::milliseconds(100));
      loop.accept_retry.async_wait([this, &loop](error_code wait_ec) {
        if (!wait_ec && !draining_) DoAccept(loop);
      });
      return;
    }
    spdlog::debug("accept failed: {}", ec.message());
    DoAccept(loop);
    return;
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::shared_ptr<const TlsServerContext> tls;
  {
    std::lock_guard lock(tls_mutex_);
    tls = tls_;
  }
  // Reserve a place first: several loops accept at once, and a check then
  // increment could let each of them pass the limit by one.
  std::size_t current = connections_.load();
  while (current < options_.max_connections &&
         !connections_.compare_exchange_weak(current, current + 1)) {
  }
  if (current >= options_.max_connections) {
    Refuse(std::move(socket), tls != nullptr);
  } else {
    if (tls) {
      auto tls_session =
          std::make_shared<Session<true>>(*this, loop, std::move(socket), std::move(tls));
      Register(tls_session.get());
      tls_session->Start();
    } else {
      auto plain_session = std::make_shared<Session<false>>(*this, loop, std::move(socket));
      Register(plain_session.get());
      plain_session->Start();
    }
  }
  DoAccept(loop);
}

void Server::Impl::Refuse(Socket socket, bool tls) {
  // Rate-limited: a flood of refusals must not become a flood of log lines.
  static std::atomic<std::int64_t> last_warning{0};
  auto now = std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now().time_since_epoch())
                 .count();
  auto previous = last_warning.load();
  if (now != previous && last_warning.compare_exchange_strong(previous, now)) {
    spdlog::warn("connection limit ({}) reached: refusing connections", options_.max_connections);
  }
  if (tls) {
    // A plain-text 503 would be noise to a TLS client: close at once.
    error_code ignored;
    socket.close(ignored);
    return;
  }
  std::make_shared<Refusal>(std::move(socket))->Start();
}

void Server::Impl::SetTlsContext(std::shared_ptr<const TlsServerContext> context) {
  if (!context) return;
  std::lock_guard lock(tls_mutex_);
  if (!tls_) {
    spdlog::error("SetTlsContext on a plain-HTTP server: ignored");
    return;
  }
  tls_ = std::move(context);
}

Server::Server(ServerOptions options, std::shared_ptr<const Router> router)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router))) {}
Server::~Server() = default;
Result<std::uint16_t> Server::Listen() { return impl_->Listen(); }
Status Server::HandleSignals(std::function<void()> on_hangup) {
  return impl_->HandleSignals(std::move(on_hangup));
}
Status Server::Start() { return impl_->Start(); }
void Server::Wait() { impl_->Wait(); }
Status Server::Run() {
  KISEE_RETURN_IF_ERROR(impl_->Start());
  impl_->Wait();
  return Ok();
}
void Server::Shutdown() { impl_->Shutdown(); }
void Server::SetTlsContext(std::shared_ptr<const TlsServerContext> context) {
  impl_->SetTlsContext(std::move(context));
}
std::uint16_t Server::port() const { return impl_->port(); }
std::size_t Server::connection_count() const { return impl_->connection_count(); }

}  // namespace kisee::net
