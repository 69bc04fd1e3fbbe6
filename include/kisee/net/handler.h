// Handlers: what the application plugs into the router. A handler receives a
// Request and a Responder it calls exactly once, from any thread, so that
// slow work (password hashing, database calls) runs on worker pools while
// the I/O threads keep serving.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <utility>

#include "kisee/net/http.h"

namespace kisee::net {

namespace internal {

// ResponderState is the shared state behind the copies of one Responder. The
// server (and MakeResponder) derive from it. Thread-safe.
class ResponderState {
 public:
  virtual ~ResponderState() = default;
  // Claim returns true exactly once over the lifetime of the state.
  bool Claim() { return !claimed_.exchange(true, std::memory_order_acq_rel); }
  bool claimed() const { return claimed_.load(std::memory_order_acquire); }
  // Deliver hands over the response; called at most once, after Claim().
  virtual void Deliver(Response response) = 0;

 private:
  std::atomic<bool> claimed_{false};
};

}  // namespace internal

// Responder delivers the response to one request. Copyable (so it fits in a
// std::function); every copy shares one state: the first call wins and later
// calls are ignored. Calling it from any thread is safe; the server carries
// the response back to the connection's I/O thread. If every copy is
// destroyed without a call, the server answers 500 (a bug, not a hang).
// The Request handed to the handler stays valid until the Responder is
// called; do not touch it afterwards.
// WARNING: a Responder must not outlive the Server that made it: stop worker
// pools that hold responders before destroying the Server.
class Responder {
 public:
  // REQUIRES: state != nullptr.
  explicit Responder(std::shared_ptr<internal::ResponderState> state) : state_(std::move(state)) {}

  // operator() sends `response`, unless a response was already sent.
  void operator()(Response response) const {
    if (state_->Claim()) state_->Deliver(std::move(response));
  }
  // responded tells whether some copy of this responder was called.
  bool responded() const { return state_->claimed(); }

 private:
  std::shared_ptr<internal::ResponderState> state_;
};

// MakeResponder returns a Responder that passes the response to `callback`
// (on the calling thread). If no copy is ever called, `callback` receives a
// 500 problem when the last copy dies. For tests of handlers and for
// adapters; the server makes its own.
Responder MakeResponder(std::function<void(Response)> callback);

// Handler is an asynchronous request handler. It runs on an I/O thread and
// must not block: slow work goes to a worker pool that later calls the
// Responder. An exception escaping a handler is caught and answered 500.
using Handler = std::function<void(const Request&, Responder)>;

// SyncHandler computes the response at once, on the I/O thread. For cheap
// handlers only (no hashing, no database round trip).
using SyncHandler = std::function<Response(const Request&)>;

// FromSync adapts a SyncHandler into a Handler.
Handler FromSync(SyncHandler handler);

}  // namespace kisee::net
