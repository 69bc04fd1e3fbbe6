// The Datalog engine's data model: terms, predicates, facts, rules, checks,
// expressions, scopes, and the symbol table that interns strings and public
// keys. Strings are symbol ids (as on the wire), so equality and hashing are
// integer operations. No crypto and no I/O here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kisee/biscuit/error.h"
#include "kisee/core/bytes.h"
#include "kisee/core/error.h"

namespace kisee::biscuit::datalog {

// Term kinds, in the reference's ordering (it defines how sets sort).
enum class TermKind : std::uint8_t {
  kVariable = 0,
  kInteger,
  kString,
  kDate,
  kBytes,
  kBool,
  kSet,
  kNull,
  kArray,
  kMap,
  kParameter,  // a `{name}` placeholder, only before parameters are applied
};

struct Term;

// Payload of the non-scalar terms; shared and immutable.
struct TermPayload {
  Bytes bytes;                                 // kBytes
  std::vector<Term> items;                     // kSet (sorted, unique) / kArray
  std::vector<std::pair<Term, Term>> entries;  // kMap (sorted by key, unique keys)
  std::string name;                            // kParameter
};

// Term is a Datalog value (or variable). Cheap to copy.
struct Term {
  TermKind kind = TermKind::kNull;
  std::uint64_t bits = 0;  // variable id, integer (two's complement), symbol, date, bool
  std::shared_ptr<const TermPayload> payload;

  static Term Variable(std::uint32_t id) { return {TermKind::kVariable, id, nullptr}; }
  static Term Integer(std::int64_t v) {
    return {TermKind::kInteger, static_cast<std::uint64_t>(v), nullptr};
  }
  static Term String(std::uint64_t symbol) { return {TermKind::kString, symbol, nullptr}; }
  static Term Date(std::uint64_t seconds) { return {TermKind::kDate, seconds, nullptr}; }
  static Term Bool(bool v) { return {TermKind::kBool, v ? 1u : 0u, nullptr}; }
  static Term Null() { return {TermKind::kNull, 0, nullptr}; }
  static Term MakeBytes(Bytes bytes);
  // MakeSet sorts and deduplicates `items`.
  static Term MakeSet(std::vector<Term> items);
  static Term MakeArray(std::vector<Term> items);
  // MakeMap sorts by key; for duplicate keys the last value wins.
  static Term MakeMap(std::vector<std::pair<Term, Term>> entries);
  static Term Parameter(std::string name);

  std::int64_t integer() const { return static_cast<std::int64_t>(bits); }
  bool boolean() const { return bits != 0; }
  const Bytes& bytes() const { return payload->bytes; }
  const std::vector<Term>& items() const { return payload->items; }
  const std::vector<std::pair<Term, Term>>& entries() const { return payload->entries; }
  const std::string& parameter_name() const { return payload->name; }
  bool is_variable() const { return kind == TermKind::kVariable; }
};

int Compare(const Term& a, const Term& b);
inline bool operator==(const Term& a, const Term& b) { return Compare(a, b) == 0; }
inline bool operator<(const Term& a, const Term& b) { return Compare(a, b) < 0; }
std::size_t HashTerm(const Term& t);
struct TermHash {
  std::size_t operator()(const Term& t) const { return HashTerm(t); }
};

struct Predicate {
  std::uint64_t name = 0;
  std::vector<Term> terms;
};
bool operator==(const Predicate& a, const Predicate& b);

struct Fact {
  Predicate predicate;
};
inline bool operator==(const Fact& a, const Fact& b) { return a.predicate == b.predicate; }
std::size_t HashFact(const Fact& f);
struct FactHash {
  std::size_t operator()(const Fact& f) const { return HashFact(f); }
};

// Public keys as the Datalog layer sees them: plain data.
struct PublicKeyData {
  std::int32_t algorithm = 0;  // 0 Ed25519, 1 secp256r1 (wire values)
  Bytes key;
  bool operator==(const PublicKeyData&) const = default;
  // ToString prints `ed25519/<hex>` or `secp256r1/<hex>`.
  std::string ToString() const;
};

enum class ScopeKind : std::uint8_t { kAuthority, kPrevious, kPublicKey, kParameter };
struct Scope {
  ScopeKind kind = ScopeKind::kAuthority;
  std::uint64_t public_key = 0;  // index in the symbol table's key list
  std::string parameter;         // kParameter
  bool operator==(const Scope&) const = default;
};

enum class UnaryOp : std::uint8_t { kNegate = 0, kParens, kLength, kTypeOf, kFfi };
enum class BinaryOp : std::uint8_t {
  kLessThan = 0,
  kGreaterThan,
  kLessOrEqual,
  kGreaterOrEqual,
  kEqual,
  kContains,
  kPrefix,
  kSuffix,
  kRegex,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kAnd,
  kOr,
  kIntersection,
  kUnion,
  kBitwiseAnd,
  kBitwiseOr,
  kBitwiseXor,
  kNotEqual,
  kHeterogeneousEqual,
  kHeterogeneousNotEqual,
  kLazyAnd,
  kLazyOr,
  kAll,
  kAny,
  kGet,
  kFfi,
  kTryOr,
};
constexpr int kMaxBinaryOp = static_cast<int>(BinaryOp::kTryOr);

struct Op;
struct Closure {
  std::vector<std::uint32_t> params;
  std::vector<Op> ops;
};

enum class OpKind : std::uint8_t { kValue, kUnary, kBinary, kClosure };
struct Op {
  OpKind kind = OpKind::kValue;
  Term value;  // kValue
  UnaryOp unary = UnaryOp::kNegate;
  BinaryOp binary = BinaryOp::kLessThan;
  std::uint64_t ffi_name = 0;              // kFfi (unary or binary)
  std::shared_ptr<const Closure> closure;  // kClosure
};

struct Expression {
  std::vector<Op> ops;
};

struct Rule {
  Predicate head;
  std::vector<Predicate> body;
  std::vector<Expression> expressions;
  std::vector<Scope> scopes;
};

enum class CheckKind : std::uint8_t { kOne = 0, kAll = 1, kReject = 2 };
struct Check {
  std::vector<Rule> queries;
  CheckKind kind = CheckKind::kOne;
};

enum class PolicyKind : std::uint8_t { kAllow = 0, kDeny = 1 };
struct Policy {
  std::vector<Rule> queries;
  PolicyKind kind = PolicyKind::kAllow;
};

// The 28 default symbols, then user symbols from 1024.
inline constexpr std::uint64_t kSymbolOffset = 1024;
std::span<const std::string_view> DefaultSymbols();

// Heterogeneous string hashing, so lookups by string_view allocate nothing.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// SymbolTable interns strings and public keys. Not thread-safe.
class SymbolTable {
 public:
  SymbolTable() = default;

  // Insert returns the id of `s`, adding it if needed.
  std::uint64_t Insert(std::string_view s);
  // Find returns the id of `s` if present.
  std::optional<std::uint64_t> Find(std::string_view s) const;
  // Get returns the string of `id`, or nullopt if unknown.
  std::optional<std::string_view> Get(std::uint64_t id) const;
  // GetOr prints unknown ids as the reference does ("<id?>").
  std::string GetOr(std::uint64_t id) const;
  // Extend appends `symbols` (a block's list); kSymbolTableOverlap if any of
  // them is already present (default or previous).
  Status Extend(const std::vector<std::string>& symbols);

  std::uint64_t InsertKey(const PublicKeyData& key);
  std::optional<std::uint64_t> FindKey(const PublicKeyData& key) const;
  const PublicKeyData* GetKey(std::uint64_t index) const;
  // ExtendKeys appends a block's key list; kPublicKeyTableOverlap on repeats.
  Status ExtendKeys(const std::vector<PublicKeyData>& keys);

  // user_symbols: the strings from 1024 on, in order.
  const std::vector<std::string>& user_symbols() const { return symbols_; }
  const std::vector<PublicKeyData>& keys() const { return keys_; }
  std::size_t size() const { return symbols_.size(); }

 private:
  // A token's table holds a handful of strings: up to kScanLimit a scan
  // finds them, which beats hashing and allocates nothing; past that,
  // index_ is built and kept up to date.
  static constexpr std::size_t kScanLimit = 16;
  std::optional<std::uint64_t> FindUser(std::string_view s) const;
  void Add(std::string_view s);

  std::vector<std::string> symbols_;
  std::unordered_map<std::string, std::uint64_t, StringHash, std::equal_to<>> index_;
  std::vector<PublicKeyData> keys_;
};

// Block is the decoded Datalog content of one token block, with ids in the
// table the block was written against.
struct Block {
  std::vector<std::string> symbols;        // symbols this block adds
  std::vector<PublicKeyData> public_keys;  // keys this block adds
  std::optional<std::string> context;
  std::uint32_t version = 3;
  std::vector<Fact> facts;
  std::vector<Rule> rules;
  std::vector<Check> checks;
  std::vector<Scope> scopes;
  std::optional<PublicKeyData> external_key;
};

// Datalog versions carried in blocks.
inline constexpr std::uint32_t kMinSchemaVersion = 3;
inline constexpr std::uint32_t kDatalog31 = 4;
inline constexpr std::uint32_t kDatalog32 = 5;
inline constexpr std::uint32_t kDatalog33 = 6;
inline constexpr std::uint32_t kMaxSchemaVersion = 6;

// MinimumVersion returns the lowest Datalog version able to carry the content.
std::uint32_t MinimumVersion(const Block& block);
// CheckVersionCompatibility refuses content that `version` cannot carry.
Status CheckVersionCompatibility(const Block& block, std::uint32_t version);

// Translator re-interns symbols and keys from one table into another (used to
// bring token blocks into the authorizer's table, or builder content into a
// token's table). New strings enter `to` in order of first use. Remap
// rewrites a copy in place; Translate returns a translated copy.
class Translator {
 public:
  Translator(const SymbolTable& from, SymbolTable& to) : from_(from), to_(to) {}
  Status Remap(Term& t);
  Status Remap(Predicate& p);
  Status Remap(Fact& f) { return Remap(f.predicate); }
  Status Remap(Rule& r);
  Status Remap(Check& c);
  Status Remap(Policy& p);
  Status Remap(Scope& s);
  Status Remap(Expression& e) { return RemapOps(e.ops); }

  template <typename T>
  Result<T> Translate(const T& x) {
    T out = x;
    KISEE_RETURN_IF_ERROR(Remap(out));
    return out;
  }

 private:
  Status Symbol(std::uint64_t& id);
  Status RemapOps(std::vector<Op>& ops);
  const SymbolTable& from_;
  SymbolTable& to_;
  // cache_[id - kSymbolOffset]: the translated user symbol, or kUnmapped.
  static constexpr std::uint64_t kUnmapped = ~std::uint64_t{0};
  std::vector<std::uint64_t> cache_;
};

// RuleVariablesAreBound: every head variable appears in the body predicates.
bool RuleVariablesAreBound(const Rule& rule);

}  // namespace kisee::biscuit::datalog
