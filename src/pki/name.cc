#include "kisee/pki/name.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "pki/internal/pki.h"

namespace kisee::pki {
namespace {

using internal::OpenSslError;
using internal::UniquePtr;

struct ShortName {
  std::string_view name;
  std::string_view oid;
};

// The names of certified.md §1: cryptography's defaults plus the overrides
// the original passes to rfc4514_string.
constexpr std::array<ShortName, 18> kShortNames = {{
    {"CN", "2.5.4.3"},
    {"L", "2.5.4.7"},
    {"ST", "2.5.4.8"},
    {"O", "2.5.4.10"},
    {"OU", "2.5.4.11"},
    {"C", "2.5.4.6"},
    {"STREET", "2.5.4.9"},
    {"DC", "0.9.2342.19200300.100.1.25"},
    {"UID", "0.9.2342.19200300.100.1.1"},
    {"P", "2.5.4.65"},
    {"DQ", "2.5.4.46"},
    {"S", "2.5.4.5"},
    {"E", "1.2.840.113549.1.9.1"},
    {"T", "2.5.4.12"},
    {"SUR", "2.5.4.4"},
    {"NAME", "2.5.4.42"},
    {"IN", "2.5.4.43"},
    {"GEN", "2.5.4.44"},
}};

std::string_view OidOfShortName(std::string_view name) {
  for (const auto& entry : kShortNames) {
    if (entry.name.size() == name.size() &&
        std::equal(name.begin(), name.end(), entry.name.begin(), [](char a, char b) {
          return std::toupper(static_cast<unsigned char>(a)) == b;
        })) {
      return entry.oid;
    }
  }
  return {};
}

bool IsDottedOid(std::string_view text) {
  if (text.empty() || text.front() == '.' || text.back() == '.') return false;
  bool previous_dot = false;
  int dots = 0;
  for (char c : text) {
    if (c == '.') {
      if (previous_dot) return false;
      previous_dot = true;
      ++dots;
    } else if (c >= '0' && c <= '9') {
      previous_dot = false;
    } else {
      return false;
    }
  }
  return dots >= 1;
}

// DefaultTag mirrors the string types cryptography (and so the original)
// writes: PrintableString for country, serialNumber and dnQualifier,
// IA5String for emailAddress and domainComponent, UTF8String otherwise. A
// value the narrow type cannot carry falls back to UTF8String.
int DefaultTag(std::string_view oid, std::string_view value) {
  auto all = [&](auto predicate) { return std::all_of(value.begin(), value.end(), predicate); };
  if (oid == "2.5.4.6" || oid == "2.5.4.5" || oid == "2.5.4.46") {
    bool printable = all([](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) ||
             std::string_view(" '()+,-./:=?").find(c) != std::string_view::npos;
    });
    if (printable) return V_ASN1_PRINTABLESTRING;
  }
  if (oid == "1.2.840.113549.1.9.1" || oid == "0.9.2342.19200300.100.1.25") {
    if (all([](char c) { return static_cast<unsigned char>(c) < 0x80; })) return V_ASN1_IA5STRING;
  }
  return V_ASN1_UTF8STRING;
}

bool IsCharacterStringTag(int tag) {
  switch (tag) {
    case V_ASN1_UTF8STRING:
    case V_ASN1_PRINTABLESTRING:
    case V_ASN1_IA5STRING:
    case V_ASN1_T61STRING:
    case V_ASN1_BMPSTRING:
    case V_ASN1_UNIVERSALSTRING:
    case V_ASN1_VISIBLESTRING:
    case V_ASN1_NUMERICSTRING:
      return true;
    default:
      return false;
  }
}

// Escape follows RFC 4514 §2.4 exactly as cryptography does (so file names
// match the original's), except that a value of one space becomes "\ ".
std::string Escape(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 4);
  for (char c : value) {
    switch (c) {
      case '\\':
      case '"':
      case '+':
      case ',':
      case ';':
      case '<':
      case '>':
        out += '\\';
        out += c;
        break;
      case '\0':
        out += "\\00";
        break;
      default:
        out += c;
    }
  }
  if (!out.empty() && (out.front() == '#' || out.front() == ' ')) out.insert(out.begin(), '\\');
  // Decided on the value, not on the escaped text: the value `x\<space>`
  // (x, backslash, space) is `x\\<space>` by now, and its space still needs
  // its own escape. A value of one space was escaped as a leading space above.
  if (value.size() >= 2 && value.back() == ' ') out.insert(out.end() - 1, '\\');
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ValidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    if (c >= 0x80) {
      if ((c >> 5) == 6) {
        extra = 1;
      } else if ((c >> 4) == 14) {
        extra = 2;
      } else if ((c >> 3) == 30) {
        extra = 3;
      } else {
        return false;
      }
    }
    for (std::size_t k = 1; k <= extra; ++k) {
      if (i + k >= text.size() || (static_cast<unsigned char>(text[i + k]) >> 6) != 2) return false;
    }
    i += extra + 1;
  }
  return true;
}

std::unexpected<Error> Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

// ParseHexValue reads "#<hex>" (the BER encoding of the value).
Result<NameAttribute> ParseHexValue(std::string oid, std::string_view hex) {
  if (hex.size() % 2 != 0 || hex.empty()) return Invalid("invalid hex value in name");
  Bytes ber;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]);
    int lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return Invalid("invalid hex value in name");
    ber.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  const unsigned char* cursor = ber.data();
  UniquePtr<ASN1_STRING> parsed;
  ASN1_TYPE* any = d2i_ASN1_TYPE(nullptr, &cursor, static_cast<long>(ber.size()));
  if (any == nullptr || cursor != ber.data() + ber.size()) {
    ASN1_TYPE_free(any);
    crypto::internal::ClearOpenSslErrors();
    return Invalid("invalid BER value in name");
  }
  NameAttribute attribute;
  attribute.oid = std::move(oid);
  int type = ASN1_TYPE_get(any);
  if (IsCharacterStringTag(type)) {
    auto text = internal::Asn1StringToUtf8(any->value.asn1_string);
    ASN1_TYPE_free(any);
    if (!text) return std::unexpected(text.error());
    attribute.value = std::move(*text);
    attribute.asn1_tag = type;
    return attribute;
  }
  if (type == V_ASN1_BOOLEAN || type == V_ASN1_NULL || type == V_ASN1_OBJECT ||
      type == V_ASN1_SEQUENCE || type == V_ASN1_SET || type == V_ASN1_OTHER) {
    ASN1_TYPE_free(any);
    return Invalid("unsupported BER value type in name");
  }
  const ASN1_STRING* content = any->value.asn1_string;
  attribute.value =
      "#" + HexEncode(ByteView(ASN1_STRING_get0_data(content),
                               static_cast<std::size_t>(ASN1_STRING_length(content))));
  attribute.asn1_tag = type;
  attribute.binary = true;
  ASN1_TYPE_free(any);
  return attribute;
}

}  // namespace

std::string_view ShortNameOf(std::string_view oid) {
  for (const auto& entry : kShortNames) {
    if (entry.oid == oid) return entry.name;
  }
  return {};
}

Result<Name> Name::FromRfc4514(std::string_view text) {
  Name name;
  std::vector<Rdn> reversed;
  Rdn current;
  std::size_t i = 0;
  auto skip_spaces = [&] {
    while (i < text.size() && text[i] == ' ') ++i;
  };
  skip_spaces();
  if (i == text.size()) return name;
  for (;;) {
    skip_spaces();
    std::size_t type_start = i;
    while (i < text.size() && text[i] != '=') ++i;
    if (i == text.size()) return Invalid("missing '=' in name");
    std::string_view type = text.substr(type_start, i - type_start);
    while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
    ++i;  // '='
    std::string oid;
    if (auto known = OidOfShortName(type); !known.empty()) {
      oid = std::string(known);
    } else {
      std::string_view dotted = type;
      if (dotted.size() > 4 && (dotted.substr(0, 4) == "OID." || dotted.substr(0, 4) == "oid.")) {
        dotted.remove_prefix(4);
      }
      if (!IsDottedOid(dotted)) {
        return Invalid("unknown attribute type \"" + std::string(type) + "\" in name");
      }
      oid = std::string(dotted);
    }
    NameAttribute attribute;
    if (i < text.size() && text[i] == '#') {
      std::size_t start = ++i;
      while (i < text.size() && text[i] != ',' && text[i] != '+') ++i;
      std::string_view hex = text.substr(start, i - start);
      while (!hex.empty() && hex.back() == ' ') hex.remove_suffix(1);
      KISEE_ASSIGN_OR_RETURN(attribute, ParseHexValue(oid, hex));
    } else {
      std::string value;
      std::size_t keep = 0;  // length of value up to the last escaped character
      while (i < text.size() && text[i] != ',' && text[i] != '+') {
        char c = text[i];
        if (c == '\\') {
          if (i + 1 >= text.size()) return Invalid("dangling '\\' in name");
          char next = text[i + 1];
          int hi = HexValue(next);
          if (hi >= 0 && i + 2 < text.size() && HexValue(text[i + 2]) >= 0) {
            value += static_cast<char>(hi * 16 + HexValue(text[i + 2]));
            i += 3;
          } else if (std::string_view(",=+<>#;\\\" ").find(next) != std::string_view::npos) {
            value += next;
            i += 2;
          } else {
            return Invalid("invalid escape in name");
          }
          keep = value.size();
          continue;
        }
        value += c;
        ++i;
      }
      // Unescaped trailing spaces are not part of the value (RFC 4514 §3).
      while (value.size() > keep && value.back() == ' ') value.pop_back();
      if (!ValidUtf8(value)) return Invalid("name value is not UTF-8");
      attribute.oid = oid;
      attribute.value = std::move(value);
    }
    current.push_back(std::move(attribute));
    if (i == text.size()) {
      reversed.push_back(std::move(current));
      break;
    }
    if (text[i] == ',') {
      reversed.push_back(std::move(current));
      current.clear();
    }
    ++i;
    if (i == text.size()) return Invalid("name ends with a separator");
  }
  name.rdns_.assign(reversed.rbegin(), reversed.rend());
  return name;
}

Result<Name> Name::FromDer(ByteView der) {
  const unsigned char* cursor = der.data();
  UniquePtr<X509_NAME> parsed(d2i_X509_NAME(nullptr, &cursor, static_cast<long>(der.size())));
  if (!parsed || cursor != der.data() + der.size()) {
    return std::unexpected(OpenSslError(ErrorCode::kInvalidArgument, "invalid DER name"));
  }
  return internal::NameFromX509(parsed.get());
}

std::string Name::ToRfc4514() const {
  std::string out;
  for (auto rdn = rdns_.rbegin(); rdn != rdns_.rend(); ++rdn) {
    if (!out.empty()) out += ',';
    bool first = true;
    for (const auto& attribute : *rdn) {
      if (!first) out += '+';
      first = false;
      std::string_view short_name = ShortNameOf(attribute.oid);
      out += short_name.empty() ? attribute.oid : std::string(short_name);
      out += '=';
      out += attribute.binary ? attribute.value : Escape(attribute.value);
    }
  }
  return out;
}

Result<Bytes> Name::ToDer() const {
  KISEE_ASSIGN_OR_RETURN(auto x509_name, internal::NameToX509(*this));
  return internal::DerOf(x509_name.get(), i2d_X509_NAME);
}

Status Name::Add(std::string_view type, std::string_view value) {
  if (value.empty()) return Ok();
  std::string oid;
  if (auto known = OidOfShortName(type); !known.empty()) {
    oid = std::string(known);
  } else if (IsDottedOid(type)) {
    oid = std::string(type);
  } else {
    return Invalid("unknown attribute type \"" + std::string(type) + "\"");
  }
  rdns_.push_back(Rdn{NameAttribute{std::move(oid), std::string(value)}});
  return Ok();
}

std::optional<std::string> Name::Last(std::string_view oid) const {
  std::optional<std::string> found;
  for (const auto& rdn : rdns_) {
    for (const auto& attribute : rdn) {
      if (attribute.oid == oid) found = attribute.value;
    }
  }
  return found;
}

bool operator==(const Name& a, const Name& b) {
  if (a.rdns_.size() != b.rdns_.size()) return false;
  for (std::size_t i = 0; i < a.rdns_.size(); ++i) {
    const Rdn& x = a.rdns_[i];
    const Rdn& y = b.rdns_[i];
    if (x.size() != y.size()) return false;
    for (std::size_t k = 0; k < x.size(); ++k) {
      if (x[k].oid != y[k].oid || x[k].value != y[k].value) return false;
    }
  }
  return true;
}

namespace {

void AddDomain(Name& name, std::string_view domain) {
  while (!domain.empty()) {
    std::size_t dot = domain.find('.');
    std::string_view label = domain.substr(0, dot);
    (void)name.Add("DC", label);
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
}

}  // namespace

Name PersonName(std::string_view name, std::string_view uid, std::string_view pseudonym,
                std::string_view country, std::string_view state, std::string_view city,
                std::string_view domain) {
  Name out;
  (void)out.Add("CN", name);
  (void)out.Add("UID", uid);
  (void)out.Add("P", pseudonym);
  (void)out.Add("C", country);
  (void)out.Add("ST", state);
  (void)out.Add("L", city);
  AddDomain(out, domain);
  return out;
}

Name OrgName(std::string_view org, std::string_view unit, std::string_view common_name,
             std::string_view pseudonym, std::string_view country, std::string_view state,
             std::string_view city, std::string_view domain) {
  Name out;
  (void)out.Add("O", org);
  (void)out.Add("OU", unit);
  (void)out.Add("CN", common_name);
  (void)out.Add("P", pseudonym);
  (void)out.Add("C", country);
  (void)out.Add("ST", state);
  (void)out.Add("L", city);
  AddDomain(out, domain);
  return out;
}

Name WithPseudonym(const Name& name, std::string_view pseudonym) {
  Name out = name;
  (void)out.Add("P", pseudonym);
  return out;
}

namespace internal {

Result<std::string> Asn1StringToUtf8(const ASN1_STRING* text) {
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, text);
  if (length < 0) {
    return std::unexpected(OpenSslError(ErrorCode::kInvalidArgument, "invalid character string"));
  }
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return out;
}

Result<UniquePtr<X509_NAME>> NameToX509(const Name& name) {
  UniquePtr<X509_NAME> out(X509_NAME_new());
  if (!out) return std::unexpected(OpenSslError(ErrorCode::kInternal, "X509_NAME_new"));
  for (const Rdn& rdn : name.rdns()) {
    bool first = true;
    for (const NameAttribute& attribute : rdn) {
      UniquePtr<ASN1_OBJECT> object(OBJ_txt2obj(attribute.oid.c_str(), 1));
      if (!object) {
        return std::unexpected(OpenSslError(ErrorCode::kInvalidArgument, "invalid attribute OID"));
      }
      Bytes content;
      int tag = attribute.asn1_tag;
      if (attribute.binary) {
        auto decoded = HexDecode(std::string_view(attribute.value).substr(1));
        if (!decoded) return Invalid("invalid binary name value");
        content = std::move(*decoded);
      } else {
        if (tag == 0) tag = DefaultTag(attribute.oid, attribute.value);
        if (tag == V_ASN1_BMPSTRING || tag == V_ASN1_UNIVERSALSTRING || tag == V_ASN1_T61STRING) {
          // Re-encoding these needs a conversion; UTF8String carries the same text.
          tag = V_ASN1_UTF8STRING;
        }
        content = ToBytes(attribute.value);
      }
      if (X509_NAME_add_entry_by_OBJ(out.get(), object.get(), tag, content.data(),
                                     static_cast<int>(content.size()), -1, first ? 0 : -1) != 1) {
        return std::unexpected(OpenSslError(ErrorCode::kInvalidArgument, "invalid name attribute"));
      }
      first = false;
    }
  }
  return out;
}

Result<Name> NameFromX509(const X509_NAME* x509_name) {
  Name name;
  auto& rdns = name.mutable_rdns();
  int count = X509_NAME_entry_count(x509_name);
  int previous_set = -1;
  for (int i = 0; i < count; ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(x509_name, i);
    int set = X509_NAME_ENTRY_set(entry);
    NameAttribute attribute;
    char oid[128];
    int oid_length = OBJ_obj2txt(oid, sizeof(oid), X509_NAME_ENTRY_get_object(entry), 1);
    if (oid_length <= 0 || oid_length >= static_cast<int>(sizeof(oid))) {
      return Invalid("invalid attribute OID in name");
    }
    attribute.oid = oid;
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(entry);
    int type = ASN1_STRING_type(data);
    attribute.asn1_tag = type;
    if (IsCharacterStringTag(type)) {
      KISEE_ASSIGN_OR_RETURN(attribute.value, Asn1StringToUtf8(data));
    } else {
      attribute.binary = true;
      attribute.value =
          "#" + HexEncode(ByteView(ASN1_STRING_get0_data(data),
                                   static_cast<std::size_t>(ASN1_STRING_length(data))));
    }
    if (set != previous_set || rdns.empty()) {
      rdns.emplace_back();
      previous_set = set;
    }
    rdns.back().push_back(std::move(attribute));
  }
  return name;
}

}  // namespace internal
}  // namespace kisee::pki
