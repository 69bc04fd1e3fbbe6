// Scopes: authorization names ("admin", "read") carried by certificates in
// their certificatePolicies extension (certified.md §2).
//
// A scope maps to a policy OID without any registry: 2.25.<decimal value of
// the name-based (version 5, SHA-1) UUID of the scope's UTF-8 name in the
// namespace kScopeNamespace>. The policy also carries a userNotice qualifier
// whose explicitText is the scope name, so `openssl x509 -text` shows it; a
// reader accepts a policy only when its OID is the one its text maps to.
//
// kScopeNamespace is itself the version 5 UUID of the name
// "urn:certified:scope" in the RFC 4122 URL namespace
// (6ba7b811-9dad-11d1-80b4-00c04fd430c8).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "kisee/core/error.h"

namespace kisee::pki {

// Uuid is the 16 bytes of a UUID, in network order.
using Uuid = std::array<std::uint8_t, 16>;

// kScopeNamespaceText is the namespace UUID in its usual text form.
inline constexpr std::string_view kScopeNamespaceText = "0a12c59f-d3fc-582e-9f32-9920f14f1f75";

// UuidV5 returns the name-based UUID (RFC 4122 §4.3, SHA-1) of `name` in
// `name_space`.
Uuid UuidV5(const Uuid& name_space, std::string_view name);

// UuidToString prints the 8-4-4-4-12 lowercase text form.
std::string UuidToString(const Uuid& uuid);

// ScopeNamespace returns kScopeNamespace as bytes.
const Uuid& ScopeNamespace();

// ScopeOid returns the policy OID of `scope` ("2.25.<decimal>").
std::string ScopeOid(std::string_view scope);

// ValidateScope accepts a non-empty scope of at most 200 bytes of printable
// UTF-8 without control characters. Errors: kInvalidArgument.
Status ValidateScope(std::string_view scope);

}  // namespace kisee::pki
