// Helpers for the server tests: a server on 127.0.0.1:0 that stops with
// the test, and a raw-socket client that shows exactly what went over the
// wire (status line, reason phrase, framing, pipelining, timeouts).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kisee/net/http.h"
#include "kisee/net/router.h"
#include "kisee/net/server.h"

namespace kisee::net::testing {

using namespace std::chrono_literals;

// Generous: the tests run on a loaded two-core machine.
inline constexpr std::chrono::milliseconds kWait = 20s;

// TestOptions are ServerOptions for tests: loopback, ephemeral port, two
// threads.
ServerOptions TestOptions();

// RunningServer listens and serves until destroyed (graceful shutdown).
class RunningServer {
 public:
  RunningServer(std::shared_ptr<const Router> router, ServerOptions options = TestOptions());
  ~RunningServer();
  Server& server() { return *server_; }
  std::uint16_t port() const { return port_; }
  // Stop shuts down gracefully and waits; idempotent.
  void Stop();

 private:
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
  bool stopped_ = false;
};

// RawResponse is one response as read off the socket.
struct RawResponse {
  std::string version;  // "HTTP/1.1"
  int status = 0;
  std::string reason;
  Headers headers;
  std::string body;
};

// RawConnection is a blocking TCP client with timeouts, for tests.
class RawConnection {
 public:
  // Connect connects to 127.0.0.1:port; fd() < 0 on failure.
  explicit RawConnection(std::uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Send writes all of `data`; false on error.
  bool Send(std::string_view data);
  // ShutdownWrite half-closes the connection.
  void ShutdownWrite();
  // ReadResponse reads one response framed by Content-Length (or none for
  // HEAD / 204 / 304). nullopt on EOF, error or timeout.
  std::optional<RawResponse> ReadResponse(bool head_request = false,
                                          std::chrono::milliseconds timeout = kWait);
  // WaitClosed reads and discards until EOF; true if EOF came in time.
  bool WaitClosed(std::chrono::milliseconds timeout = kWait);

 private:
  // Fill reads more bytes into buffer_; false on EOF, error or deadline.
  bool Fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buffer_;
};

// Get sends one request (a complete request text) on a new connection and
// reads the response.
std::optional<RawResponse> Exchange(std::uint16_t port, std::string_view request_text,
                                    bool head_request = false);

// SimpleRequest builds "METHOD target HTTP/1.1" with Host and the extra
// header lines (each "Name: value\r\n"), Content-Length when body is set.
std::string SimpleRequest(std::string_view method, std::string_view target,
                          std::string_view extra_headers = {}, std::string_view body = {});

}  // namespace kisee::net::testing
