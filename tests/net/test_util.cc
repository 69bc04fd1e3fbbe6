#include "net/test_util.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

namespace kisee::net::testing {

ServerOptions TestOptions() {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 2;
  options.drain_timeout = kWait;
  return options;
}

RunningServer::RunningServer(std::shared_ptr<const Router> router, ServerOptions options)
    : server_(std::make_unique<Server>(std::move(options), std::move(router))) {
  auto port = server_->Listen();
  EXPECT_TRUE(port.has_value()) << port.error().message();
  if (!port) return;
  port_ = *port;
  auto started = server_->Start();
  EXPECT_TRUE(started.has_value()) << started.error().message();
}

RunningServer::~RunningServer() { Stop(); }

void RunningServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  server_->Shutdown();
  server_->Wait();
}

RawConnection::RawConnection(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::Send(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void RawConnection::ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

bool RawConnection::Fill(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
}

std::optional<RawResponse> RawConnection::ReadResponse(bool head_request,
                                                       std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!Fill(deadline)) return std::nullopt;
  }
  std::string head = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  RawResponse response;
  std::size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  std::size_t first_space = status_line.find(' ');
  std::size_t second_space = status_line.find(' ', first_space + 1);
  response.version = status_line.substr(0, first_space);
  std::string code = status_line.substr(first_space + 1, second_space - first_space - 1);
  std::from_chars(code.data(), code.data() + code.size(), response.status);
  if (second_space != std::string::npos) response.reason = status_line.substr(second_space + 1);
  std::size_t position = line_end == std::string::npos ? head.size() : line_end + 2;
  while (position < head.size()) {
    std::size_t next = head.find("\r\n", position);
    if (next == std::string::npos) next = head.size();
    std::string line = head.substr(position, next - position);
    std::size_t colon = line.find(':');
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    response.headers.Add(line.substr(0, colon), value);
    position = next + 2;
  }
  std::size_t length = 0;
  if (auto content_length = response.headers.Get("Content-Length");
      content_length && !head_request) {
    std::from_chars(content_length->data(), content_length->data() + content_length->size(),
                    length);
  }
  while (buffer_.size() < length) {
    if (!Fill(deadline)) return std::nullopt;
  }
  response.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return response;
}

bool RawConnection::WaitClosed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n == 0) return true;
    if (n < 0 && errno != EINTR) return errno == ECONNRESET;
  }
}

std::optional<RawResponse> Exchange(std::uint16_t port, std::string_view request_text,
                                    bool head_request) {
  RawConnection connection(port);
  if (!connection.connected() || !connection.Send(request_text)) return std::nullopt;
  return connection.ReadResponse(head_request);
}

std::string SimpleRequest(std::string_view method, std::string_view target,
                          std::string_view extra_headers, std::string_view body) {
  std::string text;
  text.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  text.append(extra_headers);
  if (!body.empty() || method == "POST" || method == "PATCH") {
    text.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  text.append("\r\n").append(body);
  return text;
}

}  // namespace kisee::net::testing
