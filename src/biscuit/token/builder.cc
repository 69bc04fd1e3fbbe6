#include <set>

#include "biscuit/token/internal.h"
#include "kisee/core/error.h"

namespace kisee::biscuit {

namespace internal {
namespace {

using datalog::Term;
using datalog::TermKind;

class ParamApplier {
 public:
  ParamApplier(datalog::SymbolTable& symbols, const Params& params, const ScopeParams& scopes)
      : symbols_(symbols), params_(params), scopes_(scopes) {}

  Status Apply(parser::SourceResult& s) {
    for (auto& f : s.facts) KISEE_RETURN_IF_ERROR(Predicate(f.predicate));
    for (auto& r : s.rules) KISEE_RETURN_IF_ERROR(Rule(r));
    for (auto& c : s.checks) {
      for (auto& q : c.queries) KISEE_RETURN_IF_ERROR(Rule(q));
    }
    for (auto& p : s.policies) {
      for (auto& q : p.queries) KISEE_RETURN_IF_ERROR(Rule(q));
    }
    KISEE_RETURN_IF_ERROR(Scopes(s.scopes));
    for (const auto& [name, value] : params_) {
      if (!used_.contains(name)) {
        return MakeError(ErrorKind::kUnusedParameter, "unused parameter: " + name);
      }
    }
    for (const auto& [name, value] : scopes_) {
      if (!used_scopes_.contains(name)) {
        return MakeError(ErrorKind::kUnusedParameter, "unused scope parameter: " + name);
      }
    }
    return {};
  }

 private:
  Result<Term> Substitute(const Term& t) {
    switch (t.kind) {
      case TermKind::kParameter: {
        auto it = params_.find(t.parameter_name());
        if (it == params_.end()) {
          return MakeError(ErrorKind::kMissingParameter,
                           "missing parameter: " + t.parameter_name());
        }
        used_.insert(it->first);
        return ValueToTerm(it->second, symbols_);
      }
      case TermKind::kSet:
      case TermKind::kArray: {
        std::vector<Term> items;
        for (const Term& item : t.items()) {
          KISEE_ASSIGN_OR_RETURN(Term x, Substitute(item));
          items.push_back(std::move(x));
        }
        return t.kind == TermKind::kSet ? Term::MakeSet(std::move(items))
                                        : Term::MakeArray(std::move(items));
      }
      case TermKind::kMap: {
        std::vector<std::pair<Term, Term>> entries;
        for (const auto& [k, v] : t.entries()) {
          KISEE_ASSIGN_OR_RETURN(Term key, Substitute(k));
          KISEE_ASSIGN_OR_RETURN(Term value, Substitute(v));
          if (key.kind != TermKind::kInteger && key.kind != TermKind::kString) {
            return MakeError(ErrorKind::kInvalidArgument, "map keys are integers or strings");
          }
          entries.emplace_back(std::move(key), std::move(value));
        }
        return Term::MakeMap(std::move(entries));
      }
      default:
        return t;
    }
  }

  Status Predicate(datalog::Predicate& p) {
    for (Term& t : p.terms) {
      KISEE_ASSIGN_OR_RETURN(t, Substitute(t));
    }
    return {};
  }

  Status Ops(std::vector<datalog::Op>& ops) {
    for (datalog::Op& op : ops) {
      if (op.kind == datalog::OpKind::kValue) {
        KISEE_ASSIGN_OR_RETURN(op.value, Substitute(op.value));
      } else if (op.kind == datalog::OpKind::kClosure) {
        auto copy = std::make_shared<datalog::Closure>(*op.closure);
        KISEE_RETURN_IF_ERROR(Ops(copy->ops));
        op.closure = std::move(copy);
      }
    }
    return {};
  }

  Status Scopes(std::vector<datalog::Scope>& scopes) {
    for (datalog::Scope& s : scopes) {
      if (s.kind != datalog::ScopeKind::kParameter) continue;
      auto it = scopes_.find(s.parameter);
      if (it == scopes_.end()) {
        return MakeError(ErrorKind::kMissingParameter, "missing scope parameter: " + s.parameter);
      }
      used_scopes_.insert(it->first);
      s = datalog::Scope{
          datalog::ScopeKind::kPublicKey, symbols_.InsertKey(ToKeyData(it->second)), {}};
    }
    return {};
  }

  Status Rule(datalog::Rule& r) {
    KISEE_RETURN_IF_ERROR(Predicate(r.head));
    for (auto& p : r.body) KISEE_RETURN_IF_ERROR(Predicate(p));
    for (auto& e : r.expressions) KISEE_RETURN_IF_ERROR(Ops(e.ops));
    return Scopes(r.scopes);
  }

  datalog::SymbolTable& symbols_;
  const Params& params_;
  const ScopeParams& scopes_;
  std::set<std::string> used_;
  std::set<std::string> used_scopes_;
};

template <typename T>
void AppendAll(std::vector<T>& to, std::vector<T>& from) {
  // The usual case is a single AddCode: take the parsed vectors whole
  // instead of growing empty ones element by element.
  if (to.empty()) {
    to = std::move(from);
  } else {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  }
}

}  // namespace

void AppendSource(parser::SourceResult& to, parser::SourceResult&& from) {
  AppendAll(to.scopes, from.scopes);
  AppendAll(to.facts, from.facts);
  AppendAll(to.rules, from.rules);
  AppendAll(to.checks, from.checks);
  AppendAll(to.policies, from.policies);
}

Status ApplyParams(parser::SourceResult& source, datalog::SymbolTable& symbols,
                   const Params& params, const ScopeParams& scope_params) {
  ParamApplier applier(symbols, params, scope_params);
  return applier.Apply(source);
}

Result<datalog::Block> BuildBlock(const BuilderContent& content, datalog::SymbolTable& table,
                                  std::uint32_t minimum_version) {
  const std::size_t symbols_before = table.size();
  const std::size_t keys_before = table.keys().size();
  datalog::Translator tr(content.symbols, table);
  datalog::Block block;
  for (const auto& f : content.source.facts) {
    KISEE_ASSIGN_OR_RETURN(datalog::Fact x, tr.Translate(f));
    block.facts.push_back(std::move(x));
  }
  for (const auto& r : content.source.rules) {
    KISEE_ASSIGN_OR_RETURN(datalog::Rule x, tr.Translate(r));
    block.rules.push_back(std::move(x));
  }
  for (const auto& c : content.source.checks) {
    KISEE_ASSIGN_OR_RETURN(datalog::Check x, tr.Translate(c));
    block.checks.push_back(std::move(x));
  }
  for (const auto& s : content.source.scopes) {
    KISEE_ASSIGN_OR_RETURN(datalog::Scope x, tr.Translate(s));
    block.scopes.push_back(std::move(x));
  }
  block.symbols.assign(table.user_symbols().begin() + static_cast<std::ptrdiff_t>(symbols_before),
                       table.user_symbols().end());
  block.public_keys.assign(table.keys().begin() + static_cast<std::ptrdiff_t>(keys_before),
                           table.keys().end());
  block.context = content.context;
  block.version = std::max(datalog::MinimumVersion(block), minimum_version);
  return block;
}

}  // namespace internal

BlockBuilder::BlockBuilder() : content_(std::make_unique<internal::BuilderContent>()) {}
BlockBuilder::~BlockBuilder() = default;
BlockBuilder::BlockBuilder(const BlockBuilder& other)
    : content_(std::make_unique<internal::BuilderContent>(*other.content_)) {}
BlockBuilder& BlockBuilder::operator=(const BlockBuilder& other) {
  if (this != &other) content_ = std::make_unique<internal::BuilderContent>(*other.content_);
  return *this;
}
BlockBuilder::BlockBuilder(BlockBuilder&&) noexcept = default;
BlockBuilder& BlockBuilder::operator=(BlockBuilder&&) noexcept = default;

namespace {

Status Merge(internal::BuilderContent& content, parser::SourceResult parsed, const Params& params,
             const ScopeParams& scope_params) {
  KISEE_RETURN_IF_ERROR(internal::ApplyParams(parsed, content.symbols, params, scope_params));
  internal::AppendSource(content.source, std::move(parsed));
  return {};
}

}  // namespace

Status BlockBuilder::AddCode(std::string_view code, const Params& params,
                             const ScopeParams& scope_params) {
  KISEE_ASSIGN_OR_RETURN(parser::SourceResult parsed,
                         parser::ParseSource(code, content_->symbols, parser::SourceKind::kBlock));
  return Merge(*content_, std::move(parsed), params, scope_params);
}

Status BlockBuilder::AddFact(std::string_view fact, const Params& params) {
  KISEE_ASSIGN_OR_RETURN(datalog::Fact f, parser::ParseFact(fact, content_->symbols));
  parser::SourceResult parsed;
  parsed.facts.push_back(std::move(f));
  return Merge(*content_, std::move(parsed), params, {});
}

Status BlockBuilder::AddRule(std::string_view rule, const Params& params,
                             const ScopeParams& scope_params) {
  KISEE_ASSIGN_OR_RETURN(datalog::Rule r, parser::ParseRule(rule, content_->symbols));
  parser::SourceResult parsed;
  parsed.rules.push_back(std::move(r));
  return Merge(*content_, std::move(parsed), params, scope_params);
}

Status BlockBuilder::AddCheck(std::string_view check, const Params& params,
                              const ScopeParams& scope_params) {
  KISEE_ASSIGN_OR_RETURN(datalog::Check c, parser::ParseCheck(check, content_->symbols));
  parser::SourceResult parsed;
  parsed.checks.push_back(std::move(c));
  return Merge(*content_, std::move(parsed), params, scope_params);
}

void BlockBuilder::SetContext(std::string context) { content_->context = std::move(context); }

std::string BlockBuilder::ToString() const {
  datalog::Block block;
  block.facts = content_->source.facts;
  block.rules = content_->source.rules;
  block.checks = content_->source.checks;
  block.scopes = content_->source.scopes;
  return parser::PrintBlock(block, content_->symbols);
}

Result<Biscuit> BiscuitBuilder::Build(const KeyPair& root) const {
  return Build(root, KeyPair::Generate(Algorithm::kEd25519));
}

Result<Biscuit> BiscuitBuilder::Build(const KeyPair& root, const KeyPair& next) const {
  KISEE_ASSIGN_OR_RETURN(internal::TokenData data,
                         internal::TokenData::New(root_key_id_, root, next, block_.content()));
  return Biscuit(std::make_shared<const internal::TokenData>(std::move(data)));
}

}  // namespace kisee::biscuit
