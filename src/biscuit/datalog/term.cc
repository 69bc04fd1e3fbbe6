#include <algorithm>

#include "biscuit/datalog/datalog.h"
#include "kisee/core/error.h"

namespace kisee::biscuit::datalog {
namespace {

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int CompareLists(const std::vector<Term>& a, const std::vector<Term>& b) {
  std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (int c = Compare(a[i], b[i]); c != 0) {
      return c;
    }
  }
  return Cmp(a.size(), b.size());
}

std::size_t Mix(std::size_t seed, std::size_t v) {
  return seed ^ (v + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

}  // namespace

Term Term::MakeBytes(Bytes bytes) {
  auto payload = std::make_shared<TermPayload>();
  payload->bytes = std::move(bytes);
  return {TermKind::kBytes, 0, std::move(payload)};
}

Term Term::MakeSet(std::vector<Term> items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  auto payload = std::make_shared<TermPayload>();
  payload->items = std::move(items);
  return {TermKind::kSet, 0, std::move(payload)};
}

Term Term::MakeArray(std::vector<Term> items) {
  auto payload = std::make_shared<TermPayload>();
  payload->items = std::move(items);
  return {TermKind::kArray, 0, std::move(payload)};
}

Term Term::MakeMap(std::vector<std::pair<Term, Term>> entries) {
  // Later entries win, as when inserting into an ordered map one by one.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<Term, Term>> unique;
  for (auto& entry : entries) {
    if (!unique.empty() && unique.back().first == entry.first) {
      unique.back().second = std::move(entry.second);
    } else {
      unique.push_back(std::move(entry));
    }
  }
  auto payload = std::make_shared<TermPayload>();
  payload->entries = std::move(unique);
  return {TermKind::kMap, 0, std::move(payload)};
}

Term Term::Parameter(std::string name) {
  auto payload = std::make_shared<TermPayload>();
  payload->name = std::move(name);
  return {TermKind::kParameter, 0, std::move(payload)};
}

int Compare(const Term& a, const Term& b) {
  if (a.kind != b.kind) {
    return Cmp(static_cast<int>(a.kind), static_cast<int>(b.kind));
  }
  switch (a.kind) {
    case TermKind::kInteger:
      return Cmp(a.integer(), b.integer());
    case TermKind::kVariable:
    case TermKind::kString:
    case TermKind::kDate:
    case TermKind::kBool:
      return Cmp(a.bits, b.bits);
    case TermKind::kNull:
      return 0;
    case TermKind::kBytes:
      return Cmp(a.bytes(), b.bytes());
    case TermKind::kSet:
    case TermKind::kArray:
      if (a.payload == b.payload) {
        return 0;
      }
      return CompareLists(a.items(), b.items());
    case TermKind::kMap: {
      if (a.payload == b.payload) {
        return 0;
      }
      const auto& x = a.entries();
      const auto& y = b.entries();
      std::size_t n = std::min(x.size(), y.size());
      for (std::size_t i = 0; i < n; ++i) {
        if (int c = Compare(x[i].first, y[i].first); c != 0) {
          return c;
        }
        if (int c = Compare(x[i].second, y[i].second); c != 0) {
          return c;
        }
      }
      return Cmp(x.size(), y.size());
    }
    case TermKind::kParameter:
      return Cmp(a.parameter_name(), b.parameter_name());
  }
  return 0;
}

std::size_t HashTerm(const Term& t) {
  std::size_t h = Mix(static_cast<std::size_t>(t.kind), t.bits);
  switch (t.kind) {
    case TermKind::kBytes:
      return Mix(h, std::hash<std::string_view>()(AsChars(t.bytes())));
    case TermKind::kSet:
    case TermKind::kArray:
      for (const Term& item : t.items()) {
        h = Mix(h, HashTerm(item));
      }
      return h;
    case TermKind::kMap:
      for (const auto& [k, v] : t.entries()) {
        h = Mix(Mix(h, HashTerm(k)), HashTerm(v));
      }
      return h;
    case TermKind::kParameter:
      return Mix(h, std::hash<std::string>()(t.parameter_name()));
    default:
      return h;
  }
}

bool operator==(const Predicate& a, const Predicate& b) {
  if (a.name != b.name || a.terms.size() != b.terms.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.terms.size(); ++i) {
    if (!(a.terms[i] == b.terms[i])) {
      return false;
    }
  }
  return true;
}

std::size_t HashFact(const Fact& f) {
  std::size_t h = std::hash<std::uint64_t>()(f.predicate.name);
  for (const Term& t : f.predicate.terms) {
    h = Mix(h, HashTerm(t));
  }
  return h;
}

std::string PublicKeyData::ToString() const {
  return (algorithm == 1 ? "secp256r1/" : "ed25519/") + HexEncode(key);
}

namespace {

bool TermIsV33(const Term& t) {
  switch (t.kind) {
    case TermKind::kNull:
    case TermKind::kArray:
    case TermKind::kMap:
      return true;
    case TermKind::kSet:
      return std::any_of(t.items().begin(), t.items().end(), TermIsV33);
    default:
      return false;
  }
}

bool PredicateIsV33(const Predicate& p) {
  return std::any_of(p.terms.begin(), p.terms.end(), TermIsV33);
}

void ScanOps(const std::vector<Op>& ops, bool& v31, bool& v33) {
  for (const Op& op : ops) {
    switch (op.kind) {
      case OpKind::kValue:
        v33 = v33 || TermIsV33(op.value);
        break;
      case OpKind::kClosure:
        v33 = true;
        ScanOps(op.closure->ops, v31, v33);
        break;
      case OpKind::kUnary:
        v33 = v33 || op.unary == UnaryOp::kTypeOf || op.unary == UnaryOp::kFfi;
        break;
      case OpKind::kBinary:
        switch (op.binary) {
          case BinaryOp::kBitwiseAnd:
          case BinaryOp::kBitwiseOr:
          case BinaryOp::kBitwiseXor:
          case BinaryOp::kNotEqual:
            v31 = true;
            break;
          case BinaryOp::kHeterogeneousEqual:
          case BinaryOp::kHeterogeneousNotEqual:
          case BinaryOp::kLazyAnd:
          case BinaryOp::kLazyOr:
          case BinaryOp::kAll:
          case BinaryOp::kAny:
          case BinaryOp::kGet:
          case BinaryOp::kFfi:
          case BinaryOp::kTryOr:
            v33 = true;
            break;
          default:
            break;
        }
        break;
    }
  }
}

struct Features {
  bool scopes = false;
  bool v31 = false;
  bool check_all = false;
  bool v33 = false;
};

Features Scan(const Block& block) {
  Features f;
  f.scopes = !block.scopes.empty();
  auto scan_rule = [&f](const Rule& r) {
    f.scopes = f.scopes || !r.scopes.empty();
    f.v33 = f.v33 || PredicateIsV33(r.head) ||
            std::any_of(r.body.begin(), r.body.end(), PredicateIsV33);
    for (const Expression& e : r.expressions) {
      ScanOps(e.ops, f.v31, f.v33);
    }
  };
  for (const Fact& fact : block.facts) {
    f.v33 = f.v33 || PredicateIsV33(fact.predicate);
  }
  for (const Rule& r : block.rules) {
    scan_rule(r);
  }
  for (const Check& c : block.checks) {
    f.check_all = f.check_all || c.kind == CheckKind::kAll;
    f.v33 = f.v33 || c.kind == CheckKind::kReject;
    for (const Rule& q : c.queries) {
      scan_rule(q);
    }
  }
  return f;
}

}  // namespace

std::uint32_t MinimumVersion(const Block& block) {
  Features f = Scan(block);
  if (f.v33) {
    return kDatalog33;
  }
  if (f.scopes || f.v31 || f.check_all) {
    return kDatalog31;
  }
  return kMinSchemaVersion;
}

Status CheckVersionCompatibility(const Block& block, std::uint32_t version) {
  Features f = Scan(block);
  if (version < kDatalog31 && (f.scopes || f.v31 || f.check_all)) {
    return MakeError(ErrorKind::kDeserialization,
                     "scopes, check all, bitwise operators and !== need datalog v3.1+");
  }
  if (version < kDatalog33 && f.v33) {
    return MakeError(ErrorKind::kDeserialization,
                     "maps, arrays, null, closures need datalog v3.3+");
  }
  return {};
}

bool RuleVariablesAreBound(const Rule& rule) {
  for (const Term& h : rule.head.terms) {
    if (!h.is_variable()) {
      continue;
    }
    bool found = false;
    for (const Predicate& p : rule.body) {
      for (const Term& t : p.terms) {
        if (t.is_variable() && t.bits == h.bits) {
          found = true;
          break;
        }
      }
      if (found) {
        break;
      }
    }
    if (!found) {
      return false;
    }
  }
  return true;
}

// Symbol maps `id` in place.
Status Translator::Symbol(std::uint64_t& id) {
  if (id < kSymbolOffset) {
    if (id >= DefaultSymbols().size()) {
      return MakeError(ErrorKind::kUnknownSymbol, "unknown symbol " + std::to_string(id));
    }
    return {};
  }
  // User ids are dense, so the cache is a flat array rather than a map:
  // translation looks up every symbol of every term.
  const std::size_t index = id - kSymbolOffset;
  if (index >= from_.size()) {
    return MakeError(ErrorKind::kUnknownSymbol, "unknown symbol " + std::to_string(id));
  }
  if (cache_.size() < from_.size()) {
    cache_.resize(from_.size(), kUnmapped);
  }
  if (cache_[index] == kUnmapped) {
    cache_[index] = to_.Insert(from_.user_symbols()[index]);
  }
  id = cache_[index];
  return {};
}

Status Translator::Remap(Term& t) {
  switch (t.kind) {
    case TermKind::kString:
    case TermKind::kVariable:
      return Symbol(t.bits);
    case TermKind::kSet:
    case TermKind::kArray: {
      // Payloads are shared and immutable: remap a copy of the items (a set
      // is sorted again, as its order follows the ids).
      std::vector<Term> items = t.items();
      for (Term& item : items) {
        KISEE_RETURN_IF_ERROR(Remap(item));
      }
      t = t.kind == TermKind::kSet ? Term::MakeSet(std::move(items))
                                   : Term::MakeArray(std::move(items));
      return {};
    }
    case TermKind::kMap: {
      std::vector<std::pair<Term, Term>> entries = t.entries();
      for (auto& [key, value] : entries) {
        KISEE_RETURN_IF_ERROR(Remap(key));
        KISEE_RETURN_IF_ERROR(Remap(value));
      }
      t = Term::MakeMap(std::move(entries));
      return {};
    }
    default:
      return {};
  }
}

Status Translator::Remap(Predicate& p) {
  KISEE_RETURN_IF_ERROR(Symbol(p.name));
  for (Term& t : p.terms) {
    KISEE_RETURN_IF_ERROR(Remap(t));
  }
  return {};
}

Status Translator::RemapOps(std::vector<Op>& ops) {
  for (Op& op : ops) {
    switch (op.kind) {
      case OpKind::kValue:
        KISEE_RETURN_IF_ERROR(Remap(op.value));
        break;
      case OpKind::kUnary:
        if (op.unary == UnaryOp::kFfi) {
          KISEE_RETURN_IF_ERROR(Symbol(op.ffi_name));
        }
        break;
      case OpKind::kBinary:
        if (op.binary == BinaryOp::kFfi) {
          KISEE_RETURN_IF_ERROR(Symbol(op.ffi_name));
        }
        break;
      case OpKind::kClosure: {
        // Closures are shared and immutable too.
        auto closure = std::make_shared<Closure>(*op.closure);
        for (std::uint32_t& param : closure->params) {
          std::uint64_t id = param;
          KISEE_RETURN_IF_ERROR(Symbol(id));
          param = static_cast<std::uint32_t>(id);
        }
        KISEE_RETURN_IF_ERROR(RemapOps(closure->ops));
        op.closure = std::move(closure);
        break;
      }
    }
  }
  return {};
}

Status Translator::Remap(Scope& s) {
  if (s.kind != ScopeKind::kPublicKey) {
    return {};
  }
  const PublicKeyData* key = from_.GetKey(s.public_key);
  if (key == nullptr) {
    return MakeError(ErrorKind::kUnknownPublicKey,
                     "unknown public key index " + std::to_string(s.public_key));
  }
  s.public_key = to_.InsertKey(*key);
  return {};
}

Status Translator::Remap(Rule& r) {
  KISEE_RETURN_IF_ERROR(Remap(r.head));
  for (Predicate& p : r.body) {
    KISEE_RETURN_IF_ERROR(Remap(p));
  }
  for (Expression& e : r.expressions) {
    KISEE_RETURN_IF_ERROR(Remap(e));
  }
  for (Scope& s : r.scopes) {
    KISEE_RETURN_IF_ERROR(Remap(s));
  }
  return {};
}

Status Translator::Remap(Check& c) {
  for (Rule& q : c.queries) {
    KISEE_RETURN_IF_ERROR(Remap(q));
  }
  return {};
}

Status Translator::Remap(Policy& p) {
  for (Rule& q : p.queries) {
    KISEE_RETURN_IF_ERROR(Remap(q));
  }
  return {};
}

}  // namespace kisee::biscuit::datalog
