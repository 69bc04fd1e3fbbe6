// The client behind a reverse proxy: which address a request really comes
// from when trusted proxies (nginx in front of kisee) add X-Forwarded-For.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kisee/core/error.h"
#include "kisee/net/http.h"

namespace kisee::net {

// TrustedProxies is a set of IPv4/IPv6 networks whose X-Forwarded-For is
// believed. Immutable once made; safe for concurrent use.
class TrustedProxies {
 public:
  // An empty set: no proxy is trusted, the peer is always the client.
  TrustedProxies() = default;

  // Parse takes addresses ("127.0.0.1", "::1") and CIDR networks
  // ("10.0.0.0/8", "fd00::/8"). Errors: kInvalidArgument naming the first
  // entry that is neither.
  static Result<TrustedProxies> Parse(const std::vector<std::string>& entries);

  // Contains tells whether `address` (text form) lies in one of the
  // networks; text that is not an IP address is never contained.
  bool Contains(std::string_view address) const;

  // ClientAddress is `request.remote_address` unless that peer is trusted;
  // then it walks X-Forwarded-For (every such header, in order) from the
  // right, skipping trusted hops, and returns the first address that is not
  // trusted: the nearest one that no trusted proxy can have forged. An entry
  // that is not an IP address stops the walk at the hop that added it.
  std::string ClientAddress(const Request& request) const;

  bool empty() const { return networks_.empty(); }

 private:
  struct Network {
    unsigned char bytes[16];  // IPv4 as IPv4-mapped IPv6
    int prefix;               // bits, of the 128
  };
  std::vector<Network> networks_;
};

}  // namespace kisee::net
