#include "net/openssl_util.h"

#include <climits>

namespace kisee::net::internal {

std::string DrainOpenSslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(code);
    if (!out.empty()) out += "; ";
    if (reason != nullptr) {
      out += reason;
    } else {
      char buffer[256];
      ERR_error_string_n(code, buffer, sizeof(buffer));
      out += buffer;
    }
  }
  return out;
}

UniquePtr<BIO> MemoryBio(std::string_view data) {
  // BIO_new_mem_buf takes an int length; PEM inputs are far below INT_MAX,
  // anything bigger gets an empty BIO and fails to parse.
  int length = data.size() > static_cast<std::size_t>(INT_MAX) ? 0 : static_cast<int>(data.size());
  return UniquePtr<BIO>(BIO_new_mem_buf(data.data(), length));
}

}  // namespace kisee::net::internal
