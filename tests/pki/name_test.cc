#include "kisee/pki/name.h"

#include <gtest/gtest.h>

#include "kisee/pki/certificate.h"
#include "kisee/pki/scope.h"

namespace kisee::pki {
namespace {

TEST(Name, PrintsTheOriginalsExample) {
  Name org =
      OrgName("Fictitious Organization", "Fraud Detection", "", "", "", "", "", "example.org");
  Name signer = WithPseudonym(org, kSigningPseudonym);
  EXPECT_EQ(signer.ToRfc4514(),
            "P=Signing Certificate,DC=org,DC=example,OU=Fraud Detection,O=Fictitious Organization");
}

TEST(Name, PersonOrderSkipsEmptyValues) {
  Name person = PersonName("David Rogers", "drogers", "", "US", "", "Knoxville", "home.org");
  EXPECT_EQ(person.ToRfc4514(), "DC=org,DC=home,L=Knoxville,C=US,UID=drogers,CN=David Rogers");
}

struct EscapeCase {
  std::string value;
  std::string escaped;
};

class NameEscaping : public ::testing::TestWithParam<EscapeCase> {};

TEST_P(NameEscaping, EscapesAsTheOriginalAndParsesBack) {
  Name name;
  ASSERT_TRUE(name.Add("CN", GetParam().value));
  EXPECT_EQ(name.ToRfc4514(), "CN=" + GetParam().escaped);
  auto parsed = Name::FromRfc4514(name.ToRfc4514());
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(*parsed, name);
}

INSTANTIATE_TEST_SUITE_P(Cases, NameEscaping,
                         ::testing::Values(EscapeCase{"plain", "plain"}, EscapeCase{"a,b", "a\\,b"},
                                           EscapeCase{"a+b", "a\\+b"}, EscapeCase{"a\\b", "a\\\\b"},
                                           EscapeCase{"say \"hi\"", "say \\\"hi\\\""},
                                           EscapeCase{"a;b", "a\\;b"}, EscapeCase{"<x>", "\\<x\\>"},
                                           EscapeCase{"#1", "\\#1"}, EscapeCase{" lead", "\\ lead"},
                                           EscapeCase{"trail ", "trail\\ "}, EscapeCase{" ", "\\ "},
                                           EscapeCase{"x\\ ", "x\\\\\\ "},
                                           EscapeCase{std::string("nul\0x", 5), "nul\\00x"},
                                           EscapeCase{"a=b#c", "a=b#c"},
                                           EscapeCase{"café", "café"}));

TEST(Name, ParsesShortNamesOidsAndMultiValuedRdns) {
  auto name = Name::FromRfc4514("cn=Alice+UID=alice, O=Example\\2C Inc.,2.5.4.97=VAT-1");
  ASSERT_TRUE(name) << name.error().message();
  ASSERT_EQ(name->rdns().size(), 3u);
  EXPECT_EQ(name->rdns()[0][0].oid, "2.5.4.97");
  EXPECT_EQ(name->rdns()[1][0].value, "Example, Inc.");
  ASSERT_EQ(name->rdns()[2].size(), 2u);
  EXPECT_EQ(name->rdns()[2][1].oid, std::string(kOidUserId));
  EXPECT_EQ(name->ToRfc4514(), "CN=Alice+UID=alice,O=Example\\, Inc.,2.5.4.97=VAT-1");
}

TEST(Name, RoundTripsThroughDer) {
  auto name = Name::FromRfc4514(
      "E=a@b.org,GEN=III,IN=Q,NAME=Ann,SUR=Lee,T=Dr,S=42,DQ=x,P=p,STREET=1 Main,C=US,CN=Ann Lee");
  ASSERT_TRUE(name) << name.error().message();
  auto der = name->ToDer();
  ASSERT_TRUE(der);
  auto back = Name::FromDer(*der);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->ToRfc4514(), name->ToRfc4514());
}

TEST(Name, RejectsMalformedText) {
  for (const char* text : {"CN", "XX=1", "CN=a,", "CN=a\\", "CN=a\\zz", "1..2=x", "CN=#zz"}) {
    EXPECT_FALSE(Name::FromRfc4514(text)) << text;
  }
}

TEST(B64Der, UsesUrlSafeCharactersWithPadding) {
  Bytes data = {0xfb, 0xff, 0xbf, 0x01};
  EXPECT_EQ(EncodeB64Der(data), "-_-_AQ==");
  auto back = DecodeB64Der("-_-_AQ==");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, data);
  auto standard = DecodeB64Der("+/+/AQ==");
  ASSERT_TRUE(standard);
  EXPECT_EQ(*standard, data);
  EXPECT_FALSE(DecodeB64Der("-_-_AQ"));     // missing padding
  EXPECT_FALSE(DecodeB64Der("-_-_ AQ=="));  // whitespace
}

TEST(Scope, NamespaceIsDerivedAsDocumented) {
  EXPECT_EQ(UuidToString(ScopeNamespace()), kScopeNamespaceText);
}

TEST(Scope, OidIsTheDecimalOfTheNameBasedUuid) {
  // Python: uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL, "urn:certified:scope"), "admin").int
  EXPECT_EQ(ScopeOid("admin"), "2.25.299590523108923512796728619249924683213");
  EXPECT_NE(ScopeOid("admin"), ScopeOid("Admin"));
}

TEST(AltNames, OrdersEmailsHostsUrisAndEncodesHosts) {
  auto names = MakeAltNames({"me@home.org"},
                            {"127.0.0.1", "::1", "10.0.0.0/8", "*.Example.org", "éxamplë.org"},
                            {"https://example.org/x"});
  ASSERT_TRUE(names) << names.error().message();
  std::vector<AltName> expected = {
      {AltName::Kind::kEmail, "me@home.org"},
      {AltName::Kind::kIp, "127.0.0.1"},
      {AltName::Kind::kIp, "::1"},
      {AltName::Kind::kIp, "10.0.0.0/8"},
      {AltName::Kind::kDns, "*.example.org"},
      {AltName::Kind::kDns, "xn--xampl-9rat.org"},
      {AltName::Kind::kUri, "https://example.org/x"},
  };
  EXPECT_EQ(*names, expected);
  EXPECT_FALSE(MakeAltNames({}, {"bad host!"}, {}));
  EXPECT_FALSE(MakeAltNames({}, {"10.0.0.1/8"}, {}));  // host bits set: not a network
}

}  // namespace
}  // namespace kisee::pki
