#include <fmt/format.h>

#include <algorithm>

#include "biscuit/crypto/payload.h"
#include "biscuit/format/convert.h"
#include "biscuit/token/internal.h"
#include "kisee/core/error.h"

namespace kisee::biscuit {

Result<Bytes> DecodeBase64(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  while (!text.empty() && (text.front() == '\n' || text.front() == '\r' || text.front() == ' ')) {
    text.remove_prefix(1);
  }
  auto bytes = Base64Decode(text, {Base64Alphabet::kUrl, Base64Padding::kOptional, true});
  if (!bytes) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid base64: " + bytes.error().message());
  }
  return std::move(*bytes);
}

std::string EncodeBase64(ByteView bytes) {
  return Base64Encode(bytes, {Base64Alphabet::kUrl, Base64Padding::kOptional, false});
}

namespace internal {
namespace {

std::unexpected<Error> BadFormat(std::string message) {
  return MakeError(ErrorKind::kDeserialization, "deserialization error: " + std::move(message));
}

Result<PublicKey> KeyFromProto(const format::pb::PublicKey& key) {
  if (key.algorithm() != format::pb::PublicKey::Ed25519 &&
      key.algorithm() != format::pb::PublicKey::SECP256R1) {
    return MakeError(ErrorKind::kInvalidKey, "unknown public key algorithm");
  }
  // Straight from the protobuf string: no intermediate PublicKeyData copy.
  return PublicKey::FromBytes(static_cast<Algorithm>(key.algorithm()), AsBytes(key.key()));
}

Result<SignedBlock> SignedFromProto(const format::pb::SignedBlock& b, bool authority) {
  KISEE_ASSIGN_OR_RETURN(PublicKey next, KeyFromProto(b.nextkey()));
  SignedBlock out{ToBytes(b.block()), std::move(next), ToBytes(b.signature()), std::nullopt,
                  b.has_version() ? b.version() : 0};
  if (b.has_externalsignature()) {
    if (authority) return BadFormat("the authority block must not contain an external signature");
    if (out.version != 1) return BadFormat("Unsupported third party block version");
    KISEE_ASSIGN_OR_RETURN(PublicKey key, KeyFromProto(b.externalsignature().publickey()));
    out.external = ExternalSignature{ToBytes(b.externalsignature().signature()), std::move(key)};
  }
  return out;
}

void SignedToProto(const SignedBlock& b, format::pb::SignedBlock* out) {
  out->set_block(std::string(AsChars(b.data)));
  *out->mutable_nextkey() = format::ToProto(ToKeyData(b.next_key));
  out->set_signature(std::string(AsChars(b.signature)));
  if (b.external.has_value()) {
    out->mutable_externalsignature()->set_signature(std::string(AsChars(b.external->signature)));
    *out->mutable_externalsignature()->mutable_publickey() =
        format::ToProto(ToKeyData(b.external->key));
  }
  if (b.version > 0) out->set_version(b.version);
}

// The signature payload version for a new block (the reference's rule: v1
// for third-party blocks, Datalog 3.3 blocks and non-Ed25519 keys; otherwise
// the highest version already in the token).
std::uint32_t SignatureVersion(const PrivateKey& current, const KeyPair& next, bool external,
                               std::uint32_t block_version,
                               const std::vector<SignedBlock>& previous) {
  if (external || block_version >= datalog::kDatalog33) return 1;
  if (current.algorithm() != Algorithm::kEd25519 || next.algorithm() != Algorithm::kEd25519) {
    return 1;
  }
  std::uint32_t v = 0;
  for (const SignedBlock& b : previous) v = std::max(v, b.version);
  return v;
}

}  // namespace

datalog::SymbolTable TokenData::SymbolsFor(std::size_t index) const {
  if (index == 0 || !decoded[index].external_key.has_value()) return symbols;
  datalog::SymbolTable own;
  (void)own.Extend(decoded[index].symbols);
  (void)own.ExtendKeys(decoded[index].public_keys);
  return own;
}

const datalog::SymbolTable& TokenData::TableFor(std::size_t index,
                                                datalog::SymbolTable& scratch) const {
  if (index == 0 || !decoded[index].external_key.has_value()) return symbols;
  scratch = SymbolsFor(index);
  return scratch;
}

Result<TokenData> TokenData::Deserialize(ByteView bytes) {
  format::ParseArena arena;
  format::pb::Biscuit& proto = *arena.Create<format::pb::Biscuit>();
  if (!format::ParseMessage(proto, bytes)) {
    return BadFormat("invalid protobuf");
  }
  TokenData t;
  if (proto.has_rootkeyid()) t.root_key_id = proto.rootkeyid();
  t.blocks.reserve(1 + static_cast<std::size_t>(proto.blocks_size()));
  KISEE_ASSIGN_OR_RETURN(SignedBlock authority, SignedFromProto(proto.authority(), true));
  t.blocks.push_back(std::move(authority));
  for (const auto& b : proto.blocks()) {
    KISEE_ASSIGN_OR_RETURN(SignedBlock block, SignedFromProto(b, false));
    t.blocks.push_back(std::move(block));
  }
  switch (proto.proof().Content_case()) {
    case format::pb::Proof::kNextSecret: {
      auto key = PrivateKey::FromProof(t.blocks.back().next_key.algorithm(),
                                       AsBytes(proto.proof().nextsecret()));
      if (!key) return MakeError(ErrorKind::kInvalidKey, key.error().message());
      t.next_secret = std::move(*key);
      break;
    }
    case format::pb::Proof::kFinalSignature:
      t.final_signature = ToBytes(proto.proof().finalsignature());
      break;
    case format::pb::Proof::CONTENT_NOT_SET:
      return BadFormat("could not find proof");
  }
  return t;
}

Status TokenData::DecodeBlocks() {
  decoded.clear();
  decoded.reserve(blocks.size());
  symbols = datalog::SymbolTable();
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    std::optional<datalog::PublicKeyData> external;
    if (blocks[i].external.has_value()) external = ToKeyData(blocks[i].external->key);
    KISEE_ASSIGN_OR_RETURN(datalog::Block block, format::DecodeBlock(blocks[i].data, external));
    if (!external.has_value()) {
      KISEE_RETURN_IF_ERROR(symbols.Extend(block.symbols));
      KISEE_RETURN_IF_ERROR(symbols.ExtendKeys(block.public_keys));
    } else {
      datalog::SymbolTable own;
      KISEE_RETURN_IF_ERROR(own.Extend(block.symbols));
    }
    decoded.push_back(std::move(block));
  }
  return {};
}

Status TokenData::VerifySignatures(const PublicKey& root) const {
  const SignedBlock& authority = blocks[0];
  Bytes payload;
  if (authority.version == 0) {
    payload = crypto::BlockPayloadV0(authority.data, authority.next_key, std::nullopt);
  } else if (authority.version == 1) {
    payload = crypto::AuthorityPayloadV1(authority.data, authority.next_key, authority.version);
  } else {
    return BadFormat("unsupported block version: " + std::to_string(authority.version));
  }
  KISEE_RETURN_IF_ERROR(root.Verify(payload, authority.signature));
  const PublicKey* current = &authority.next_key;
  const Bytes* previous_signature = &authority.signature;
  for (std::size_t i = 1; i < blocks.size(); ++i) {
    const SignedBlock& b = blocks[i];
    std::optional<ByteView> external;
    if (b.external.has_value()) external = ByteView(b.external->signature);
    if (b.version == 0) {
      payload = crypto::BlockPayloadV0(b.data, b.next_key, external);
    } else if (b.version == 1) {
      payload =
          crypto::BlockPayloadV1(b.data, b.next_key, *previous_signature, external, b.version);
    } else {
      return BadFormat("unsupported block version: " + std::to_string(b.version));
    }
    KISEE_RETURN_IF_ERROR(current->Verify(payload, b.signature));
    if (b.external.has_value()) {
      Bytes external_payload = crypto::ExternalPayloadV1(b.data, *previous_signature, b.version);
      KISEE_RETURN_IF_ERROR(b.external->key.Verify(external_payload, b.external->signature));
    }
    current = &b.next_key;
    previous_signature = &b.signature;
  }
  if (next_secret.has_value()) {
    if (!(next_secret->public_key() == *current)) {
      return MakeError(ErrorKind::kInvalidSignature,
                       "the last public key does not match the private key");
    }
    return {};
  }
  const SignedBlock& last = blocks.back();
  return current->Verify(crypto::SealPayload(last.data, last.next_key, last.signature),
                         final_signature);
}

Result<Bytes> TokenData::Serialize() const {
  format::pb::Biscuit proto;
  if (root_key_id.has_value()) proto.set_rootkeyid(*root_key_id);
  SignedToProto(blocks[0], proto.mutable_authority());
  for (std::size_t i = 1; i < blocks.size(); ++i) SignedToProto(blocks[i], proto.add_blocks());
  if (next_secret.has_value()) {
    proto.mutable_proof()->set_nextsecret(std::string(AsChars(next_secret->bytes())));
  } else {
    proto.mutable_proof()->set_finalsignature(std::string(AsChars(final_signature)));
  }
  std::string out;
  if (!proto.SerializeToString(&out)) {
    return MakeError(ErrorKind::kSerialization, "serialization error");
  }
  Bytes bytes = ToBytes(out);
  SecureWipe(out);
  return bytes;
}

Result<TokenData> TokenData::New(std::optional<std::uint32_t> root_key_id, const KeyPair& root,
                                 const KeyPair& next, const BuilderContent& authority) {
  TokenData t;
  t.root_key_id = root_key_id;
  KISEE_ASSIGN_OR_RETURN(datalog::Block block,
                         BuildBlock(authority, t.symbols, datalog::kMinSchemaVersion));
  KISEE_ASSIGN_OR_RETURN(Bytes data, format::EncodeBlock(block));
  std::uint32_t version = SignatureVersion(root.private_key(), next, false, block.version, {});
  Bytes payload = version == 0 ? crypto::BlockPayloadV0(data, next.public_key(), std::nullopt)
                               : crypto::AuthorityPayloadV1(data, next.public_key(), version);
  KISEE_ASSIGN_OR_RETURN(Bytes signature, root.Sign(payload));
  t.blocks.push_back(
      SignedBlock{std::move(data), next.public_key(), std::move(signature), std::nullopt, version});
  t.next_secret = next.private_key();
  t.decoded.push_back(std::move(block));
  return t;
}

Result<TokenData> TokenData::Append(const BuilderContent& content, const KeyPair& next) const {
  if (sealed()) return MakeError(ErrorKind::kAppendOnSealed, "cannot append to a sealed token");
  if (!content.source.policies.empty()) {
    return MakeError(ErrorKind::kInvalidArgument, "blocks cannot contain policies");
  }
  TokenData t = *this;
  KISEE_ASSIGN_OR_RETURN(datalog::Block block,
                         BuildBlock(content, t.symbols, datalog::kMinSchemaVersion));
  KISEE_ASSIGN_OR_RETURN(Bytes data, format::EncodeBlock(block));
  std::uint32_t version = SignatureVersion(*next_secret, next, false, block.version, blocks);
  const SignedBlock& last = blocks.back();
  Bytes payload = version == 0 ? crypto::BlockPayloadV0(data, next.public_key(), std::nullopt)
                               : crypto::BlockPayloadV1(data, next.public_key(), last.signature,
                                                        std::nullopt, version);
  KISEE_ASSIGN_OR_RETURN(Bytes signature, next_secret->Sign(payload));
  t.blocks.push_back(
      SignedBlock{std::move(data), next.public_key(), std::move(signature), std::nullopt, version});
  t.next_secret = next.private_key();
  t.decoded.push_back(std::move(block));
  return t;
}

Result<TokenData> TokenData::Seal() const {
  if (sealed()) return MakeError(ErrorKind::kAlreadySealed, "the token is already sealed");
  const SignedBlock& last = blocks.back();
  KISEE_ASSIGN_OR_RETURN(Bytes signature, next_secret->Sign(crypto::SealPayload(
                                              last.data, last.next_key, last.signature)));
  TokenData t = *this;
  t.next_secret.reset();
  t.final_signature = std::move(signature);
  return t;
}

Result<ThirdPartyRequest> TokenData::Request() const {
  if (sealed()) return MakeError(ErrorKind::kAppendOnSealed, "cannot append to a sealed token");
  ThirdPartyRequest request;
  RequestSignature(request) = blocks.back().signature;
  return request;
}

Bytes& TokenData::RequestSignature(ThirdPartyRequest& request) {
  return request.previous_signature_;
}
const Bytes& TokenData::RequestSignature(const ThirdPartyRequest& request) {
  return request.previous_signature_;
}

Result<ThirdPartyBlock> TokenData::MakeThirdPartyBlock(Bytes payload, Bytes signature,
                                                       PublicKey key) {
  ThirdPartyBlock block;
  block.payload_ = std::move(payload);
  block.signature_ = std::move(signature);
  block.external_key_ = std::move(key);
  return block;
}

Result<TokenData> TokenData::AppendThirdParty(const ThirdPartyBlock& block,
                                              const KeyPair& next) const {
  if (sealed()) return MakeError(ErrorKind::kAppendOnSealed, "cannot append to a sealed token");
  const SignedBlock& last = blocks.back();
  // The external signature binds the block to this token's last signature.
  Bytes external_payload = crypto::ExternalPayloadV1(block.payload_, last.signature, 1);
  KISEE_RETURN_IF_ERROR(block.external_key_->Verify(external_payload, block.signature_));
  KISEE_ASSIGN_OR_RETURN(datalog::Block decoded_block,
                         format::DecodeBlock(block.payload_, ToKeyData(*block.external_key_)));
  Bytes payload = crypto::BlockPayloadV1(block.payload_, next.public_key(), last.signature,
                                         ByteView(block.signature_), 1);
  KISEE_ASSIGN_OR_RETURN(Bytes signature, next_secret->Sign(payload));
  TokenData t = *this;
  t.blocks.push_back(SignedBlock{block.payload_, next.public_key(), std::move(signature),
                                 ExternalSignature{block.signature_, *block.external_key_}, 1});
  t.next_secret = next.private_key();
  t.decoded.push_back(std::move(decoded_block));
  return t;
}

}  // namespace internal

// ---- TokenView ----

std::optional<std::uint32_t> TokenView::root_key_id() const { return data_->root_key_id; }
std::size_t TokenView::block_count() const { return data_->blocks.size(); }
bool TokenView::sealed() const { return data_->sealed(); }

std::vector<Bytes> TokenView::RevocationIds() const {
  std::vector<Bytes> out;
  for (const auto& b : data_->blocks) out.push_back(b.signature);
  return out;
}

Result<std::string> TokenView::BlockSource(std::size_t index) const {
  if (index >= data_->decoded.size()) {
    return MakeError(ErrorKind::kInvalidArgument, "no block " + std::to_string(index));
  }
  datalog::SymbolTable scratch;
  return parser::PrintBlock(data_->decoded[index], data_->TableFor(index, scratch));
}

std::optional<PublicKey> TokenView::BlockExternalKey(std::size_t index) const {
  if (index >= data_->blocks.size() || !data_->blocks[index].external.has_value()) {
    return std::nullopt;
  }
  return data_->blocks[index].external->key;
}

std::uint32_t TokenView::BlockVersion(std::size_t index) const {
  return index < data_->decoded.size() ? data_->decoded[index].version : 0;
}

std::vector<std::string> TokenView::BlockSymbols(std::size_t index) const {
  return index < data_->decoded.size() ? data_->decoded[index].symbols : std::vector<std::string>{};
}

std::vector<std::string> TokenView::BlockPublicKeys(std::size_t index) const {
  std::vector<std::string> out;
  if (index < data_->decoded.size()) {
    for (const auto& k : data_->decoded[index].public_keys) out.push_back(k.ToString());
  }
  return out;
}

std::optional<std::string> TokenView::BlockContext(std::size_t index) const {
  return index < data_->decoded.size() ? data_->decoded[index].context : std::nullopt;
}

Result<Bytes> TokenView::ToBytes() const { return data_->Serialize(); }

Result<std::string> TokenView::ToBase64() const {
  KISEE_ASSIGN_OR_RETURN(Bytes bytes, ToBytes());
  return EncodeBase64(bytes);
}

std::string TokenView::Print() const {
  std::string out = "Biscuit {\n";
  out += fmt::format("    root key id: {}\n",
                     data_->root_key_id.has_value() ? std::to_string(*data_->root_key_id) : "none");
  out += fmt::format("    sealed: {}\n", sealed() ? "true" : "false");
  for (std::size_t i = 0; i < data_->blocks.size(); ++i) {
    out += fmt::format("    block {}{}:\n", i, i == 0 ? " (authority)" : "");
    auto symbols = BlockSymbols(i);
    out += fmt::format("        symbols: [{}]\n", fmt::join(symbols.begin(), symbols.end(), ", "));
    auto keys = BlockPublicKeys(i);
    out += fmt::format("        public keys: [{}]\n", fmt::join(keys.begin(), keys.end(), ", "));
    if (auto ext = BlockExternalKey(i); ext.has_value()) {
      out += "        external signature by: " + ext->ToString() + "\n";
    }
    if (auto ctx = BlockContext(i); ctx.has_value()) out += "        context: " + *ctx + "\n";
    out += fmt::format("        version: {}\n", BlockVersion(i));
    out += "        next key: " + data_->blocks[i].next_key.ToString() + "\n";
    out += "        revocation id: " + HexEncode(data_->blocks[i].signature) + "\n";
    auto source = BlockSource(i);
    std::string code = source ? *source : "";
    out += "        code:\n";
    std::size_t start = 0;
    while (start < code.size()) {
      std::size_t nl = code.find('\n', start);
      if (nl == std::string::npos) nl = code.size();
      out += "            " + code.substr(start, nl - start) + "\n";
      start = nl + 1;
    }
  }
  return out + "}\n";
}

// ---- Biscuit ----

namespace {

Result<std::shared_ptr<const internal::TokenData>> VerifyAndDecode(internal::TokenData t,
                                                                   const PublicKey& root) {
  KISEE_RETURN_IF_ERROR(t.VerifySignatures(root));
  KISEE_RETURN_IF_ERROR(t.DecodeBlocks());
  return std::make_shared<const internal::TokenData>(std::move(t));
}

}  // namespace

// A fixed root key skips the provider indirection (a std::function holding
// a copy of the key, and another copy per call): this is the hot path.
Result<Biscuit> Biscuit::FromBytes(ByteView bytes, const PublicKey& root) {
  KISEE_ASSIGN_OR_RETURN(internal::TokenData t, internal::TokenData::Deserialize(bytes));
  KISEE_ASSIGN_OR_RETURN(auto data, VerifyAndDecode(std::move(t), root));
  return Biscuit(std::move(data));
}

Result<Biscuit> Biscuit::FromBytes(ByteView bytes, const RootKeyProvider& provider) {
  KISEE_ASSIGN_OR_RETURN(internal::TokenData t, internal::TokenData::Deserialize(bytes));
  auto root = provider(t.root_key_id);
  if (!root) return std::unexpected<Error>(root.error());
  KISEE_ASSIGN_OR_RETURN(auto data, VerifyAndDecode(std::move(t), *root));
  return Biscuit(std::move(data));
}

Result<Biscuit> Biscuit::FromBase64(std::string_view text, const PublicKey& root) {
  KISEE_ASSIGN_OR_RETURN(Bytes bytes, DecodeBase64(text));
  return FromBytes(bytes, root);
}

Result<Biscuit> Biscuit::FromBase64(std::string_view text, const RootKeyProvider& provider) {
  KISEE_ASSIGN_OR_RETURN(Bytes bytes, DecodeBase64(text));
  return FromBytes(bytes, provider);
}

Result<Biscuit> Biscuit::Append(const BlockBuilder& block) const {
  return Append(block, KeyPair::Generate(Algorithm::kEd25519));
}

Result<Biscuit> Biscuit::Append(const BlockBuilder& block, const KeyPair& next) const {
  KISEE_ASSIGN_OR_RETURN(internal::TokenData t, data_->Append(block.content(), next));
  return Biscuit(std::make_shared<const internal::TokenData>(std::move(t)));
}

Result<Biscuit> Biscuit::Seal() const {
  KISEE_ASSIGN_OR_RETURN(internal::TokenData t, data_->Seal());
  return Biscuit(std::make_shared<const internal::TokenData>(std::move(t)));
}

Result<ThirdPartyRequest> Biscuit::CreateThirdPartyRequest() const { return data_->Request(); }

Result<Biscuit> Biscuit::AppendThirdParty(const ThirdPartyBlock& block) const {
  KISEE_ASSIGN_OR_RETURN(internal::TokenData t,
                         data_->AppendThirdParty(block, KeyPair::Generate(Algorithm::kEd25519)));
  return Biscuit(std::make_shared<const internal::TokenData>(std::move(t)));
}

// ---- UnverifiedBiscuit ----

Result<UnverifiedBiscuit> UnverifiedBiscuit::FromBytes(ByteView bytes) {
  KISEE_ASSIGN_OR_RETURN(internal::TokenData t, internal::TokenData::Deserialize(bytes));
  KISEE_RETURN_IF_ERROR(t.DecodeBlocks());
  return UnverifiedBiscuit(std::make_shared<const internal::TokenData>(std::move(t)));
}

Result<UnverifiedBiscuit> UnverifiedBiscuit::FromBase64(std::string_view text) {
  KISEE_ASSIGN_OR_RETURN(Bytes bytes, DecodeBase64(text));
  return FromBytes(bytes);
}

Result<Biscuit> UnverifiedBiscuit::Verify(const PublicKey& root) const {
  KISEE_RETURN_IF_ERROR(data_->VerifySignatures(root));
  return Biscuit(data_);
}

Result<Biscuit> UnverifiedBiscuit::Verify(const RootKeyProvider& provider) const {
  auto root = provider(data_->root_key_id);
  if (!root) return std::unexpected<Error>(root.error());
  KISEE_RETURN_IF_ERROR(data_->VerifySignatures(*root));
  return Biscuit(data_);
}

Result<UnverifiedBiscuit> UnverifiedBiscuit::Append(const BlockBuilder& block) const {
  KISEE_ASSIGN_OR_RETURN(internal::TokenData t,
                         data_->Append(block.content(), KeyPair::Generate(Algorithm::kEd25519)));
  return UnverifiedBiscuit(std::make_shared<const internal::TokenData>(std::move(t)));
}

Result<UnverifiedBiscuit> UnverifiedBiscuit::Seal() const {
  KISEE_ASSIGN_OR_RETURN(internal::TokenData t, data_->Seal());
  return UnverifiedBiscuit(std::make_shared<const internal::TokenData>(std::move(t)));
}

Result<ThirdPartyRequest> UnverifiedBiscuit::CreateThirdPartyRequest() const {
  return data_->Request();
}

Result<UnverifiedBiscuit> UnverifiedBiscuit::AppendThirdParty(const ThirdPartyBlock& block) const {
  KISEE_ASSIGN_OR_RETURN(internal::TokenData t,
                         data_->AppendThirdParty(block, KeyPair::Generate(Algorithm::kEd25519)));
  return UnverifiedBiscuit(std::make_shared<const internal::TokenData>(std::move(t)));
}

}  // namespace kisee::biscuit
