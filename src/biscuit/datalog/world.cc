#include "biscuit/datalog/world.h"

#include <algorithm>

#include "kisee/core/error.h"

namespace kisee::biscuit::datalog {

void Origin::Insert(std::uint32_t id) {
  if (id == kAuthorizerId) {
    authorizer_ = true;
  } else if (id < kWordBits) {
    low_ |= std::uint64_t{1} << id;
  } else if (auto it = std::lower_bound(high_.begin(), high_.end(), id);
             it == high_.end() || *it != id) {
    high_.insert(it, id);
  }
}

void Origin::Merge(const Origin& other) {
  low_ |= other.low_;
  authorizer_ = authorizer_ || other.authorizer_;
  for (std::uint32_t id : other.high_) {
    Insert(id);
  }
}

bool Origin::IsSubsetOf(const Origin& other) const {
  return (low_ & ~other.low_) == 0 && (!authorizer_ || other.authorizer_) &&
         std::includes(other.high_.begin(), other.high_.end(), high_.begin(), high_.end());
}

std::vector<std::uint32_t> Origin::ids() const {
  std::vector<std::uint32_t> out;
  for (std::uint32_t i = 0; i < kWordBits; ++i) {
    if ((low_ >> i) & 1) {
      out.push_back(i);
    }
  }
  out.insert(out.end(), high_.begin(), high_.end());
  if (authorizer_) {
    out.push_back(kAuthorizerId);
  }
  return out;
}

TrustedOrigins DefaultTrusted() {
  TrustedOrigins t;
  t.Insert(0);
  t.Insert(kAuthorizerId);
  return t;
}

TrustedOrigins TrustedFromScopes(
    const std::vector<Scope>& scopes, const TrustedOrigins& default_origins,
    std::uint32_t current_block,
    const std::map<std::uint64_t, std::vector<std::uint32_t>>& key_blocks) {
  if (scopes.empty()) {
    TrustedOrigins t = default_origins;
    t.Insert(current_block);
    t.Insert(kAuthorizerId);
    return t;
  }
  TrustedOrigins t;
  t.Insert(kAuthorizerId);
  t.Insert(current_block);
  for (const Scope& scope : scopes) {
    switch (scope.kind) {
      case ScopeKind::kAuthority:
        t.Insert(0);
        break;
      case ScopeKind::kPrevious:
        // `previous` means nothing for the authorizer.
        if (current_block != kAuthorizerId) {
          for (std::uint32_t i = 0; i <= current_block; ++i) {
            t.Insert(i);
          }
        }
        break;
      case ScopeKind::kPublicKey:
        if (auto it = key_blocks.find(scope.public_key); it != key_blocks.end()) {
          for (std::uint32_t id : it->second) {
            t.Insert(id);
          }
        }
        break;
      case ScopeKind::kParameter:
        break;
    }
  }
  return t;
}

bool FactSet::Insert(const Origin& origin, Fact fact) {
  auto [slot, created] = by_origin_.try_emplace(origin);
  Group& group = slot->second;
  if (created) {
    group.origin = origin;
    if (groups_.empty()) {
      groups_.reserve(kInitialCapacity);
    }
    groups_.push_back(&group);
  }
  Bucket& bucket = group.by_name[fact.predicate.name];
  std::vector<Fact>& facts = bucket.facts;
  if (facts.empty()) {
    facts.reserve(kInitialCapacity);
  }
  // Names are equal within a bucket, so only the terms are compared.
  auto same = [&fact](const Fact& f) { return f.predicate.terms == fact.predicate.terms; };
  std::size_t hash = 0;
  if (facts.size() < kScanLimit) {
    if (std::any_of(facts.begin(), facts.end(), same)) {
      return false;
    }
  } else {
    if (facts.size() == kScanLimit) {
      for (std::uint32_t i = 0; i < facts.size(); ++i) {
        bucket.by_hash.emplace(HashFact(facts[i]), i);
      }
    }
    hash = HashFact(fact);
    auto [first, last] = bucket.by_hash.equal_range(hash);
    for (auto it = first; it != last; ++it) {
      if (same(facts[it->second])) {
        return false;
      }
    }
  }
  const auto position = static_cast<std::uint32_t>(facts.size());
  if (facts.size() >= kScanLimit) {
    bucket.by_hash.emplace(hash, position);
  }
  facts.push_back(std::move(fact));
  ++size_;
  // Keep already-built indexes current.
  const auto& terms = facts.back().predicate.terms;
  for (auto& [index_position, index] : bucket.indexes) {
    if (index_position < terms.size()) {
      index[HashTerm(terms[index_position])].push_back(position);
    }
  }
  return true;
}

const std::vector<std::uint32_t>& FactSet::Lookup(Bucket& bucket, std::size_t position,
                                                  const Term& value) {
  static const std::vector<std::uint32_t> kEmpty;
  auto [idx, created] = bucket.indexes.try_emplace(position);
  if (created) {
    for (std::uint32_t i = 0; i < bucket.facts.size(); ++i) {
      const auto& terms = bucket.facts[i].predicate.terms;
      if (position < terms.size()) {
        idx->second[HashTerm(terms[position])].push_back(i);
      }
    }
  }
  auto hit = idx->second.find(HashTerm(value));
  return hit == idx->second.end() ? kEmpty : hit->second;
}

namespace {

// Small lists are scanned; an index pays off above this size.
constexpr std::size_t kIndexThreshold = 8;

// Matcher enumerates the variable assignments that satisfy a rule body over
// the facts whose origin the rule trusts, calling `emit` for each assignment
// whose expressions hold. `emit` returns false to stop. It allocates at most
// two small arrays (variables, matched groups): queries run for every check
// and policy, and rules for every match.
class Matcher {
 public:
  Matcher(FactSet& facts, const Rule& rule, const TrustedOrigins& trusted, std::uint64_t& attempts)
      : facts_(facts), rule_(rule), trusted_(trusted), attempts_(attempts) {
    std::size_t terms = 0;
    for (const Predicate& p : rule.body) {
      terms += p.terms.size();
    }
    vars_.reserve(terms);
    for (const Predicate& p : rule.body) {
      for (const Term& t : p.terms) {
        if (t.is_variable() && SlotOf(static_cast<std::uint32_t>(t.bits)) < 0) {
          vars_.push_back({static_cast<std::uint32_t>(t.bits), nullptr, 0});
        }
      }
    }
    matched_.assign(rule.body.size(), nullptr);
  }

  // Visit calls `on_match()` for each full body match, before expressions
  // are evaluated; used by all query kinds.
  template <typename F>
  Status Visit(F&& on_match) {
    stop_ = false;
    return Join(0, on_match);
  }

  Bindings bindings() const { return Bindings{vars_}; }

  Origin MatchedOrigin() const {
    Origin o;
    for (const FactSet::Group* g : matched_) {
      o.Merge(g->origin);
    }
    return o;
  }

  const Term* Value(std::uint32_t var) const {
    int slot = SlotOf(var);
    return slot < 0 ? nullptr : vars_[static_cast<std::size_t>(slot)].value;
  }

 private:
  int SlotOf(std::uint32_t var) const {
    for (std::size_t i = 0; i < vars_.size(); ++i) {
      if (vars_[i].id == var) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }

  template <typename F>
  Status Join(std::size_t depth, F& on_match) {
    if (depth == rule_.body.size()) {
      KISEE_ASSIGN_OR_RETURN(bool go_on, on_match());
      stop_ = !go_on;
      return {};
    }
    const Predicate& pred = rule_.body[depth];
    // The first argument whose value is known picks the index.
    std::size_t key_pos = pred.terms.size();
    const Term* key_value = nullptr;
    for (std::size_t i = 0; i < pred.terms.size(); ++i) {
      const Term& t = pred.terms[i];
      if (!t.is_variable()) {
        key_pos = i;
        key_value = &t;
        break;
      }
      if (const Term* v = Value(static_cast<std::uint32_t>(t.bits)); v != nullptr) {
        key_pos = i;
        key_value = v;
        break;
      }
    }
    // Groups are tested here rather than listed up front: a subset test is
    // two word operations, and the list would be an allocation per query.
    for (FactSet::Group* group : facts_.groups()) {
      if (!group->origin.IsSubsetOf(trusted_)) {
        continue;
      }
      auto named = group->by_name.find(pred.name);
      if (named == group->by_name.end()) {
        continue;
      }
      FactSet::Bucket& bucket = named->second;
      matched_[depth] = group;
      if (key_value != nullptr && bucket.facts.size() > kIndexThreshold) {
        for (std::uint32_t position : facts_.Lookup(bucket, key_pos, *key_value)) {
          KISEE_RETURN_IF_ERROR(Try(pred, bucket.facts[position], depth, on_match));
          if (stop_) {
            return {};
          }
        }
      } else {
        for (const Fact& fact : bucket.facts) {
          KISEE_RETURN_IF_ERROR(Try(pred, fact, depth, on_match));
          if (stop_) {
            return {};
          }
        }
      }
    }
    return {};
  }

  // Try matches `fact` against body predicate `depth`, then the rest.
  template <typename F>
  Status Try(const Predicate& pred, const Fact& fact, std::size_t depth, F& on_match) {
    ++attempts_;
    Status status;
    if (Unify(pred, fact, depth)) {
      status = Join(depth + 1, on_match);
    }
    Unbind(depth);
    return status;
  }

  // Unify binds the free variables of `pred` to the terms of `fact`. The
  // variables it binds are the ones still unbound at this depth; Unbind
  // clears them again (on failure too).
  bool Unify(const Predicate& pred, const Fact& fact, std::size_t depth) {
    const auto& terms = fact.predicate.terms;
    if (terms.size() != pred.terms.size()) {
      return false;
    }
    for (std::size_t i = 0; i < terms.size(); ++i) {
      const Term& p = pred.terms[i];
      if (!p.is_variable()) {
        if (!(p == terms[i])) {
          return false;
        }
        continue;
      }
      int slot = SlotOf(static_cast<std::uint32_t>(p.bits));
      Variable& var = vars_[static_cast<std::size_t>(slot)];
      if (var.value == nullptr) {
        var.value = &terms[i];
        var.depth = depth;
      } else if (!(*var.value == terms[i])) {
        return false;
      }
    }
    return true;
  }

  void Unbind(std::size_t depth) {
    for (Variable& var : vars_) {
      if (var.value != nullptr && var.depth == depth) {
        var.value = nullptr;
      }
    }
  }

  FactSet& facts_;
  const Rule& rule_;
  const TrustedOrigins& trusted_;
  std::uint64_t& attempts_;
  std::vector<Variable> vars_;
  std::vector<const FactSet::Group*> matched_;
  bool stop_ = false;
};

// ExpressionsHold evaluates every expression; false as soon as one is false.
Result<bool> ExpressionsHold(const Rule& rule, const Matcher& m, SymbolTable& symbols,
                             const ExternFunctions& externs) {
  Bindings bindings = m.bindings();
  for (const Expression& e : rule.expressions) {
    KISEE_ASSIGN_OR_RETURN(Term result, Evaluate(e, bindings, symbols, externs));
    if (result.kind != TermKind::kBool) {
      return MakeError(ErrorKind::kInvalidType, "expression did not return a boolean");
    }
    if (!result.boolean()) {
      return false;
    }
  }
  return true;
}

// Head instantiates the rule head; nullopt if a head variable is unbound.
std::optional<Fact> Head(const Rule& rule, const Matcher& m) {
  Fact fact;
  fact.predicate.name = rule.head.name;
  fact.predicate.terms.reserve(rule.head.terms.size());
  for (const Term& t : rule.head.terms) {
    if (t.is_variable()) {
      const Term* v = m.Value(static_cast<std::uint32_t>(t.bits));
      if (v == nullptr) {
        return std::nullopt;
      }
      fact.predicate.terms.push_back(*v);
    } else {
      fact.predicate.terms.push_back(t);
    }
  }
  return fact;
}

Status Produce(FactSet& facts, const Rule& rule, std::uint32_t origin,
               const TrustedOrigins& trusted, SymbolTable& symbols, const ExternFunctions& externs,
               std::vector<std::pair<Origin, Fact>>& out, std::uint64_t& attempts) {
  Matcher m(facts, rule, trusted, attempts);
  return m.Visit([&]() -> Result<bool> {
    KISEE_ASSIGN_OR_RETURN(bool ok, ExpressionsHold(rule, m, symbols, externs));
    if (ok) {
      if (auto fact = Head(rule, m); fact.has_value()) {
        Origin o = m.MatchedOrigin();
        o.Insert(origin);
        out.emplace_back(std::move(o), std::move(*fact));
      }
    }
    return true;
  });
}

}  // namespace

void World::AddRule(std::uint32_t origin, TrustedOrigins trusted, Rule rule) {
  rules_.push_back({origin, std::move(trusted), std::move(rule)});
}

Status World::Run(SymbolTable& symbols, const RunLimits& limits) {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + limits.max_time;
  std::uint64_t index = 0;
  Status result;
  std::vector<std::pair<Origin, Fact>> produced;
  while (true) {
    produced.clear();
    for (const WorldRule& r : rules_) {
      Status s = Produce(facts_, r.rule, r.origin, r.trusted, symbols, externs_, produced,
                         match_attempts_);
      if (!s) {
        iterations_ += index;
        return s;
      }
    }
    bool grew = false;
    for (auto& [origin, fact] : produced) {
      grew = facts_.Insert(origin, std::move(fact)) || grew;
    }
    if (!grew) {
      break;
    }
    ++index;
    if (index >= limits.max_iterations) {
      result = MakeError(ErrorKind::kTooManyIterations, "too many iterations");
      break;
    }
    if (facts_.size() >= limits.max_facts) {
      result = MakeError(ErrorKind::kTooManyFacts, "too many facts");
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      result = MakeError(ErrorKind::kTimeout, "timeout");
      break;
    }
  }
  iterations_ += index;
  return result;
}

Result<bool> World::QueryMatch(const Rule& rule, std::uint32_t origin,
                               const TrustedOrigins& trusted, SymbolTable& symbols) {
  (void)origin;
  Matcher m(facts_, rule, trusted, match_attempts_);
  bool found = false;
  KISEE_RETURN_IF_ERROR(m.Visit([&]() -> Result<bool> {
    KISEE_ASSIGN_OR_RETURN(bool ok, ExpressionsHold(rule, m, symbols, externs_));
    if (ok && Head(rule, m).has_value()) {
      found = true;
      return false;
    }
    return true;
  }));
  return found;
}

Result<bool> World::QueryMatchAll(const Rule& rule, const TrustedOrigins& trusted,
                                  SymbolTable& symbols) {
  Matcher m(facts_, rule, trusted, match_attempts_);
  bool found = false;
  bool all = true;
  KISEE_RETURN_IF_ERROR(m.Visit([&]() -> Result<bool> {
    found = true;
    KISEE_ASSIGN_OR_RETURN(bool ok, ExpressionsHold(rule, m, symbols, externs_));
    if (!ok) {
      all = false;
      return false;
    }
    return true;
  }));
  return found && all;
}

Result<std::vector<std::pair<Origin, Fact>>> World::QueryFacts(const Rule& rule,
                                                               std::uint32_t origin,
                                                               const TrustedOrigins& trusted,
                                                               SymbolTable& symbols) {
  std::vector<std::pair<Origin, Fact>> out;
  KISEE_RETURN_IF_ERROR(
      Produce(facts_, rule, origin, trusted, symbols, externs_, out, match_attempts_));
  return out;
}

}  // namespace kisee::biscuit::datalog
