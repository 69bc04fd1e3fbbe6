// X.509 distinguished names and their RFC 4514 text form, as certified
// writes them (they become file names: id/<name>.crt).
//
// Text form: RDNs in reverse order (most specific first), attributes of a
// multi-valued RDN joined by '+', short names for CN L ST O OU C STREET DC
// UID and P (pseudonym) DQ S (serialNumber) E (emailAddress) T (title) SUR
// (surname) NAME (givenName) IN (initials) GEN (generationQualifier), other
// attribute types as dotted OIDs. Escaped: \ " + , ; < > and NUL, a leading
// '#' or space, a trailing space.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kisee/core/bytes.h"
#include "kisee/core/error.h"

namespace kisee::pki {

// Well-known attribute type OIDs (dotted).
inline constexpr std::string_view kOidCommonName = "2.5.4.3";
inline constexpr std::string_view kOidUserId = "0.9.2342.19200300.100.1.1";
inline constexpr std::string_view kOidPseudonym = "2.5.4.65";
inline constexpr std::string_view kOidDomainComponent = "0.9.2342.19200300.100.1.25";

// NameAttribute is one type=value pair. `value` is UTF-8 text; for values
// that are not character strings it is "#" followed by the hex of their
// content octets (then `binary` is true).
struct NameAttribute {
  std::string oid;  // dotted, e.g. "2.5.4.3"
  std::string value;
  // asn1_tag: the ASN.1 string type used in DER (V_ASN1_UTF8STRING ...);
  // 0 lets the encoder choose (PrintableString for C, S and DQ, IA5String
  // for E and DC, UTF8String otherwise).
  int asn1_tag = 0;
  bool binary = false;
  bool operator==(const NameAttribute&) const = default;
};

// A relative distinguished name: one or more attributes.
using Rdn = std::vector<NameAttribute>;

// Name is a distinguished name: RDNs in X.509 (DER) order, most general
// first. A plain value; thread-compatible.
class Name {
 public:
  Name() = default;

  // FromRfc4514 parses the text form (see the file comment). Attribute types
  // are short names (any case) or dotted OIDs; values may use '\' escapes of
  // special characters or of hex pairs (UTF-8 bytes), or '#'+hex (BER).
  // Spaces after ',' or '+' are skipped. Errors: kInvalidArgument.
  static Result<Name> FromRfc4514(std::string_view text);

  // FromDer parses a DER Name. Errors: kInvalidArgument.
  static Result<Name> FromDer(ByteView der);

  // ToRfc4514 returns the text form; it is the same string the original
  // Python tool (cryptography's rfc4514_string with certified's short names)
  // produces for the same name. Like it, values that are not character
  // strings print as "#" + the hex of their content (not of their BER), so
  // such names do not parse back to the same attributes.
  std::string ToRfc4514() const;

  // ToDer encodes the name. Errors: kInvalidArgument for an attribute value
  // its string type cannot carry (e.g. non-ASCII in a PrintableString).
  Result<Bytes> ToDer() const;

  // Add appends a single-attribute RDN. `type` is a short name or a dotted
  // OID. Empty values are skipped (certified.md §2: "Empty values are
  // skipped"). Errors: kInvalidArgument for an unknown short name.
  Status Add(std::string_view type, std::string_view value);

  // Last returns the value of the last attribute of type `oid`, if any.
  std::optional<std::string> Last(std::string_view oid) const;

  // rdns returns the RDNs in DER order (borrowed); mutable_rdns edits them.
  const std::vector<Rdn>& rdns() const { return rdns_; }
  std::vector<Rdn>& mutable_rdns() { return rdns_; }
  // empty tells whether the name has no RDN (an empty subject).
  bool empty() const { return rdns_.empty(); }

  // Two names are equal when their attributes (types, values, order) are;
  // string types are ignored.
  friend bool operator==(const Name& a, const Name& b);

 private:
  std::vector<Rdn> rdns_;
};

// PersonName builds a person's name (certified.md §2): CN, UID, P, C, ST, L,
// then one DC per label of `domain` ("a.b" gives DC=a, DC=b). Empty values
// are skipped.
Name PersonName(std::string_view name, std::string_view uid, std::string_view pseudonym,
                std::string_view country, std::string_view state, std::string_view city,
                std::string_view domain);

// OrgName builds an organisation's name: O, OU, CN, P, C, ST, L, DC...
Name OrgName(std::string_view org, std::string_view unit, std::string_view common_name,
             std::string_view pseudonym, std::string_view country, std::string_view state,
             std::string_view city, std::string_view domain);

// WithPseudonym returns `name` with an RDN P=`pseudonym` appended (the
// signing certificate's name is the entity's + "P=Signing Certificate").
Name WithPseudonym(const Name& name, std::string_view pseudonym);

// kSigningPseudonym is the pseudonym of every certified CA certificate.
inline constexpr std::string_view kSigningPseudonym = "Signing Certificate";

// ShortNameOf returns the RFC 4514 short name for a dotted OID, or "" if the
// OID has none.
std::string_view ShortNameOf(std::string_view oid);

}  // namespace kisee::pki
