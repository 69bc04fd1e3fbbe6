#include "kisee/net/handler.h"

#include <exception>
#include <utility>

namespace kisee::net {
namespace {

class CallbackState final : public internal::ResponderState {
 public:
  explicit CallbackState(std::function<void(Response)> callback) : callback_(std::move(callback)) {}

  // A handler that drops its responder must still produce an answer, or the
  // caller would wait forever.
  ~CallbackState() override {
    if (Claim()) Deliver(Response::Problem(500));
  }

  void Deliver(Response response) override {
    try {
      callback_(std::move(response));
    } catch (...) {
      // The destructor may deliver; nothing may escape it.
    }
  }

 private:
  std::function<void(Response)> callback_;
};

}  // namespace

Responder MakeResponder(std::function<void(Response)> callback) {
  return Responder(std::make_shared<CallbackState>(std::move(callback)));
}

Handler FromSync(SyncHandler handler) {
  return [handler = std::move(handler)](const Request& request, Responder responder) {
    responder(handler(request));
  };
}

}  // namespace kisee::net
