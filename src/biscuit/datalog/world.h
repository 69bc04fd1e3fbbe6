// The Datalog world: facts tagged by origin, rules with their trusted
// origins, evaluation to a fixpoint under run limits, and the queries that
// checks and policies run. Joins use per-origin hash indexes on the first
// bound argument, so matching `p($x, $y), q($y, $z)` costs one lookup per
// `p` fact instead of a scan of every `q`.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <span>
#include <unordered_set>

#include "biscuit/datalog/datalog.h"

namespace kisee::biscuit::datalog {

// Block id of the authorizer in origins.
inline constexpr std::uint32_t kAuthorizerId = 0xFFFFFFFFu;

// Origin: the set of block ids (and kAuthorizerId) that allowed a fact to
// exist. Blocks 0 to 63 and the authorizer are bits of one word, so the
// origins of ordinary tokens never allocate; later blocks of very long
// tokens go to a sorted list.
class Origin {
 public:
  void Insert(std::uint32_t id);
  void Merge(const Origin& other);
  bool IsSubsetOf(const Origin& other) const;
  // ids returns the members in increasing order (the authorizer last).
  std::vector<std::uint32_t> ids() const;
  // The order is arbitrary but total: origins key maps.
  auto operator<=>(const Origin&) const = default;
  bool operator==(const Origin&) const = default;

 private:
  static constexpr std::uint32_t kWordBits = 64;
  std::uint64_t low_ = 0;  // bit i: block i < 64
  bool authorizer_ = false;
  std::vector<std::uint32_t> high_;  // sorted block ids >= 64
};
using TrustedOrigins = Origin;

// DefaultTrusted: the authorizer and the authority block.
TrustedOrigins DefaultTrusted();
// TrustedFromScopes computes what a rule defined in `current_block` trusts.
// `default_origins` applies when `scopes` is empty; `key_blocks` maps a key
// index to the blocks signed by that key.
TrustedOrigins TrustedFromScopes(
    const std::vector<Scope>& scopes, const TrustedOrigins& default_origins,
    std::uint32_t current_block,
    const std::map<std::uint64_t, std::vector<std::uint32_t>>& key_blocks);

// A host function: `left.extern::name()` (right empty) or
// `left.extern::name(right)`. New strings go into `symbols`.
using ExternFunction =
    std::function<Result<Term>(SymbolTable& symbols, const Term& left, const Term* right)>;
using ExternFunctions = std::unordered_map<std::string, ExternFunction>;

// A rule variable while a body is matched: its id, the term it is bound to
// (null while free) and the body position that bound it.
struct Variable {
  std::uint32_t id = 0;
  const Term* value = nullptr;
  std::size_t depth = 0;
};

// Variables bound while matching a rule body.
struct Bindings {
  std::span<const Variable> variables;
};

// Evaluate runs an expression. REQUIRES: every variable in `bindings`.
Result<Term> Evaluate(const Expression& expression, const Bindings& bindings, SymbolTable& symbols,
                      const ExternFunctions& externs);

struct RunLimits {
  std::uint64_t max_facts = 1000;
  std::uint64_t max_iterations = 100;
  std::chrono::nanoseconds max_time = std::chrono::milliseconds(1);
};

// FactSet holds facts by origin, then by predicate name. A name's facts are
// kept in one vector in insertion order: joins scan it directly, and small
// worlds (the usual authorization) cost a few allocations, not one per fact.
// Past kScanLimit facts a name gets a hash index for deduplication, and
// joins build per-argument indexes on first use, so large worlds stay
// linear.
class FactSet {
 public:
  static constexpr std::size_t kScanLimit = 8;
  // Vectors of groups and of a name's facts start with room for a few: most
  // hold one to four, and growing from one reallocates twice on the way.
  static constexpr std::size_t kInitialCapacity = 4;

  struct Bucket {
    std::vector<Fact> facts;
    // Fact hash -> position; only past kScanLimit facts.
    std::unordered_multimap<std::size_t, std::uint32_t> by_hash;
    // Argument position -> term hash -> positions; built on first use.
    std::unordered_map<std::size_t, std::unordered_map<std::size_t, std::vector<std::uint32_t>>>
        indexes;
  };
  struct Group {
    Origin origin;
    std::unordered_map<std::uint64_t, Bucket> by_name;
  };

  FactSet() = default;
  // Groups and buckets are referred to by address.
  FactSet(const FactSet&) = delete;
  FactSet& operator=(const FactSet&) = delete;

  // Insert adds `fact` under `origin`; returns whether it was new there.
  bool Insert(const Origin& origin, Fact fact);
  std::size_t size() const { return size_; }
  // groups: in order of creation.
  const std::vector<Group*>& groups() const { return groups_; }
  // Lookup returns the positions of the facts of `bucket` whose argument
  // `position` hashes like `value` (a superset of the matches).
  // REQUIRES: no Insert while the returned list is in use.
  const std::vector<std::uint32_t>& Lookup(Bucket& bucket, std::size_t position, const Term& value);

 private:
  std::map<Origin, Group> by_origin_;
  std::vector<Group*> groups_;
  std::size_t size_ = 0;
};

struct WorldRule {
  std::uint32_t origin = 0;
  TrustedOrigins trusted;
  Rule rule;
};

// World owns facts and rules. It evaluates against a SymbolTable owned by the
// caller (strings made by expressions are interned there).
class World {
 public:
  void AddFact(const Origin& origin, Fact fact) { facts_.Insert(origin, std::move(fact)); }
  void AddRule(std::uint32_t origin, TrustedOrigins trusted, Rule rule);
  void set_externs(ExternFunctions externs) { externs_ = std::move(externs); }
  const ExternFunctions& externs() const { return externs_; }

  // Run applies the rules until no new fact appears, within `limits`
  // (kTooManyFacts / kTooManyIterations / kTimeout), or fails with an
  // Execution error from an expression.
  Status Run(SymbolTable& symbols, const RunLimits& limits);

  // QueryMatch: does `rule`'s body match at least once (expressions true)?
  Result<bool> QueryMatch(const Rule& rule, std::uint32_t origin, const TrustedOrigins& trusted,
                          SymbolTable& symbols);
  // QueryMatchAll: at least one match, and every match satisfies the
  // expressions (`check all`).
  Result<bool> QueryMatchAll(const Rule& rule, const TrustedOrigins& trusted, SymbolTable& symbols);
  // QueryFacts returns the facts `rule` produces (head instantiations).
  Result<std::vector<std::pair<Origin, Fact>>> QueryFacts(const Rule& rule, std::uint32_t origin,
                                                          const TrustedOrigins& trusted,
                                                          SymbolTable& symbols);

  const FactSet& facts() const { return facts_; }
  const std::vector<WorldRule>& rules() const { return rules_; }
  std::uint64_t iterations() const { return iterations_; }
  // match_attempts counts facts tried against body predicates, over every
  // evaluation so far: it shows whether joins went through the indexes.
  std::uint64_t match_attempts() const { return match_attempts_; }

 private:
  FactSet facts_;
  std::vector<WorldRule> rules_;
  ExternFunctions externs_;
  std::uint64_t iterations_ = 0;
  std::uint64_t match_attempts_ = 0;
};

}  // namespace kisee::biscuit::datalog
