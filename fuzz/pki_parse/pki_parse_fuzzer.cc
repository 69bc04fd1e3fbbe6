// Feeds arbitrary bytes to every pki parser (RFC 4514 text, b64-DER,
// certificates, requests, CRLs) and exercises what certified reads from a
// parsed certificate: each must return an error or a value, never crash,
// leak or throw; a name of character strings must print and parse back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kisee/pki/certificate.h"
#include "kisee/pki/crl.h"
#include "kisee/pki/name.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const kisee::ByteView bytes(data, size);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto name = kisee::pki::Name::FromRfc4514(text)) {
    // Binary values print as the original does (hex of their content, not
    // of their BER), so only names of character strings must round-trip.
    bool binary = false;
    for (const auto& rdn : name->rdns()) {
      for (const auto& attribute : rdn) binary = binary || attribute.binary;
    }
    auto again = kisee::pki::Name::FromRfc4514(name->ToRfc4514());
    if (!binary && (!again || !(*again == *name))) std::abort();
    (void)name->ToDer();
  }
  (void)kisee::pki::Name::FromDer(bytes);
  (void)kisee::pki::DecodeB64Der(text);
  for (auto certificate :
       {kisee::pki::Certificate::FromDer(bytes), kisee::pki::Certificate::Parse(text)}) {
    if (!certificate) continue;
    (void)certificate->subject().ToRfc4514();
    (void)certificate->alt_names();
    (void)certificate->scopes();
    (void)certificate->public_key();
    (void)certificate->VerifyIssuedBy(*certificate);
  }
  if (auto request = kisee::pki::CertificateRequest::FromDer(bytes)) (void)request->alt_names();
  (void)kisee::pki::CertificateRequest::FromPem(text);
  if (auto crl = kisee::pki::RevocationList::FromDer(bytes)) (void)crl->IsRevoked("01");
  (void)kisee::pki::RevocationList::FromPem(text);
  return 0;
}
