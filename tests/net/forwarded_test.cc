#include "kisee/net/forwarded.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kisee::net {
namespace {

TrustedProxies Trust(std::vector<std::string> entries) {
  auto proxies = TrustedProxies::Parse(entries);
  EXPECT_TRUE(proxies.has_value()) << proxies.error().message();
  return proxies.value_or(TrustedProxies());
}

Request From(std::string peer, std::vector<std::string> forwarded_for) {
  Request request;
  request.remote_address = std::move(peer);
  for (std::string& value : forwarded_for) {
    request.headers.Add("X-Forwarded-For", std::move(value));
  }
  return request;
}

TEST(TrustedProxies, RejectsWhatIsNotAnAddressOrNetwork) {
  for (const char* bad : {"", "localhost", "127.0.0.1/33", "::1/129", "10.0.0.0/", "10.0.0.0/8x",
                          "10.0.0.0/-1", "1.2.3", "1.2.3.4/8/8", "fe80::1%eth0"}) {
    auto proxies = TrustedProxies::Parse({bad});
    ASSERT_FALSE(proxies.has_value()) << bad;
    EXPECT_EQ(proxies.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(TrustedProxies, MatchesAddressesAndNetworksOfBothFamilies) {
  TrustedProxies proxies = Trust({"127.0.0.1", "10.1.0.0/16", "192.168.1.128/25", "fd00::/8"});
  struct Case {
    const char* address;
    bool trusted;
  } cases[] = {
      {"127.0.0.1", true},       {"127.0.0.2", false},      {"10.1.255.7", true},
      {"10.2.0.1", false},       {"192.168.1.200", true},   {"192.168.1.127", false},
      {"fd12:3456::1", true},    {"fe80::1", false},        {"::ffff:127.0.0.1", true},
      {"::ffff:10.1.2.3", true}, {"not an address", false}, {"", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(proxies.Contains(c.address), c.trusted) << c.address;
  }
}

TEST(TrustedProxies, NoneTrustedMeansThePeerIsTheClient) {
  EXPECT_EQ(TrustedProxies().ClientAddress(From("127.0.0.1", {"203.0.113.9"})), "127.0.0.1");
}

TEST(TrustedProxies, AnUntrustedPeerCannotClaimAnotherAddress) {
  TrustedProxies proxies = Trust({"127.0.0.1"});
  EXPECT_EQ(proxies.ClientAddress(From("198.51.100.4", {"203.0.113.9"})), "198.51.100.4");
}

TEST(TrustedProxies, TheClientIsTheNearestUntrustedHop) {
  TrustedProxies proxies = Trust({"127.0.0.1", "10.0.0.0/8"});
  struct Case {
    std::vector<std::string> forwarded_for;
    const char* client;
  } cases[] = {
      {{"203.0.113.9"}, "203.0.113.9"},
      // A client that sends its own header cannot pick the address we use.
      {{"1.1.1.1, 203.0.113.9"}, "203.0.113.9"},
      {{"203.0.113.9, 10.0.0.5"}, "203.0.113.9"},
      {{"1.1.1.1", "203.0.113.9 , 10.0.0.5"}, "203.0.113.9"},
      {{"2001:db8::7"}, "2001:db8::7"},
      // Every hop trusted: the farthest one is the best we know.
      {{"10.0.0.9, 10.0.0.5"}, "10.0.0.9"},
      // Garbage stops the walk at the trusted hop that passed it on.
      {{"203.0.113.9, garbage, 10.0.0.5"}, "10.0.0.5"},
      {{"unknown"}, "127.0.0.1"},
      {{""}, "127.0.0.1"},
      {{}, "127.0.0.1"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(proxies.ClientAddress(From("127.0.0.1", c.forwarded_for)), c.client)
        << (c.forwarded_for.empty() ? "(none)" : c.forwarded_for.front());
  }
}

}  // namespace
}  // namespace kisee::net
