// Text form of Biscuit Datalog: parsing into the engine's structures (strings
// interned into a caller's SymbolTable) and printing back in the canonical
// form the reference prints. No crypto, no I/O.
#pragma once

#include <string>
#include <string_view>

#include "biscuit/datalog/datalog.h"

namespace kisee::biscuit::parser {

// Everything a source text may contain.
struct SourceResult {
  std::vector<datalog::Scope> scopes;  // a leading `trusting ...;` (blocks only)
  std::vector<datalog::Fact> facts;
  std::vector<datalog::Rule> rules;
  std::vector<datalog::Check> checks;
  std::vector<datalog::Policy> policies;
};

enum class SourceKind { kBlock, kAuthorizer };

// ParseSource parses a block (facts, rules, checks, optional leading scope
// annotation) or an authorizer (also policies). Errors are kParse with the
// offending offset; rules whose head variables are unbound are refused.
Result<SourceResult> ParseSource(std::string_view text, datalog::SymbolTable& symbols,
                                 SourceKind kind);
Result<datalog::Fact> ParseFact(std::string_view text, datalog::SymbolTable& symbols);
Result<datalog::Rule> ParseRule(std::string_view text, datalog::SymbolTable& symbols);
Result<datalog::Check> ParseCheck(std::string_view text, datalog::SymbolTable& symbols);
Result<datalog::Policy> ParsePolicy(std::string_view text, datalog::SymbolTable& symbols);
// ParseRuleBody parses `body [trusting ...]` as a query rule with head `query()`.
Result<datalog::Rule> ParseQuery(std::string_view text, datalog::SymbolTable& symbols);

// ParseRfc3339 returns Unix seconds, or nullopt (also for dates before 1970).
std::optional<std::uint64_t> ParseRfc3339(std::string_view text);
// FormatRfc3339 prints "YYYY-MM-DDTHH:MM:SSZ" ("<invalid date>" past year 9999).
std::string FormatRfc3339(std::uint64_t seconds);

// Printing, with ids resolved through `symbols`.
std::string PrintTerm(const datalog::Term& term, const datalog::SymbolTable& symbols);
std::string PrintPredicate(const datalog::Predicate& p, const datalog::SymbolTable& symbols);
std::string PrintExpression(const datalog::Expression& e, const datalog::SymbolTable& symbols);
std::string PrintScope(const datalog::Scope& s, const datalog::SymbolTable& symbols);
std::string PrintRuleBody(const datalog::Rule& r, const datalog::SymbolTable& symbols);
std::string PrintRule(const datalog::Rule& r, const datalog::SymbolTable& symbols);
std::string PrintCheck(const datalog::Check& c, const datalog::SymbolTable& symbols);
std::string PrintPolicy(const datalog::Policy& p, const datalog::SymbolTable& symbols);
// PrintBlock: facts, rules, checks, one per line, each ended by ";\n".
std::string PrintBlock(const datalog::Block& block, const datalog::SymbolTable& symbols);

}  // namespace kisee::biscuit::parser
