#include "kisee/pki/certificate.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <charconv>
#include <ctime>

#include "crypto/internal/evp_key.h"
#include "kisee/pki/scope.h"
#include "pki/internal/pki.h"

namespace kisee::pki {
namespace {

using crypto::internal::ClearOpenSslErrors;
using internal::OpenSslError;
using internal::UniquePtr;

constexpr Base64Options kB64DerOptions = {
    .alphabet = Base64Alphabet::kUrl,
    .padding = Base64Padding::kRequired,
    .accept_both_alphabets = true,
};

std::unexpected<Error> Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

// A passphrase callback that refuses (no prompt on the terminal).
int NoPassphrase(char*, int, int, void*) { return -1; }

UniquePtr<BIO> ReadBio(std::string_view text) {
  return UniquePtr<BIO>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Ipv4Network parses "a.b.c.d/len" or "x::/len" whose host bits are zero
// (as Python's ip_network, which the original uses).
std::optional<Bytes> ParseNetwork(std::string_view text) {
  std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string address(text.substr(0, slash));
  std::string_view prefix_text = text.substr(slash + 1);
  unsigned prefix = 0;
  auto [end, ec] =
      std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), prefix);
  if (ec != std::errc() || end != prefix_text.data() + prefix_text.size() || prefix_text.empty()) {
    return std::nullopt;
  }
  std::uint8_t raw[16];
  std::size_t size = 0;
  if (inet_pton(AF_INET, address.c_str(), raw) == 1) {
    size = 4;
  } else if (inet_pton(AF_INET6, address.c_str(), raw) == 1) {
    size = 16;
  } else {
    return std::nullopt;
  }
  if (prefix > size * 8) return std::nullopt;
  Bytes out(raw, raw + size);
  Bytes mask(size, 0);
  for (std::size_t bit = 0; bit < prefix; ++bit)
    mask[bit / 8] |= static_cast<std::uint8_t>(0x80 >> (bit % 8));
  for (std::size_t i = 0; i < size; ++i) {
    if ((out[i] & ~mask[i]) != 0) return std::nullopt;  // host bits set
  }
  out.insert(out.end(), mask.begin(), mask.end());
  return out;
}

std::optional<Bytes> ParseIp(std::string_view text) {
  std::string address(text);
  std::uint8_t raw[16];
  if (inet_pton(AF_INET, address.c_str(), raw) == 1) return Bytes(raw, raw + 4);
  if (inet_pton(AF_INET6, address.c_str(), raw) == 1) return Bytes(raw, raw + 16);
  return std::nullopt;
}

std::string IpToText(ByteView raw) {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (raw.size() == 4 || raw.size() == 16) {
    inet_ntop(raw.size() == 4 ? AF_INET : AF_INET6, raw.data(), buffer, sizeof(buffer));
    return buffer;
  }
  if (raw.size() == 8 || raw.size() == 32) {
    std::size_t half = raw.size() / 2;
    inet_ntop(half == 4 ? AF_INET : AF_INET6, raw.data(), buffer, sizeof(buffer));
    int prefix = 0;
    for (std::size_t i = half; i < raw.size(); ++i) {
      for (int bit = 7; bit >= 0; --bit) {
        if ((raw[i] >> bit) & 1) ++prefix;
      }
    }
    return std::string(buffer) + "/" + std::to_string(prefix);
  }
  return "#" + HexEncode(raw);
}

// IdnaEncode converts a host name to A-labels (IDNA 2008, UTS #46
// non-transitional mapping), as the original's idna.encode(uts46=True).
Result<std::string> IdnaEncode(std::string_view host) {
  std::string prefix;
  if (host.starts_with("*.")) {
    prefix = "*.";
    host.remove_prefix(2);
  }
  if (host.empty()) return Invalid("empty host name");
  std::string input(host);
  char* output = nullptr;
  int rc = idn2_to_ascii_8z(input.c_str(), &output, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (rc != IDN2_OK) {
    return Invalid("invalid host name \"" + input + "\": " + idn2_strerror(rc));
  }
  std::string encoded = output;
  idn2_free(output);
  // libidn2 passes ASCII labels through unchecked; IDNA 2008 allows only
  // letters, digits and inner hyphens in them (as the original's idna).
  if (encoded.size() > 253) return Invalid("host name too long: \"" + input + "\"");
  std::size_t start = 0;
  while (start <= encoded.size()) {
    std::size_t dot = encoded.find('.', start);
    if (dot == std::string::npos) dot = encoded.size();
    std::string_view label(encoded.data() + start, dot - start);
    bool ldh = !label.empty() && label.size() <= 63 && label.front() != '-' && label.back() != '-';
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') ldh = false;
    }
    if (!ldh) return Invalid("invalid host name \"" + input + "\"");
    start = dot + 1;
  }
  return prefix + encoded;
}

Result<crypto::PublicKey> KeyOf(EVP_PKEY* pkey) {
  if (pkey == nullptr) {
    ClearOpenSslErrors();
    return Invalid("the certificate has no usable public key");
  }
  return crypto::internal::PublicKeyFromEvp(pkey);
}

}  // namespace

std::string EncodeB64Der(ByteView der) { return Base64Encode(der, kB64DerOptions); }

Result<Bytes> DecodeB64Der(std::string_view text) {
  auto decoded = Base64Decode(text, kB64DerOptions);
  if (!decoded) return Invalid("invalid b64-DER: " + decoded.error().message());
  return decoded;
}

Result<std::vector<AltName>> MakeAltNames(const std::vector<std::string>& emails,
                                          const std::vector<std::string>& hosts,
                                          const std::vector<std::string>& uris) {
  std::vector<AltName> out;
  for (const auto& email : emails) {
    if (email.empty()) return Invalid("empty e-mail address");
    out.push_back({AltName::Kind::kEmail, email});
  }
  for (const auto& host : hosts) {
    if (auto ip = ParseIp(host)) {
      out.push_back({AltName::Kind::kIp, IpToText(*ip)});
    } else if (auto network = ParseNetwork(host)) {
      out.push_back({AltName::Kind::kIp, IpToText(*network)});
    } else {
      KISEE_ASSIGN_OR_RETURN(auto dns, IdnaEncode(host));
      out.push_back({AltName::Kind::kDns, std::move(dns)});
    }
  }
  for (const auto& uri : uris) {
    if (uri.empty()) return Invalid("empty URI");
    out.push_back({AltName::Kind::kUri, uri});
  }
  return out;
}

std::string SerialToHex(ByteView serial) {
  std::size_t skip = 0;
  while (skip < serial.size() && serial[skip] == 0) ++skip;
  std::string hex = HexEncode(serial.subspan(skip));
  if (hex.size() < 40) hex.insert(0, 40 - hex.size(), '0');
  return hex;
}

std::string FormatTime(TimePoint time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// ---- Certificate ----

Certificate::Certificate(std::shared_ptr<const internal::CertificateData> data)
    : data_(std::move(data)) {}

Result<Certificate> Certificate::FromDer(ByteView der) {
  const unsigned char* cursor = der.data();
  UniquePtr<X509> x509(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
  if (!x509)
    return std::unexpected(OpenSslError(ErrorCode::kInvalidArgument, "invalid DER certificate"));
  if (cursor != der.data() + der.size()) return Invalid("trailing bytes after the DER certificate");
  return internal::PkiAccess::FromX509(std::move(x509));
}

Result<Certificate> Certificate::FromPem(std::string_view pem) {
  auto bio = ReadBio(pem);
  UniquePtr<X509> x509(bio ? PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr)
                           : nullptr);
  if (!x509)
    return std::unexpected(OpenSslError(ErrorCode::kInvalidArgument, "invalid PEM certificate"));
  return internal::PkiAccess::FromX509(std::move(x509));
}

Result<std::vector<Certificate>> Certificate::ChainFromPem(std::string_view pem) {
  std::vector<Certificate> chain;
  std::string_view rest = pem;
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  for (;;) {
    std::size_t begin = rest.find(kBegin);
    if (begin == std::string_view::npos) break;
    std::size_t end = rest.find(kEnd, begin);
    if (end == std::string_view::npos) return Invalid("unterminated PEM certificate");
    KISEE_ASSIGN_OR_RETURN(auto certificate,
                           FromPem(rest.substr(begin, end + kEnd.size() - begin)));
    chain.push_back(std::move(certificate));
    rest.remove_prefix(end + kEnd.size());
  }
  if (chain.empty()) return Invalid("no PEM certificate found");
  return chain;
}

Result<Certificate> Certificate::FromB64Der(std::string_view text) {
  KISEE_ASSIGN_OR_RETURN(auto der, DecodeB64Der(text));
  return FromDer(der);
}

Result<Certificate> Certificate::Parse(std::string_view text) {
  std::string_view trimmed = Trim(text);
  if (trimmed.starts_with("-----BEGIN")) return FromPem(trimmed);
  return FromB64Der(trimmed);
}

const Bytes& Certificate::der() const { return data_->der; }
std::string Certificate::ToPem() const {
  return internal::PemOf(data_->x509.get(), PEM_write_bio_X509);
}
const Name& Certificate::subject() const { return data_->subject; }
const Name& Certificate::issuer() const { return data_->issuer; }
const std::string& Certificate::serial_hex() const { return data_->serial_hex; }
TimePoint Certificate::not_before() const { return data_->not_before; }
TimePoint Certificate::not_after() const { return data_->not_after; }
bool Certificate::self_signed() const { return data_->self_signed; }
bool Certificate::is_ca() const { return data_->is_ca; }
std::optional<int> Certificate::path_length() const { return data_->path_length; }

Result<crypto::PublicKey> Certificate::public_key() const {
  if (data_->public_key) return *data_->public_key;
  return Invalid(data_->public_key_error);
}

std::vector<AltName> Certificate::alt_names() const {
  UniquePtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(data_->x509.get(), NID_subject_alt_name, nullptr, nullptr)));
  ClearOpenSslErrors();
  if (!names) return {};
  return internal::AltNamesFromGeneral(names.get());
}

std::vector<std::string> Certificate::scopes() const {
  std::vector<std::string> scopes;
  int critical = 0;
  UniquePtr<CERTIFICATEPOLICIES> policies(static_cast<CERTIFICATEPOLICIES*>(
      X509_get_ext_d2i(data_->x509.get(), NID_certificate_policies, &critical, nullptr)));
  ClearOpenSslErrors();
  if (!policies) return scopes;
  for (int i = 0; i < sk_POLICYINFO_num(policies.get()); ++i) {
    const POLICYINFO* policy = sk_POLICYINFO_value(policies.get(), i);
    char oid[160];
    int length = OBJ_obj2txt(oid, sizeof(oid), policy->policyid, 1);
    if (length <= 0 || length >= static_cast<int>(sizeof(oid))) continue;
    if (std::string_view(oid).substr(0, 5) != "2.25.") continue;
    for (int q = 0; q < sk_POLICYQUALINFO_num(policy->qualifiers); ++q) {
      const POLICYQUALINFO* qualifier = sk_POLICYQUALINFO_value(policy->qualifiers, q);
      if (OBJ_obj2nid(qualifier->pqualid) != NID_id_qt_unotice) continue;
      const USERNOTICE* notice = qualifier->d.usernotice;
      if (notice == nullptr || notice->exptext == nullptr) continue;
      auto text = internal::Asn1StringToUtf8(notice->exptext);
      if (text && ScopeOid(*text) == oid) {
        scopes.push_back(std::move(*text));
        break;
      }
    }
  }
  ClearOpenSslErrors();
  return scopes;
}

Status Certificate::VerifyIssuedBy(const Certificate& issuer) const {
  X509* subject_x509 = data_->x509.get();
  X509* issuer_x509 = issuer.data_->x509.get();
  int check = X509_check_issued(issuer_x509, subject_x509);
  if (check != X509_V_OK) {
    ClearOpenSslErrors();
    return MakeError(ErrorCode::kUnauthenticated,
                     std::string("the certificate was not issued by that CA: ") +
                         X509_verify_cert_error_string(check));
  }
  EVP_PKEY* issuer_key = X509_get0_pubkey(issuer_x509);
  if (issuer_key == nullptr || X509_verify(subject_x509, issuer_key) != 1) {
    ClearOpenSslErrors();
    return MakeError(ErrorCode::kUnauthenticated,
                     "the certificate's signature does not verify with that CA's key");
  }
  return Ok();
}

// ---- CertificateRequest ----

CertificateRequest::CertificateRequest(std::shared_ptr<const internal::RequestData> data)
    : data_(std::move(data)) {}

Result<CertificateRequest> CertificateRequest::FromDer(ByteView der) {
  const unsigned char* cursor = der.data();
  UniquePtr<X509_REQ> request(d2i_X509_REQ(nullptr, &cursor, static_cast<long>(der.size())));
  if (!request || cursor != der.data() + der.size()) {
    return std::unexpected(
        OpenSslError(ErrorCode::kInvalidArgument, "invalid DER certificate request"));
  }
  return internal::PkiAccess::FromRequest(std::move(request));
}

Result<CertificateRequest> CertificateRequest::FromPem(std::string_view pem) {
  auto bio = ReadBio(pem);
  UniquePtr<X509_REQ> request(bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, NoPassphrase, nullptr)
                                  : nullptr);
  if (!request) {
    return std::unexpected(
        OpenSslError(ErrorCode::kInvalidArgument, "invalid PEM certificate request"));
  }
  return internal::PkiAccess::FromRequest(std::move(request));
}

Result<CertificateRequest> CertificateRequest::Create(const crypto::PrivateKey& key,
                                                      const Name& subject,
                                                      const std::vector<AltName>& alt_names) {
  UniquePtr<X509_REQ> request(X509_REQ_new());
  if (!request || X509_REQ_set_version(request.get(), 0) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "X509_REQ_new"));
  }
  KISEE_ASSIGN_OR_RETURN(auto name, internal::NameToX509(subject));
  if (X509_REQ_set_subject_name(request.get(), name.get()) != 1 ||
      X509_REQ_set_pubkey(request.get(), crypto::internal::GetEvpPkey(key)) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "cannot fill the request"));
  }
  if (!alt_names.empty()) {
    KISEE_ASSIGN_OR_RETURN(auto general, internal::AltNamesToGeneral(alt_names));
    UniquePtr<STACK_OF(X509_EXTENSION)> extensions(sk_X509_EXTENSION_new_null());
    UniquePtr<X509_EXTENSION> san(
        X509V3_EXT_i2d(NID_subject_alt_name, subject.empty() ? 1 : 0, general.get()));
    if (!extensions || !san || sk_X509_EXTENSION_push(extensions.get(), san.get()) == 0) {
      return std::unexpected(OpenSslError(ErrorCode::kInternal, "cannot encode the SAN"));
    }
    san.release();  // owned by the stack now
    if (X509_REQ_add_extensions(request.get(), extensions.get()) != 1) {
      return std::unexpected(OpenSslError(ErrorCode::kInternal, "cannot add the SAN"));
    }
  }
  if (X509_REQ_sign(request.get(), crypto::internal::GetEvpPkey(key),
                    crypto::internal::SignatureDigest(key.type())) <= 0) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "cannot sign the request"));
  }
  return internal::PkiAccess::FromRequest(std::move(request));
}

const Bytes& CertificateRequest::der() const { return data_->der; }
std::string CertificateRequest::ToPem() const {
  return internal::PemOf(data_->request.get(), PEM_write_bio_X509_REQ);
}
const Name& CertificateRequest::subject() const { return data_->subject; }
const crypto::PublicKey& CertificateRequest::public_key() const { return *data_->public_key; }
std::vector<AltName> CertificateRequest::alt_names() const { return data_->alt_names; }
bool CertificateRequest::is_ca() const { return data_->is_ca; }

namespace internal {

TimePoint TimeFromAsn1(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
    ClearOpenSslErrors();
    return TimePoint{};
  }
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string SerialFromAsn1(const ASN1_INTEGER* serial) {
  UniquePtr<BIGNUM> number(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!number) {
    ClearOpenSslErrors();
    return std::string(40, '0');
  }
  Bytes raw(static_cast<std::size_t>(BN_num_bytes(number.get())));
  BN_bn2bin(number.get(), raw.data());
  return SerialToHex(raw);
}

std::string NormalizeSerial(std::string_view hex) {
  std::string out;
  for (char c : hex) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
    if (out.empty() && c == '0') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (hex.empty()) return {};
  return out.empty() ? "0" : out;
}

Result<UniquePtr<ASN1_INTEGER>> SerialToAsn1(std::string_view hex) {
  std::string normalized = NormalizeSerial(hex);
  if (normalized.empty() || normalized.size() > 64) return Invalid("invalid serial number");
  BIGNUM* raw = nullptr;
  if (BN_hex2bn(&raw, normalized.c_str()) == 0) {
    return std::unexpected(OpenSslError(ErrorCode::kInvalidArgument, "invalid serial number"));
  }
  UniquePtr<BIGNUM> number(raw);
  UniquePtr<ASN1_INTEGER> serial(BN_to_ASN1_INTEGER(number.get(), nullptr));
  if (!serial) return std::unexpected(OpenSslError(ErrorCode::kInternal, "BN_to_ASN1_INTEGER"));
  return serial;
}

Result<UniquePtr<GENERAL_NAMES>> AltNamesToGeneral(const std::vector<AltName>& names) {
  UniquePtr<GENERAL_NAMES> out(sk_GENERAL_NAME_new_null());
  if (!out) return std::unexpected(OpenSslError(ErrorCode::kInternal, "out of memory"));
  for (const AltName& name : names) {
    UniquePtr<GENERAL_NAME> entry(GENERAL_NAME_new());
    UniquePtr<ASN1_STRING> value;
    int type = 0;
    Bytes content;
    switch (name.kind) {
      case AltName::Kind::kEmail:
        type = GEN_EMAIL;
        content = ToBytes(name.value);
        value.reset(ASN1_IA5STRING_new());
        break;
      case AltName::Kind::kDns:
        type = GEN_DNS;
        content = ToBytes(name.value);
        value.reset(ASN1_IA5STRING_new());
        break;
      case AltName::Kind::kUri:
        type = GEN_URI;
        content = ToBytes(name.value);
        value.reset(ASN1_IA5STRING_new());
        break;
      case AltName::Kind::kIp: {
        type = GEN_IPADD;
        auto ip = name.value.find('/') == std::string::npos ? ParseIp(name.value)
                                                            : ParseNetwork(name.value);
        if (!ip) return Invalid("invalid IP address \"" + name.value + "\"");
        content = std::move(*ip);
        value.reset(ASN1_OCTET_STRING_new());
        break;
      }
    }
    for (auto byte : content) {
      if (type != GEN_IPADD && byte >= 0x80) {
        return Invalid("a subjectAltName must be ASCII: \"" + name.value + "\"");
      }
    }
    if (!entry || !value ||
        ASN1_STRING_set(value.get(), content.data(), static_cast<int>(content.size())) != 1) {
      return std::unexpected(OpenSslError(ErrorCode::kInternal, "out of memory"));
    }
    GENERAL_NAME_set0_value(entry.get(), type, value.release());
    if (sk_GENERAL_NAME_push(out.get(), entry.get()) == 0) {
      return std::unexpected(OpenSslError(ErrorCode::kInternal, "out of memory"));
    }
    entry.release();
  }
  return out;
}

std::vector<AltName> AltNamesFromGeneral(const GENERAL_NAMES* names) {
  std::vector<AltName> out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    int type = 0;
    const void* value = GENERAL_NAME_get0_value(name, &type);
    const auto* text = static_cast<const ASN1_STRING*>(value);
    auto as_string = [&] {
      return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                         static_cast<std::size_t>(ASN1_STRING_length(text)));
    };
    switch (type) {
      case GEN_EMAIL:
        out.push_back({AltName::Kind::kEmail, as_string()});
        break;
      case GEN_DNS:
        out.push_back({AltName::Kind::kDns, as_string()});
        break;
      case GEN_URI:
        out.push_back({AltName::Kind::kUri, as_string()});
        break;
      case GEN_IPADD:
        out.push_back({AltName::Kind::kIp,
                       IpToText(ByteView(ASN1_STRING_get0_data(text),
                                         static_cast<std::size_t>(ASN1_STRING_length(text))))});
        break;
      default:
        break;
    }
  }
  return out;
}

Result<Certificate> PkiAccess::FromX509(UniquePtr<X509> x509) {
  auto data = std::make_shared<CertificateData>();
  KISEE_ASSIGN_OR_RETURN(data->der, DerOf(x509.get(), i2d_X509));
  KISEE_ASSIGN_OR_RETURN(data->subject, NameFromX509(X509_get_subject_name(x509.get())));
  KISEE_ASSIGN_OR_RETURN(data->issuer, NameFromX509(X509_get_issuer_name(x509.get())));
  data->serial_hex = SerialFromAsn1(X509_get0_serialNumber(x509.get()));
  data->not_before = TimeFromAsn1(X509_get0_notBefore(x509.get()));
  data->not_after = TimeFromAsn1(X509_get0_notAfter(x509.get()));
  data->self_signed =
      X509_NAME_cmp(X509_get_subject_name(x509.get()), X509_get_issuer_name(x509.get())) == 0;
  // X509_get_extension_flags caches the parsed extensions; EXFLAG_INVALID
  // marks a certificate whose extensions do not decode.
  std::uint32_t flags = X509_get_extension_flags(x509.get());
  if ((flags & EXFLAG_INVALID) != 0) {
    ClearOpenSslErrors();
    return Invalid("the certificate has invalid extensions");
  }
  data->is_ca = (flags & EXFLAG_CA) != 0;
  if (data->is_ca) {
    long path_length = X509_get_pathlen(x509.get());
    if (path_length >= 0) data->path_length = static_cast<int>(path_length);
  }
  auto key = KeyOf(X509_get0_pubkey(x509.get()));
  if (key) {
    data->public_key = std::move(*key);
  } else {
    data->public_key_error = key.error().message();
  }
  ClearOpenSslErrors();
  data->x509 = std::move(x509);
  return Certificate(std::move(data));
}

Result<CertificateRequest> PkiAccess::FromRequest(UniquePtr<X509_REQ> request) {
  auto data = std::make_shared<RequestData>();
  EVP_PKEY* pkey = X509_REQ_get0_pubkey(request.get());
  if (pkey == nullptr) {
    return std::unexpected(
        OpenSslError(ErrorCode::kInvalidArgument, "the request has no public key"));
  }
  if (X509_REQ_verify(request.get(), pkey) != 1) {
    ClearOpenSslErrors();
    return MakeError(ErrorCode::kUnauthenticated, "the certificate request's signature is invalid");
  }
  KISEE_ASSIGN_OR_RETURN(data->public_key, crypto::internal::PublicKeyFromEvp(pkey));
  KISEE_ASSIGN_OR_RETURN(data->der, DerOf(request.get(), i2d_X509_REQ));
  KISEE_ASSIGN_OR_RETURN(data->subject, NameFromX509(X509_REQ_get_subject_name(request.get())));
  UniquePtr<STACK_OF(X509_EXTENSION)> extensions(X509_REQ_get_extensions(request.get()));
  if (extensions) {
    UniquePtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(
        X509V3_get_d2i(extensions.get(), NID_subject_alt_name, nullptr, nullptr)));
    if (names) data->alt_names = AltNamesFromGeneral(names.get());
    UniquePtr<BASIC_CONSTRAINTS> basic(static_cast<BASIC_CONSTRAINTS*>(
        X509V3_get_d2i(extensions.get(), NID_basic_constraints, nullptr, nullptr)));
    data->is_ca = basic && basic->ca != 0;
  }
  ClearOpenSslErrors();
  data->request = std::move(request);
  return CertificateRequest(std::move(data));
}

}  // namespace internal
}  // namespace kisee::pki
