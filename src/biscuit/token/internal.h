// Internal representation of builders and tokens, shared by token/ and
// authorizer/.
#pragma once

#include <optional>

#include "biscuit/datalog/datalog.h"
#include "biscuit/parser/parser.h"
#include "kisee/biscuit/biscuit.h"

namespace kisee::biscuit::internal {

// Parsed builder content with strings interned in its own table.
struct BuilderContent {
  datalog::SymbolTable symbols;
  parser::SourceResult source;
  std::optional<std::string> context;
};

// ApplyParams substitutes `{name}` terms and scopes in `source`; every
// placeholder must have a value and every value must be used.
Status ApplyParams(parser::SourceResult& source, datalog::SymbolTable& symbols,
                   const Params& params, const ScopeParams& scope_params);

// AppendSource moves everything parsed in `from` to the end of `to`.
void AppendSource(parser::SourceResult& to, parser::SourceResult&& from);

// Value <-> Term through a symbol table.
datalog::Term ValueToTerm(const Value& value, datalog::SymbolTable& symbols);
Result<Value> TermToValue(const datalog::Term& term, const datalog::SymbolTable& symbols);

datalog::PublicKeyData ToKeyData(const PublicKey& key);
Result<PublicKey> FromKeyData(const datalog::PublicKeyData& key);

struct ExternalSignature {
  Bytes signature;
  PublicKey key;
};

struct SignedBlock {
  Bytes data;  // the stored block bytes: signatures always cover these
  PublicKey next_key;
  Bytes signature;
  std::optional<ExternalSignature> external;
  std::uint32_t version = 0;  // signature payload version
};

struct TokenData {
  std::optional<std::uint32_t> root_key_id;
  std::vector<SignedBlock> blocks;  // [0] is the authority block
  std::optional<PrivateKey> next_secret;
  Bytes final_signature;  // when sealed
  std::vector<datalog::Block> decoded;
  // Default symbols, then the symbols and keys of every first-party block.
  datalog::SymbolTable symbols;

  bool sealed() const { return !next_secret.has_value(); }

  // SymbolsFor is the table block `index` was written against (the token's,
  // or its own for a third-party block).
  datalog::SymbolTable SymbolsFor(std::size_t index) const;
  const datalog::SymbolTable& TableFor(std::size_t index, datalog::SymbolTable& scratch) const;

  static Result<TokenData> Deserialize(ByteView bytes);
  // DecodeBlocks fills `decoded` and `symbols` from the block bytes.
  Status DecodeBlocks();
  Status VerifySignatures(const PublicKey& root) const;
  Result<Bytes> Serialize() const;

  // New builds a token from an authority block builder.
  static Result<TokenData> New(std::optional<std::uint32_t> root_key_id, const KeyPair& root,
                               const KeyPair& next, const BuilderContent& authority);
  Result<TokenData> Append(const BuilderContent& block, const KeyPair& next) const;
  Result<TokenData> Seal() const;
  Result<ThirdPartyRequest> Request() const;
  Result<TokenData> AppendThirdParty(const ThirdPartyBlock& block, const KeyPair& next) const;

  // Helpers for the third-party classes (which befriend TokenData).
  static Result<ThirdPartyBlock> MakeThirdPartyBlock(Bytes payload, Bytes signature, PublicKey key);
  static Bytes& RequestSignature(ThirdPartyRequest& request);
  static const Bytes& RequestSignature(const ThirdPartyRequest& request);
};

// BuildBlock translates builder content into a block against `table`
// (which receives the new symbols and keys).
Result<datalog::Block> BuildBlock(const BuilderContent& content, datalog::SymbolTable& table,
                                  std::uint32_t minimum_version);

}  // namespace kisee::biscuit::internal
