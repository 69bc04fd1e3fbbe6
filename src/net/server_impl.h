// The server's insides, shared with the HTTP client (which runs on the
// server's io_context). Only src/net sees Boost.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
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
  // CheckDeadline enforces the connection's timeouts; called on its event
  // loop by the periodic sweep.
  virtual void CheckDeadline(std::chrono::steady_clock::time_point now) = 0;

  std::list<SessionBase*>::iterator registry_position;
};

}  // namespace internal

class Server::Impl {
 public:
  // Socket is a TCP socket bound to one event loop (a concrete executor
  // type: no type-erased executor on the hot path).
  using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp,
                                                  boost::asio::io_context::executor_type>;
  using Timer =
      boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                        boost::asio::wait_traits<std::chrono::steady_clock>,
                                        boost::asio::io_context::executor_type>;

  // Loop is one event loop: an io_context run by exactly one thread, so
  // that a connection's handlers never hop threads and need no strand.
  using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp,
                                                      boost::asio::io_context::executor_type>;

  // LoopContext is an io_context whose pending work can be destroyed ahead
  // of the context itself (execution_context::shutdown is protected).
  class LoopContext : public boost::asio::io_context {
   public:
    explicit LoopContext(int concurrency_hint) : io_context(concurrency_hint) {}
    // DestroyPendingWork destroys the handlers still queued (and what they
    // own); the context stays usable for destructors that deregister.
    void DestroyPendingWork() { shutdown(); }
  };

  struct Loop {
    Loop()
        : context(1),
          sweeper(context.get_executor()),
          acceptor(context.get_executor()),
          accept_retry(context.get_executor()) {}
    LoopContext context;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
    // The deadline sweep: one timer per loop instead of one per operation.
    Timer sweeper;
    std::vector<std::weak_ptr<internal::SessionBase>> sessions;  // this loop's thread only
    // Every loop accepts on its own descriptor of the listening socket: the
    // loop that is free takes the connection and serves it, no handoff.
    Acceptor acceptor;
    Timer accept_retry;
  };

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

  // NextContext returns the event loop for new client work: the calling
  // thread's own loop when it is one of this server's threads (no thread
  // hop), else the next loop round-robin.
  // Null when the server could not create its loops (see Listen's error).
  boost::asio::io_context* NextContext();
  const ServerOptions& options() const { return options_; }
  const Router& router() const { return *router_; }

  // Register / Unregister track live connections (for the shutdown and the
  // connection limit). Thread-safe.
  void Register(internal::SessionBase* session);
  void Unregister(internal::SessionBase* session);

 private:
  void DoAccept(Loop& loop);
  void OnAccept(boost::system::error_code ec, Socket socket, Loop& loop);
  void Sweep(Loop& loop);
  void Refuse(Socket socket, bool tls);
  void WaitForSignal();
  void BeginShutdown();
  void StopLoops();
  void RunThread(std::size_t index);

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
  std::atomic<std::size_t> next_loop_{0};
  std::optional<Error> init_error_;  // the loops could not be created

  // The Asio objects come last so that they are destroyed first: an
  // io_context's destructor destroys pending handlers, which may own
  // sessions whose destructors still use the members above. The drain timer
  // and the signals live on loop 0 and go before the loops.
  std::vector<std::unique_ptr<Loop>> loops_;

  std::optional<Timer> drain_timer_;
  std::optional<boost::asio::basic_signal_set<boost::asio::io_context::executor_type>> signals_;
};

}  // namespace kisee::net
