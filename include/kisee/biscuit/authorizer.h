// The authorizer: the verifier's facts, rules, checks and allow/deny
// policies, evaluated together with a token's blocks under run limits.
//
// AuthorizerBuilder is a value (copy it to reuse a policy set); Authorizer is
// single-threaded.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kisee/biscuit/biscuit.h"
#include "kisee/core/clock.h"

namespace kisee::biscuit {

namespace internal {
struct AuthorizerContent;
struct AuthorizerState;
}  // namespace internal

// RunLimits bound one evaluation (the reference's defaults).
struct RunLimits {
  std::uint64_t max_facts = 1000;
  std::uint64_t max_iterations = 100;
  std::chrono::nanoseconds max_time = std::chrono::milliseconds(1);
};

// HostFunction implements `left.extern::name()` (right empty) and
// `left.extern::name(right)`. An error fails the expression (kExternEvalError).
using HostFunction =
    std::function<Result<Value>(const Value& left, const std::optional<Value>& right)>;

// AuthorizerWorld is the world after evaluation, in the shape of the
// specification's sample files: facts by origin (nullopt = authorizer),
// rules and checks by block (nullopt = authorizer), sorted; policies in order.
struct AuthorizerWorld {
  struct Facts {
    std::vector<std::optional<std::uint32_t>> origin;
    std::vector<std::string> facts;
  };
  struct Rules {
    std::optional<std::uint32_t> origin;
    std::vector<std::string> rules;
  };
  struct Checks {
    std::optional<std::uint32_t> origin;
    std::vector<std::string> checks;
  };
  std::vector<Facts> facts;
  std::vector<Rules> rules;
  std::vector<Checks> checks;
  std::vector<std::string> policies;
};

class Authorizer;

class AuthorizerBuilder {
 public:
  AuthorizerBuilder();
  ~AuthorizerBuilder();
  AuthorizerBuilder(const AuthorizerBuilder& other);
  AuthorizerBuilder& operator=(const AuthorizerBuilder& other);
  AuthorizerBuilder(AuthorizerBuilder&&) noexcept;
  AuthorizerBuilder& operator=(AuthorizerBuilder&&) noexcept;

  // AddCode parses facts, rules, checks and policies. Errors as BlockBuilder.
  Status AddCode(std::string_view code, const Params& params = {},
                 const ScopeParams& scope_params = {});
  Status AddFact(std::string_view fact, const Params& params = {});
  Status AddRule(std::string_view rule, const Params& params = {},
                 const ScopeParams& scope_params = {});
  Status AddCheck(std::string_view check, const Params& params = {},
                  const ScopeParams& scope_params = {});
  Status AddPolicy(std::string_view policy, const Params& params = {},
                   const ScopeParams& scope_params = {});
  // AddTime adds the fact `time(<now>)` from `clock`.
  void AddTime(const Clock& clock = SystemClock());
  void SetLimits(const RunLimits& limits);
  // RegisterHostFunction makes `extern::name` available to expressions.
  void RegisterHostFunction(std::string name, HostFunction function);
  // ToString prints the authorizer's code (facts, rules, checks, policies).
  std::string ToString() const;

  // Build loads the token's blocks (kInvalidBlockRule for a rule whose head
  // variables are unbound) next to the authorizer's content.
  Result<Authorizer> Build(const Biscuit& token) const;
  // BuildUnauthenticated builds an authorizer without a token.
  Result<Authorizer> BuildUnauthenticated() const;

 private:
  std::unique_ptr<internal::AuthorizerContent> content_;
};

class Authorizer {
 public:
  ~Authorizer();
  Authorizer(Authorizer&&) noexcept;
  Authorizer& operator=(Authorizer&&) noexcept;

  // Authorize runs the rules to a fixpoint, then the checks and policies.
  // Returns the index of the matching allow policy. Errors: kUnauthorized /
  // kNoMatchingPolicy with the failed checks, an Execution error, or a
  // RunLimit error.
  Result<std::size_t> Authorize();
  // Query runs a rule (`head($x) <- body`) over the facts the authorizer
  // trusts (authority and authorizer, or the rule's `trusting` scopes, whose
  // `{name}` keys come from `scope_params`).
  Result<std::vector<QueryFact>> Query(std::string_view rule, const Params& params = {},
                                       const ScopeParams& scope_params = {});
  // QueryAll runs it over the facts of every block.
  Result<std::vector<QueryFact>> QueryAll(std::string_view rule, const Params& params = {},
                                          const ScopeParams& scope_params = {});

  // World returns the evaluated world (runs the rules first if needed; a run
  // error leaves the facts found so far).
  AuthorizerWorld World();
  // PrintWorld prints the world as Datalog with origin comments.
  std::string PrintWorld();
  std::uint64_t iterations() const;
  std::chrono::nanoseconds execution_time() const;

 private:
  friend class AuthorizerBuilder;
  explicit Authorizer(std::unique_ptr<internal::AuthorizerState> state);
  std::unique_ptr<internal::AuthorizerState> state_;
};

}  // namespace kisee::biscuit
