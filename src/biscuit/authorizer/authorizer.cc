// The authorizer follows the reference's evaluation order: rules to a
// fixpoint, then authorizer checks, authority checks, policies, and the
// checks of later blocks; failed checks are reported in that order.
#include "kisee/biscuit/authorizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "biscuit/datalog/world.h"
#include "biscuit/token/internal.h"
#include "kisee/core/error.h"

namespace kisee::biscuit {

namespace internal {

struct AuthorizerContent {
  BuilderContent content;  // facts, rules, checks, policies in content.source
  RunLimits limits;
  std::map<std::string, HostFunction> functions;
};

struct AuthorizerState {
  datalog::SymbolTable symbols;
  datalog::World world;
  std::vector<datalog::Block> blocks;  // translated into `symbols`
  std::vector<datalog::Check> checks;  // the authorizer's
  std::vector<datalog::Policy> policies;
  std::vector<datalog::Rule> rules;  // the authorizer's, for printing
  std::map<std::uint64_t, std::vector<std::uint32_t>> key_blocks;
  RunLimits limits;
  bool has_token = false;
  bool ran = false;
  Status run_status;
  std::chrono::nanoseconds execution_time{0};
};

}  // namespace internal

namespace {

using datalog::kAuthorizerId;

datalog::RunLimits ToEngine(const RunLimits& l) {
  return datalog::RunLimits{l.max_facts, l.max_iterations, l.max_time};
}

datalog::ExternFunctions Adapt(const std::map<std::string, HostFunction>& functions) {
  datalog::ExternFunctions out;
  for (const auto& [name, fn] : functions) {
    out.emplace(name,
                [fn](datalog::SymbolTable& symbols, const datalog::Term& left,
                     const datalog::Term* right) -> Result<datalog::Term> {
                  KISEE_ASSIGN_OR_RETURN(Value l, internal::TermToValue(left, symbols));
                  std::optional<Value> r;
                  if (right != nullptr) {
                    KISEE_ASSIGN_OR_RETURN(r, internal::TermToValue(*right, symbols));
                  }
                  KISEE_ASSIGN_OR_RETURN(Value result, fn(l, r));
                  return internal::ValueToTerm(result, symbols);
                });
  }
  return out;
}

Status EnsureRun(internal::AuthorizerState& s) {
  if (!s.ran) {
    auto start = std::chrono::steady_clock::now();
    s.run_status = s.world.Run(s.symbols, ToEngine(s.limits));
    s.execution_time = std::chrono::steady_clock::now() - start;
    s.ran = true;
  }
  return s.run_status;
}

Result<std::vector<QueryFact>> ToQueryFacts(const std::vector<datalog::Fact>& facts,
                                            const datalog::SymbolTable& symbols) {
  std::vector<QueryFact> out;
  for (const datalog::Fact& f : facts) {
    QueryFact q;
    q.name = symbols.GetOr(f.predicate.name);
    for (const datalog::Term& t : f.predicate.terms) {
      KISEE_ASSIGN_OR_RETURN(Value v, internal::TermToValue(t, symbols));
      q.terms.push_back(std::move(v));
    }
    q.text = parser::PrintPredicate(f.predicate, symbols);
    out.push_back(std::move(q));
  }
  return out;
}

}  // namespace

// ---- AuthorizerBuilder ----

AuthorizerBuilder::AuthorizerBuilder()
    : content_(std::make_unique<internal::AuthorizerContent>()) {}
AuthorizerBuilder::~AuthorizerBuilder() = default;
AuthorizerBuilder::AuthorizerBuilder(const AuthorizerBuilder& other)
    : content_(std::make_unique<internal::AuthorizerContent>(*other.content_)) {}
AuthorizerBuilder& AuthorizerBuilder::operator=(const AuthorizerBuilder& other) {
  if (this != &other) content_ = std::make_unique<internal::AuthorizerContent>(*other.content_);
  return *this;
}
AuthorizerBuilder::AuthorizerBuilder(AuthorizerBuilder&&) noexcept = default;
AuthorizerBuilder& AuthorizerBuilder::operator=(AuthorizerBuilder&&) noexcept = default;

namespace {

Status MergeInto(internal::BuilderContent& content, parser::SourceResult parsed,
                 const Params& params, const ScopeParams& scope_params) {
  KISEE_RETURN_IF_ERROR(internal::ApplyParams(parsed, content.symbols, params, scope_params));
  internal::AppendSource(content.source, std::move(parsed));
  return {};
}

}  // namespace

Status AuthorizerBuilder::AddCode(std::string_view code, const Params& params,
                                  const ScopeParams& scope_params) {
  KISEE_ASSIGN_OR_RETURN(
      parser::SourceResult parsed,
      parser::ParseSource(code, content_->content.symbols, parser::SourceKind::kAuthorizer));
  return MergeInto(content_->content, std::move(parsed), params, scope_params);
}

Status AuthorizerBuilder::AddFact(std::string_view fact, const Params& params) {
  KISEE_ASSIGN_OR_RETURN(datalog::Fact f, parser::ParseFact(fact, content_->content.symbols));
  parser::SourceResult parsed;
  parsed.facts.push_back(std::move(f));
  return MergeInto(content_->content, std::move(parsed), params, {});
}

Status AuthorizerBuilder::AddRule(std::string_view rule, const Params& params,
                                  const ScopeParams& scope_params) {
  KISEE_ASSIGN_OR_RETURN(datalog::Rule r, parser::ParseRule(rule, content_->content.symbols));
  parser::SourceResult parsed;
  parsed.rules.push_back(std::move(r));
  return MergeInto(content_->content, std::move(parsed), params, scope_params);
}

Status AuthorizerBuilder::AddCheck(std::string_view check, const Params& params,
                                   const ScopeParams& scope_params) {
  KISEE_ASSIGN_OR_RETURN(datalog::Check c, parser::ParseCheck(check, content_->content.symbols));
  parser::SourceResult parsed;
  parsed.checks.push_back(std::move(c));
  return MergeInto(content_->content, std::move(parsed), params, scope_params);
}

Status AuthorizerBuilder::AddPolicy(std::string_view policy, const Params& params,
                                    const ScopeParams& scope_params) {
  KISEE_ASSIGN_OR_RETURN(datalog::Policy p, parser::ParsePolicy(policy, content_->content.symbols));
  parser::SourceResult parsed;
  parsed.policies.push_back(std::move(p));
  return MergeInto(content_->content, std::move(parsed), params, scope_params);
}

void AuthorizerBuilder::AddTime(const Clock& clock) {
  datalog::Fact f;
  f.predicate.name = content_->content.symbols.Insert("time");
  f.predicate.terms.push_back(datalog::Term::Date(
      static_cast<std::uint64_t>(std::max<std::int64_t>(0, clock.NowSeconds()))));
  content_->content.source.facts.push_back(std::move(f));
}

void AuthorizerBuilder::SetLimits(const RunLimits& limits) { content_->limits = limits; }

void AuthorizerBuilder::RegisterHostFunction(std::string name, HostFunction function) {
  content_->functions[std::move(name)] = std::move(function);
}

std::string AuthorizerBuilder::ToString() const {
  const auto& c = content_->content;
  std::string out;
  for (const auto& f : c.source.facts)
    out += parser::PrintPredicate(f.predicate, c.symbols) + ";\n";
  if (!c.source.facts.empty()) out += "\n";
  for (const auto& r : c.source.rules) out += parser::PrintRule(r, c.symbols) + ";\n";
  if (!c.source.rules.empty()) out += "\n";
  for (const auto& k : c.source.checks) out += parser::PrintCheck(k, c.symbols) + ";\n";
  if (!c.source.checks.empty()) out += "\n";
  for (const auto& p : c.source.policies) out += parser::PrintPolicy(p, c.symbols) + ";\n";
  return out;
}

namespace {

Result<std::unique_ptr<internal::AuthorizerState>> BuildState(
    const internal::AuthorizerContent& content, const Biscuit* token) {
  auto s = std::make_unique<internal::AuthorizerState>();
  s->limits = content.limits;
  s->world.set_externs(Adapt(content.functions));
  if (token != nullptr) {
    const internal::TokenData& t = token->data();
    s->has_token = true;
    // External keys first, as the reference does: scope indexes then refer
    // to the authorizer's own key table.
    for (std::size_t i = 1; i < t.blocks.size(); ++i) {
      if (t.blocks[i].external.has_value()) {
        std::uint64_t id = s->symbols.InsertKey(internal::ToKeyData(t.blocks[i].external->key));
        s->key_blocks[id].push_back(static_cast<std::uint32_t>(i));
      }
    }
    datalog::Translator token_tr(t.symbols, s->symbols);
    s->blocks.reserve(t.decoded.size());
    for (std::size_t i = 0; i < t.decoded.size(); ++i) {
      const datalog::Block& block = t.decoded[i];
      const bool own_table = i > 0 && block.external_key.has_value();
      datalog::SymbolTable scratch;
      std::optional<datalog::Translator> own_tr;
      if (own_table) {
        scratch = t.SymbolsFor(i);
        own_tr.emplace(scratch, s->symbols);
      }
      datalog::Translator& tr = own_table ? *own_tr : token_tr;
      const datalog::SymbolTable& block_symbols = own_table ? scratch : t.symbols;
      const std::uint32_t id = static_cast<std::uint32_t>(i);

      datalog::Block out;
      out.external_key = block.external_key;
      out.version = block.version;
      for (const datalog::Scope& scope : block.scopes) {
        KISEE_ASSIGN_OR_RETURN(datalog::Scope x, tr.Translate(scope));
        out.scopes.push_back(std::move(x));
      }
      datalog::TrustedOrigins block_trusted =
          datalog::TrustedFromScopes(out.scopes, datalog::DefaultTrusted(), id, s->key_blocks);
      datalog::Origin origin;
      origin.Insert(id);
      for (const datalog::Fact& f : block.facts) {
        KISEE_ASSIGN_OR_RETURN(datalog::Fact x, tr.Translate(f));
        s->world.AddFact(origin, std::move(x));
      }
      for (const datalog::Rule& r : block.rules) {
        if (!datalog::RuleVariablesAreBound(r)) {
          Error e(ErrorKind::kInvalidBlockRule, parser::PrintRule(r, block_symbols));
          e.set_block_rule_id(0);
          return std::unexpected<Error>(std::move(e));
        }
        KISEE_ASSIGN_OR_RETURN(datalog::Rule x, tr.Translate(r));
        datalog::TrustedOrigins trusted =
            datalog::TrustedFromScopes(x.scopes, block_trusted, id, s->key_blocks);
        s->world.AddRule(id, std::move(trusted), std::move(x));
      }
      out.checks.reserve(block.checks.size());
      for (const datalog::Check& c : block.checks) {
        KISEE_ASSIGN_OR_RETURN(datalog::Check x, tr.Translate(c));
        out.checks.push_back(std::move(x));
      }
      s->blocks.push_back(std::move(out));
    }
  }
  const auto& c = content.content;
  datalog::Translator tr(c.symbols, s->symbols);
  datalog::Origin authorizer;
  authorizer.Insert(kAuthorizerId);
  for (const datalog::Fact& f : c.source.facts) {
    KISEE_ASSIGN_OR_RETURN(datalog::Fact x, tr.Translate(f));
    s->world.AddFact(authorizer, std::move(x));
  }
  datalog::TrustedOrigins authorizer_trusted =
      datalog::TrustedFromScopes({}, datalog::DefaultTrusted(), kAuthorizerId, s->key_blocks);
  for (const datalog::Rule& r : c.source.rules) {
    KISEE_ASSIGN_OR_RETURN(datalog::Rule x, tr.Translate(r));
    s->rules.push_back(x);
    datalog::TrustedOrigins trusted =
        datalog::TrustedFromScopes(x.scopes, authorizer_trusted, kAuthorizerId, s->key_blocks);
    s->world.AddRule(kAuthorizerId, std::move(trusted), std::move(x));
  }
  for (const datalog::Check& k : c.source.checks) {
    KISEE_ASSIGN_OR_RETURN(datalog::Check x, tr.Translate(k));
    s->checks.push_back(std::move(x));
  }
  for (const datalog::Policy& p : c.source.policies) {
    KISEE_ASSIGN_OR_RETURN(datalog::Policy x, tr.Translate(p));
    s->policies.push_back(std::move(x));
  }
  return s;
}

}  // namespace

Result<Authorizer> AuthorizerBuilder::Build(const Biscuit& token) const {
  KISEE_ASSIGN_OR_RETURN(auto state, BuildState(*content_, &token));
  return Authorizer(std::move(state));
}

Result<Authorizer> AuthorizerBuilder::BuildUnauthenticated() const {
  KISEE_ASSIGN_OR_RETURN(auto state, BuildState(*content_, nullptr));
  return Authorizer(std::move(state));
}

// ---- Authorizer ----

Authorizer::Authorizer(std::unique_ptr<internal::AuthorizerState> state)
    : state_(std::move(state)) {}
Authorizer::~Authorizer() = default;
Authorizer::Authorizer(Authorizer&&) noexcept = default;
Authorizer& Authorizer::operator=(Authorizer&&) noexcept = default;

Result<std::size_t> Authorizer::Authorize() {
  internal::AuthorizerState& s = *state_;
  KISEE_RETURN_IF_ERROR(EnsureRun(s));
  if (s.execution_time >= s.limits.max_time) {
    return MakeError(ErrorKind::kTimeout, "timeout");
  }
  const auto deadline = std::chrono::steady_clock::now() + (s.limits.max_time - s.execution_time);
  auto timed_out = [&] { return std::chrono::steady_clock::now() >= deadline; };

  std::vector<FailedCheck> failed;
  auto run_check = [&](const datalog::Check& check, std::uint32_t block_id,
                       const datalog::TrustedOrigins& default_trusted) -> Result<bool> {
    for (const datalog::Rule& query : check.queries) {
      datalog::TrustedOrigins trusted =
          datalog::TrustedFromScopes(query.scopes, default_trusted, block_id, s.key_blocks);
      bool ok = false;
      switch (check.kind) {
        case datalog::CheckKind::kOne: {
          KISEE_ASSIGN_OR_RETURN(ok, s.world.QueryMatch(query, block_id, trusted, s.symbols));
          break;
        }
        case datalog::CheckKind::kAll: {
          KISEE_ASSIGN_OR_RETURN(ok, s.world.QueryMatchAll(query, trusted, s.symbols));
          break;
        }
        case datalog::CheckKind::kReject: {
          KISEE_ASSIGN_OR_RETURN(bool matched,
                                 s.world.QueryMatch(query, block_id, trusted, s.symbols));
          ok = !matched;
          break;
        }
      }
      if (timed_out()) return MakeError(ErrorKind::kTimeout, "timeout");
      if (ok) return true;
    }
    return false;
  };

  const datalog::TrustedOrigins authorizer_trusted =
      datalog::TrustedFromScopes({}, datalog::DefaultTrusted(), kAuthorizerId, s.key_blocks);
  for (std::size_t i = 0; i < s.checks.size(); ++i) {
    KISEE_ASSIGN_OR_RETURN(bool ok, run_check(s.checks[i], kAuthorizerId, authorizer_trusted));
    if (!ok) {
      failed.push_back({std::nullopt, static_cast<std::uint32_t>(i),
                        parser::PrintCheck(s.checks[i], s.symbols)});
    }
  }
  auto block_checks = [&](std::size_t b) -> Status {
    const datalog::Block& block = s.blocks[b];
    const std::uint32_t id = static_cast<std::uint32_t>(b);
    datalog::TrustedOrigins block_trusted =
        datalog::TrustedFromScopes(block.scopes, datalog::DefaultTrusted(), id, s.key_blocks);
    for (std::size_t j = 0; j < block.checks.size(); ++j) {
      KISEE_ASSIGN_OR_RETURN(bool ok, run_check(block.checks[j], id, block_trusted));
      if (!ok) {
        failed.push_back(
            {id, static_cast<std::uint32_t>(j), parser::PrintCheck(block.checks[j], s.symbols)});
      }
    }
    return {};
  };
  if (!s.blocks.empty()) {
    KISEE_RETURN_IF_ERROR(block_checks(0));
  }
  std::optional<MatchedPolicy> policy;
  for (std::size_t i = 0; i < s.policies.size() && !policy.has_value(); ++i) {
    for (const datalog::Rule& query : s.policies[i].queries) {
      datalog::TrustedOrigins trusted =
          datalog::TrustedFromScopes(query.scopes, authorizer_trusted, kAuthorizerId, s.key_blocks);
      KISEE_ASSIGN_OR_RETURN(bool matched,
                             s.world.QueryMatch(query, kAuthorizerId, trusted, s.symbols));
      if (timed_out()) return MakeError(ErrorKind::kTimeout, "timeout");
      if (matched) {
        policy = MatchedPolicy{s.policies[i].kind == datalog::PolicyKind::kAllow, i};
        break;
      }
    }
  }
  for (std::size_t b = 1; b < s.blocks.size(); ++b) {
    KISEE_RETURN_IF_ERROR(block_checks(b));
  }
  if (policy.has_value() && policy->allow && failed.empty()) {
    return policy->index;
  }
  return std::unexpected<Error>(Error::Logic(policy, std::move(failed)));
}

namespace {

Result<std::vector<QueryFact>> RunQuery(internal::AuthorizerState& s, std::string_view text,
                                        const Params& params, const ScopeParams& scope_params,
                                        bool all_blocks) {
  KISEE_RETURN_IF_ERROR(EnsureRun(s));
  parser::SourceResult parsed;
  KISEE_ASSIGN_OR_RETURN(datalog::Rule rule, parser::ParseQuery(text, s.symbols));
  parsed.rules.push_back(std::move(rule));
  KISEE_RETURN_IF_ERROR(internal::ApplyParams(parsed, s.symbols, params, scope_params));
  const datalog::Rule& r = parsed.rules[0];
  datalog::TrustedOrigins trusted;
  if (all_blocks && r.scopes.empty()) {
    trusted = datalog::TrustedFromScopes({datalog::Scope{datalog::ScopeKind::kPrevious, 0, {}}},
                                         datalog::DefaultTrusted(),
                                         static_cast<std::uint32_t>(s.blocks.size()), s.key_blocks);
  } else {
    trusted = datalog::TrustedFromScopes(r.scopes, datalog::DefaultTrusted(), kAuthorizerId,
                                         s.key_blocks);
  }
  KISEE_ASSIGN_OR_RETURN(auto produced, s.world.QueryFacts(r, kAuthorizerId, trusted, s.symbols));
  std::vector<datalog::Fact> facts;
  for (auto& [origin, fact] : produced) {
    if (std::find(facts.begin(), facts.end(), fact) == facts.end()) facts.push_back(fact);
  }
  return ToQueryFacts(facts, s.symbols);
}

}  // namespace

Result<std::vector<QueryFact>> Authorizer::Query(std::string_view rule, const Params& params,
                                                 const ScopeParams& scope_params) {
  return RunQuery(*state_, rule, params, scope_params, false);
}

Result<std::vector<QueryFact>> Authorizer::QueryAll(std::string_view rule, const Params& params,
                                                    const ScopeParams& scope_params) {
  return RunQuery(*state_, rule, params, scope_params, true);
}

AuthorizerWorld Authorizer::World() {
  internal::AuthorizerState& s = *state_;
  (void)EnsureRun(s);
  AuthorizerWorld w;
  for (const auto& group : s.world.facts().groups()) {
    AuthorizerWorld::Facts f;
    // The authorizer (id max) sorts first, as None does in the reference.
    bool has_authorizer = false;
    for (std::uint32_t id : group->origin.ids()) {
      if (id == kAuthorizerId) {
        has_authorizer = true;
      } else {
        f.origin.push_back(id);
      }
    }
    if (has_authorizer) f.origin.insert(f.origin.begin(), std::nullopt);
    for (const auto& [name, bucket] : group->by_name) {
      for (const datalog::Fact& fact : bucket.facts) {
        f.facts.push_back(parser::PrintPredicate(fact.predicate, s.symbols));
      }
    }
    if (f.facts.empty()) continue;
    std::sort(f.facts.begin(), f.facts.end());
    w.facts.push_back(std::move(f));
  }
  std::sort(w.facts.begin(), w.facts.end(), [](const auto& a, const auto& b) {
    return std::tie(a.origin, a.facts) < std::tie(b.origin, b.facts);
  });
  std::map<std::uint32_t, std::vector<std::string>> rules;
  for (const datalog::WorldRule& r : s.world.rules()) {
    rules[r.origin].push_back(parser::PrintRule(r.rule, s.symbols));
  }
  for (auto& [origin, list] : rules) {
    std::sort(list.begin(), list.end());
    w.rules.push_back({origin == kAuthorizerId ? std::nullopt : std::optional(origin), list});
  }
  for (std::size_t b = 0; b < s.blocks.size(); ++b) {
    std::vector<std::string> checks;
    for (const auto& c : s.blocks[b].checks) checks.push_back(parser::PrintCheck(c, s.symbols));
    if (checks.empty()) continue;
    std::sort(checks.begin(), checks.end());
    w.checks.push_back({static_cast<std::uint32_t>(b), std::move(checks)});
  }
  std::vector<std::string> checks;
  for (const auto& c : s.checks) checks.push_back(parser::PrintCheck(c, s.symbols));
  if (!checks.empty()) {
    std::sort(checks.begin(), checks.end());
    w.checks.push_back({std::nullopt, std::move(checks)});
  }
  for (const auto& p : s.policies) w.policies.push_back(parser::PrintPolicy(p, s.symbols));
  return w;
}

std::string Authorizer::PrintWorld() {
  AuthorizerWorld w = World();
  auto origin_name = [](const std::optional<std::uint32_t>& o) {
    return o.has_value() ? std::to_string(*o) : std::string("authorizer");
  };
  std::string out;
  if (!w.facts.empty()) out += "// Facts:\n";
  for (const auto& f : w.facts) {
    std::vector<std::string> names;
    for (const auto& o : f.origin) names.push_back(origin_name(o));
    out += fmt::format("// origin: {}\n", fmt::join(names, ", "));
    for (const auto& fact : f.facts) out += fact + ";\n";
  }
  if (!w.facts.empty()) out += "\n";
  if (!w.rules.empty()) out += "// Rules:\n";
  for (const auto& r : w.rules) {
    out += "// origin: " + origin_name(r.origin) + "\n";
    for (const auto& rule : r.rules) out += rule + ";\n";
  }
  if (!w.rules.empty()) out += "\n";
  if (!w.checks.empty()) out += "// Checks:\n";
  for (const auto& c : w.checks) {
    out += "// origin: " + origin_name(c.origin) + "\n";
    for (const auto& check : c.checks) out += check + ";\n";
  }
  if (!w.checks.empty()) out += "\n";
  if (!w.policies.empty()) out += "// Policies:\n";
  for (const auto& p : w.policies) out += p + ";\n";
  return out;
}

std::uint64_t Authorizer::iterations() const { return state_->world.iterations(); }
std::chrono::nanoseconds Authorizer::execution_time() const { return state_->execution_time; }

}  // namespace kisee::biscuit
