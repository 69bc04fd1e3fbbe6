// The server's insides, shared with the HTTP client (which runs on the
// server's io_context). Only src/net sees Boost.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "kisee/net/server.h"

namespace kisee::net {

namespace internal {

// SessionBase is what the server needs of a connection to shut it down.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;
  // BeginShutdown asks the connection (on its own strand) to finish the
  // requests it has received and close; idle connections close at once.
  virtual void BeginShutdown() = 0;

  std::list<SessionBase*>::iterator registry_position;
};

}  // namespace internal

class Server::Impl {
 public:
  Impl(ServerOptions options, std::shared_ptr<const Router> router);
  ~Impl();

  Result<std::uint16_t> Listen();
  Status HandleSignals(std::function<void()> on_hangup);
  Status Start();
  void Wait();
  void Shutdown();
  void SetTlsContext(std::shared_ptr<const TlsServerContext> context);
  std::uint16_t port() const { return port_.load(); }
  std::size_t connection_count() const { return connections_.load(); }

  boost::asio::io_context& io_context() { return io_context_; }
  const ServerOptions& options() const { return options_; }
  const Router& router() const { return *router_; }

  // Register / Unregister track live connections (for the shutdown and the
  // connection limit). Thread-safe.
  void Register(internal::SessionBase* session);
  void Unregister(internal::SessionBase* session);

 private:
  void DoAccept();
  void OnAccept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);
  void Refuse(boost::asio::ip::tcp::socket socket, bool tls);
  void WaitForSignal();
  void BeginShutdown();
  void RunThread();

  const ServerOptions options_;
  const std::shared_ptr<const Router> router_;

  mutable std::mutex tls_mutex_;
  std::shared_ptr<const TlsServerContext> tls_;  // guarded by tls_mutex_

  std::mutex sessions_mutex_;
  std::list<internal::SessionBase*> sessions_;  // guarded by sessions_mutex_
  std::atomic<std::size_t> connections_{0};
  std::atomic<bool> draining_{false};
  std::atomic<bool> started_{false};
  std::atomic<bool> destroying_{false};
  std::atomic<std::uint16_t> port_{0};
  std::function<void()> on_hangup_;
  std::vector<std::thread> threads_;
  int thread_count_;

  // The Asio objects come last so that they are destroyed first: the
  // io_context's destructor destroys pending handlers, which may own
  // sessions whose destructors still use the members above.
  boost::asio::io_context io_context_;
  boost::asio::strand<boost::asio::io_context::executor_type> acceptor_strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_timer_;
  boost::asio::steady_timer drain_timer_;
  std::optional<boost::asio::signal_set> signals_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
};

}  // namespace kisee::net
