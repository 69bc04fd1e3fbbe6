#include "kisee/net/forwarded.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <optional>

namespace kisee::net {
namespace {

struct Address {
  unsigned char bytes[16];
  bool v4;
};

// ParseAddress reads an IPv4 or IPv6 address; IPv4 becomes ::ffff:a.b.c.d so
// that one comparison serves both families (and an IPv4-mapped peer address,
// as a dual-stack socket reports it, matches an IPv4 network).
std::optional<Address> ParseAddress(std::string_view text) {
  if (text.empty() || text.size() > 45) {
    return std::nullopt;
  }
  char buffer[46];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  Address out{};
  unsigned char v4[4];
  if (inet_pton(AF_INET, buffer, v4) == 1) {
    out.bytes[10] = out.bytes[11] = 0xff;
    std::memcpy(out.bytes + 12, v4, 4);
    out.v4 = true;
    return out;
  }
  if (inet_pton(AF_INET6, buffer, out.bytes) == 1) {
    out.v4 = false;
    return out;
  }
  return std::nullopt;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

Result<TrustedProxies> TrustedProxies::Parse(const std::vector<std::string>& entries) {
  TrustedProxies out;
  for (const std::string& entry : entries) {
    auto bad = [&] {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("'{}' is not an IP address or CIDR network",
                                   entry.size() > 64 ? entry.substr(0, 64) + "..." : entry));
    };
    std::string_view text = entry;
    std::string_view length_text;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
      length_text = text.substr(slash + 1);
      text = text.substr(0, slash);
    }
    std::optional<Address> address = ParseAddress(text);
    if (!address) {
      return bad();
    }
    const int max_length = address->v4 ? 32 : 128;
    int length = max_length;
    if (entry.find('/') != std::string::npos) {
      auto [end, ec] =
          std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
      if (length_text.empty() || ec != std::errc() ||
          end != length_text.data() + length_text.size() || length < 0 || length > max_length) {
        return bad();
      }
    }
    Network network{};
    std::memcpy(network.bytes, address->bytes, 16);
    network.prefix = address->v4 ? 96 + length : length;
    out.networks_.push_back(network);
  }
  return out;
}

bool TrustedProxies::Contains(std::string_view text) const {
  if (networks_.empty()) {
    return false;
  }
  std::optional<Address> address = ParseAddress(text);
  if (!address) {
    return false;
  }
  for (const Network& network : networks_) {
    const int whole = network.prefix / 8;
    const int rest = network.prefix % 8;
    if (std::memcmp(network.bytes, address->bytes, whole) != 0) {
      continue;
    }
    if (rest != 0) {
      const unsigned char mask = static_cast<unsigned char>(0xff00 >> rest);
      if ((network.bytes[whole] & mask) != (address->bytes[whole] & mask)) {
        continue;
      }
    }
    return true;
  }
  return false;
}

std::string TrustedProxies::ClientAddress(const Request& request) const {
  if (!Contains(request.remote_address)) {
    return request.remote_address;
  }
  // Hops are appended on the right, one per proxy; several headers count as
  // one list in their order (RFC 9110 §5.3).
  std::vector<std::string_view> hops;
  for (const HeaderField& field : request.headers) {
    if (!EqualsIgnoreCase(field.name, "X-Forwarded-For")) {
      continue;
    }
    std::string_view value = field.value;
    while (!value.empty()) {
      const std::size_t comma = value.find(',');
      hops.push_back(Trim(value.substr(0, comma)));
      value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    }
  }
  std::string client = request.remote_address;
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    if (!ParseAddress(*hop)) {
      break;  // garbage: believe no further than the proxy that passed it on
    }
    client = std::string(*hop);
    if (!Contains(*hop)) {
      break;
    }
  }
  return client;
}

}  // namespace kisee::net
