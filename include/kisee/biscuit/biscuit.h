// Biscuit tokens (specification v3.3): building, attenuating, sealing,
// third-party blocks, serialization, and verification. A verified `Biscuit`
// only comes out of a verifying parse (FromBytes/FromBase64 with a root key
// or a root key provider) or out of building with the root private key;
// `UnverifiedBiscuit` is its own type with an explicit `Verify`.
//
// Tokens are immutable values; every operation returns a new token. They are
// safe to share between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kisee/biscuit/error.h"
#include "kisee/biscuit/keys.h"
#include "kisee/biscuit/value.h"

namespace kisee::biscuit {

namespace internal {
struct BuilderContent;
struct TokenData;
}  // namespace internal

// Scope parameters of Datalog text: `trusting {name}` placeholders.
using ScopeParams = std::map<std::string, PublicKey>;

// RootKeyProvider picks the root public key from the token's root key id.
using RootKeyProvider = std::function<Result<PublicKey>(std::optional<std::uint32_t> key_id)>;

// BlockBuilder collects facts, rules and checks for a block.
class BlockBuilder {
 public:
  BlockBuilder();
  ~BlockBuilder();
  BlockBuilder(const BlockBuilder& other);
  BlockBuilder& operator=(const BlockBuilder& other);
  BlockBuilder(BlockBuilder&&) noexcept;
  BlockBuilder& operator=(BlockBuilder&&) noexcept;

  // AddCode parses Datalog source (facts, rules, checks and an optional
  // leading `trusting ...;`) and substitutes `{name}` parameters. Errors:
  // kParse, kMissingParameter, kUnusedParameter. On error nothing is added.
  Status AddCode(std::string_view code, const Params& params = {},
                 const ScopeParams& scope_params = {});
  Status AddFact(std::string_view fact, const Params& params = {});
  Status AddRule(std::string_view rule, const Params& params = {},
                 const ScopeParams& scope_params = {});
  Status AddCheck(std::string_view check, const Params& params = {},
                  const ScopeParams& scope_params = {});
  // SetContext sets the block's free-form context string.
  void SetContext(std::string context);
  // ToString prints the content in canonical Datalog.
  std::string ToString() const;

  const internal::BuilderContent& content() const { return *content_; }

 private:
  std::unique_ptr<internal::BuilderContent> content_;
};

// BiscuitBuilder builds the authority block and signs a new token.
class BiscuitBuilder {
 public:
  BiscuitBuilder() = default;
  Status AddCode(std::string_view code, const Params& params = {},
                 const ScopeParams& scope_params = {}) {
    return block_.AddCode(code, params, scope_params);
  }
  Status AddFact(std::string_view fact, const Params& params = {}) {
    return block_.AddFact(fact, params);
  }
  Status AddRule(std::string_view rule, const Params& params = {},
                 const ScopeParams& scope_params = {}) {
    return block_.AddRule(rule, params, scope_params);
  }
  Status AddCheck(std::string_view check, const Params& params = {},
                  const ScopeParams& scope_params = {}) {
    return block_.AddCheck(check, params, scope_params);
  }
  void SetContext(std::string context) { block_.SetContext(std::move(context)); }
  void SetRootKeyId(std::uint32_t id) { root_key_id_ = id; }
  std::string ToString() const { return block_.ToString(); }

  // Build signs the authority block with `root`; the next key is a fresh
  // Ed25519 key (or `next` when given).
  Result<class Biscuit> Build(const KeyPair& root) const;
  Result<class Biscuit> Build(const KeyPair& root, const KeyPair& next) const;

 private:
  BlockBuilder block_;
  std::optional<std::uint32_t> root_key_id_;
};

// ThirdPartyRequest is what a token holder sends to a third party: the
// signature of the token's last block, to which the new block is bound.
class ThirdPartyRequest {
 public:
  static Result<ThirdPartyRequest> FromBytes(ByteView bytes);
  static Result<ThirdPartyRequest> FromBase64(std::string_view text);
  Result<Bytes> ToBytes() const;
  Result<std::string> ToBase64() const;
  // CreateBlock serializes `block` and signs it with the third party's key.
  Result<class ThirdPartyBlock> CreateBlock(const PrivateKey& key, const BlockBuilder& block) const;

 private:
  friend struct internal::TokenData;
  Bytes previous_signature_;
};

// ThirdPartyBlock is the third party's answer: the block and its external
// signature.
class ThirdPartyBlock {
 public:
  static Result<ThirdPartyBlock> FromBytes(ByteView bytes);
  static Result<ThirdPartyBlock> FromBase64(std::string_view text);
  Result<Bytes> ToBytes() const;
  Result<std::string> ToBase64() const;
  const PublicKey& external_key() const { return *external_key_; }

 private:
  friend class ThirdPartyRequest;
  friend struct internal::TokenData;
  Bytes payload_;
  Bytes signature_;
  std::optional<PublicKey> external_key_;
};

// Shared read-only accessors of both token types.
class TokenView {
 public:
  std::optional<std::uint32_t> root_key_id() const;
  // block_count includes the authority block.
  std::size_t block_count() const;
  bool sealed() const;
  // RevocationIds: each block's signature, in block order.
  std::vector<Bytes> RevocationIds() const;
  // BlockSource prints block `index` in canonical Datalog (kInvalidArgument
  // if out of range).
  Result<std::string> BlockSource(std::size_t index) const;
  std::optional<PublicKey> BlockExternalKey(std::size_t index) const;
  std::uint32_t BlockVersion(std::size_t index) const;
  std::vector<std::string> BlockSymbols(std::size_t index) const;
  std::vector<std::string> BlockPublicKeys(std::size_t index) const;
  std::optional<std::string> BlockContext(std::size_t index) const;
  Result<Bytes> ToBytes() const;
  // ToBase64 is URL-safe base64 with padding.
  Result<std::string> ToBase64() const;
  // Print describes the token (blocks, keys, sealed state) for humans.
  std::string Print() const;

  const internal::TokenData& data() const { return *data_; }

 protected:
  TokenView() = default;
  explicit TokenView(std::shared_ptr<const internal::TokenData> data) : data_(std::move(data)) {}
  std::shared_ptr<const internal::TokenData> data_;
};

// Biscuit is a token whose signatures were verified against a root key.
class Biscuit : public TokenView {
 public:
  // FromBytes / FromBase64 parse and verify (signatures, then block decoding).
  // Errors are Format errors (kDeserialization, kInvalidSignature, ...).
  static Result<Biscuit> FromBytes(ByteView bytes, const PublicKey& root);
  static Result<Biscuit> FromBytes(ByteView bytes, const RootKeyProvider& provider);
  // Base64: URL-safe alphabet, padding optional.
  static Result<Biscuit> FromBase64(std::string_view text, const PublicKey& root);
  static Result<Biscuit> FromBase64(std::string_view text, const RootKeyProvider& provider);

  // Append adds an attenuation block signed with the token's next key; the
  // new next key is a fresh Ed25519 key (or `next`). kAppendOnSealed if sealed.
  Result<Biscuit> Append(const BlockBuilder& block) const;
  Result<Biscuit> Append(const BlockBuilder& block, const KeyPair& next) const;
  // Seal replaces the next secret with a final signature: no more blocks.
  Result<Biscuit> Seal() const;
  Result<ThirdPartyRequest> CreateThirdPartyRequest() const;
  // AppendThirdParty verifies the external signature against this token and
  // appends the block.
  Result<Biscuit> AppendThirdParty(const ThirdPartyBlock& block) const;

 private:
  friend class BiscuitBuilder;
  friend class UnverifiedBiscuit;
  using TokenView::TokenView;
};

// UnverifiedBiscuit is a parsed token whose signatures were not checked, for
// tooling (inspection, attenuation without the root key).
class UnverifiedBiscuit : public TokenView {
 public:
  static Result<UnverifiedBiscuit> FromBytes(ByteView bytes);
  static Result<UnverifiedBiscuit> FromBase64(std::string_view text);
  // Verify checks the signatures with `root` and returns the verified token.
  Result<Biscuit> Verify(const PublicKey& root) const;
  Result<Biscuit> Verify(const RootKeyProvider& provider) const;

  Result<UnverifiedBiscuit> Append(const BlockBuilder& block) const;
  Result<UnverifiedBiscuit> Seal() const;
  Result<ThirdPartyRequest> CreateThirdPartyRequest() const;
  Result<UnverifiedBiscuit> AppendThirdParty(const ThirdPartyBlock& block) const;

 private:
  using TokenView::TokenView;
};

// DecodeBase64 accepts URL-safe base64 with or without padding (and the
// standard alphabet's two characters).
Result<Bytes> DecodeBase64(std::string_view text);
// EncodeBase64 writes URL-safe base64 with padding.
std::string EncodeBase64(ByteView bytes);

}  // namespace kisee::biscuit
