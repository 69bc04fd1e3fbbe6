#include "crypto/internal/openssl.h"

#include <openssl/err.h>

#include <string>

namespace kisee::crypto::internal {
namespace {

// A message stays one line: the first few entries say what went wrong, the
// rest of a long queue is usually the same failure reported by each layer.
constexpr int kMaxReasons = 3;

}  // namespace

Error OpenSslError(ErrorCode code, std::string_view context) {
  std::string message(context);
  int reported = 0;
  for (unsigned long packed = ERR_get_error(); packed != 0; packed = ERR_get_error()) {
    if (reported == kMaxReasons) {
      continue;  // keep draining so the queue is empty afterwards
    }
    const char* reason = ERR_reason_error_string(packed);
    message += reported == 0 ? ": " : "; ";
    message += reason != nullptr ? reason : "unknown OpenSSL error";
    ++reported;
  }
  if (reported == 0) {
    message += ": no OpenSSL error reported";
  }
  return Error(code, std::move(message));
}

void ClearOpenSslErrors() { ERR_clear_error(); }

}  // namespace kisee::crypto::internal
