// The expression virtual machine (spec "Expressions / Execution"): values are
// pushed, operators pop their arguments, closures are pushed unevaluated and
// run by the operator that takes them (`&&`, `||`, `.all`, `.any`,
// `.try_or`), which is what makes those operators lazy.
#include <re2/re2.h>

#include <algorithm>
#include <mutex>

#include "biscuit/datalog/world.h"
#include "kisee/core/error.h"

namespace kisee::biscuit::datalog {
namespace {

// Environment: the rule's variables plus closure parameters in scope.
struct Env {
  const Bindings* bindings = nullptr;
  std::vector<std::pair<std::uint32_t, Term>> params;

  const Term* Find(std::uint32_t id) const {
    for (auto it = params.rbegin(); it != params.rend(); ++it) {
      if (it->first == id) {
        return &it->second;
      }
    }
    if (bindings != nullptr) {
      for (const Variable& v : bindings->variables) {
        if (v.id == id) {
          return v.value;
        }
      }
    }
    return nullptr;
  }
};

struct Item {
  Term term;
  const Closure* closure = nullptr;
};

std::unexpected<Error> Fail(ErrorKind kind, std::string message) {
  return MakeError(kind, std::move(message));
}

std::unexpected<Error> InvalidType() { return Fail(ErrorKind::kInvalidType, "invalid type"); }

// Regexes compile once per pattern; the cache is bounded so hostile tokens
// cannot grow it without limit.
bool RegexMatches(std::string_view pattern, std::string_view text) {
  static std::mutex mutex;
  static std::unordered_map<std::string, std::shared_ptr<const RE2>> cache;
  std::shared_ptr<const RE2> re;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(std::string(pattern));
    if (it != cache.end()) {
      re = it->second;
    }
  }
  if (re == nullptr) {
    RE2::Options options;
    options.set_log_errors(false);
    auto compiled = std::make_shared<const RE2>(pattern, options);
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (cache.size() > 256) {
        cache.clear();
      }
      cache.emplace(std::string(pattern), compiled);
    }
    re = std::move(compiled);
  }
  // An invalid pattern never matches (spec: evaluates to false).
  if (!re->ok()) {
    return false;
  }
  return RE2::PartialMatch(text, *re);
}

class Machine {
 public:
  Machine(SymbolTable& symbols, const ExternFunctions& externs)
      : symbols_(symbols), externs_(externs) {}

  Result<Term> Run(const std::vector<Op>& ops, Env& env) {
    std::vector<Item> stack;
    stack.reserve(8);
    for (const Op& op : ops) {
      switch (op.kind) {
        case OpKind::kValue:
          if (op.value.kind == TermKind::kVariable) {
            const Term* value = env.Find(static_cast<std::uint32_t>(op.value.bits));
            if (value == nullptr) {
              return Fail(ErrorKind::kUnknownVariable,
                          "unknown variable " + std::to_string(op.value.bits));
            }
            stack.push_back({*value, nullptr});
          } else {
            stack.push_back({op.value, nullptr});
          }
          break;
        case OpKind::kUnary: {
          if (stack.empty() || stack.back().closure != nullptr) {
            return Fail(ErrorKind::kInvalidStack, "invalid stack");
          }
          KISEE_ASSIGN_OR_RETURN(Term result, Unary(op, stack.back().term));
          stack.back().term = std::move(result);
          break;
        }
        case OpKind::kBinary: {
          if (stack.size() < 2) {
            return Fail(ErrorKind::kInvalidStack, "invalid stack");
          }
          Item right = std::move(stack.back());
          stack.pop_back();
          Item left = std::move(stack.back());
          stack.pop_back();
          Term result;
          if (left.closure == nullptr && right.closure == nullptr) {
            KISEE_ASSIGN_OR_RETURN(result, Binary(op, left.term, right.term));
          } else if (left.closure == nullptr || right.closure == nullptr) {
            const Closure* closure = left.closure != nullptr ? left.closure : right.closure;
            const Term& value = left.closure != nullptr ? right.term : left.term;
            for (std::uint32_t p : closure->params) {
              if (env.Find(p) != nullptr) {
                return Fail(ErrorKind::kShadowedVariable, "shadowed variable");
              }
            }
            KISEE_ASSIGN_OR_RETURN(result, WithClosure(op.binary, value, *closure, env));
          } else {
            return Fail(ErrorKind::kInvalidStack, "invalid stack");
          }
          stack.push_back({std::move(result), nullptr});
          break;
        }
        case OpKind::kClosure:
          stack.push_back({Term(), op.closure.get()});
          break;
      }
    }
    if (stack.size() != 1 || stack.back().closure != nullptr) {
      return Fail(ErrorKind::kInvalidStack, "invalid stack");
    }
    return std::move(stack.back().term);
  }

 private:
  Result<std::string_view> Str(const Term& t) {
    auto s = symbols_.Get(t.bits);
    if (!s.has_value()) {
      return Fail(ErrorKind::kUnknownSymbol, "unknown symbol " + std::to_string(t.bits));
    }
    return *s;
  }

  Result<Term> CallExtern(std::uint64_t name_id, const Term& left, const Term* right) {
    KISEE_ASSIGN_OR_RETURN(std::string_view name, Str(Term::String(name_id)));
    auto it = externs_.find(std::string(name));
    if (it == externs_.end()) {
      return Fail(ErrorKind::kUndefinedExtern, "undefined extern function " + std::string(name));
    }
    auto result = it->second(symbols_, left, right);
    if (!result) {
      return Fail(ErrorKind::kExternEvalError,
                  "extern function " + std::string(name) + ": " + result.error().message());
    }
    return std::move(*result);
  }

  Result<Term> Unary(const Op& op, const Term& value) {
    switch (op.unary) {
      case UnaryOp::kNegate:
        if (value.kind == TermKind::kBool) {
          return Term::Bool(!value.boolean());
        }
        return InvalidType();
      case UnaryOp::kParens:
        return value;
      case UnaryOp::kLength:
        switch (value.kind) {
          case TermKind::kString: {
            KISEE_ASSIGN_OR_RETURN(std::string_view s, Str(value));
            return Term::Integer(static_cast<std::int64_t>(s.size()));
          }
          case TermKind::kBytes:
            return Term::Integer(static_cast<std::int64_t>(value.bytes().size()));
          case TermKind::kSet:
          case TermKind::kArray:
            return Term::Integer(static_cast<std::int64_t>(value.items().size()));
          case TermKind::kMap:
            return Term::Integer(static_cast<std::int64_t>(value.entries().size()));
          default:
            return InvalidType();
        }
      case UnaryOp::kTypeOf: {
        std::string_view name;
        switch (value.kind) {
          case TermKind::kInteger:
            name = "integer";
            break;
          case TermKind::kString:
            name = "string";
            break;
          case TermKind::kDate:
            name = "date";
            break;
          case TermKind::kBytes:
            name = "bytes";
            break;
          case TermKind::kBool:
            name = "bool";
            break;
          case TermKind::kSet:
            name = "set";
            break;
          case TermKind::kNull:
            name = "null";
            break;
          case TermKind::kArray:
            name = "array";
            break;
          case TermKind::kMap:
            name = "map";
            break;
          default:
            return InvalidType();
        }
        return Term::String(symbols_.Insert(name));
      }
      case UnaryOp::kFfi:
        return CallExtern(op.ffi_name, value, nullptr);
    }
    return InvalidType();
  }

  static Result<Term> Checked(bool overflow, std::int64_t v) {
    if (overflow) {
      return Fail(ErrorKind::kOverflow, "integer overflow");
    }
    return Term::Integer(v);
  }

  Result<Term> Binary(const Op& op, const Term& l, const Term& r) {
    const BinaryOp b = op.binary;
    if (b == BinaryOp::kFfi) {
      return CallExtern(op.ffi_name, l, &r);
    }
    const bool eq = b == BinaryOp::kEqual || b == BinaryOp::kHeterogeneousEqual;
    const bool neq = b == BinaryOp::kNotEqual || b == BinaryOp::kHeterogeneousNotEqual;
    if (l.kind == r.kind) {
      switch (l.kind) {
        case TermKind::kInteger: {
          std::int64_t i = l.integer();
          std::int64_t j = r.integer();
          std::int64_t out = 0;
          switch (b) {
            case BinaryOp::kLessThan:
              return Term::Bool(i < j);
            case BinaryOp::kGreaterThan:
              return Term::Bool(i > j);
            case BinaryOp::kLessOrEqual:
              return Term::Bool(i <= j);
            case BinaryOp::kGreaterOrEqual:
              return Term::Bool(i >= j);
            case BinaryOp::kAdd: {
              bool overflow = __builtin_add_overflow(i, j, &out);
              return Checked(overflow, out);
            }
            case BinaryOp::kSub: {
              bool overflow = __builtin_sub_overflow(i, j, &out);
              return Checked(overflow, out);
            }
            case BinaryOp::kMul: {
              bool overflow = __builtin_mul_overflow(i, j, &out);
              return Checked(overflow, out);
            }
            case BinaryOp::kDiv:
              if (j == 0 || (i == INT64_MIN && j == -1)) {
                return Fail(ErrorKind::kDivideByZero, "division by zero or overflow");
              }
              return Term::Integer(i / j);
            case BinaryOp::kBitwiseAnd:
              return Term::Integer(i & j);
            case BinaryOp::kBitwiseOr:
              return Term::Integer(i | j);
            case BinaryOp::kBitwiseXor:
              return Term::Integer(i ^ j);
            default:
              break;
          }
          if (eq) return Term::Bool(i == j);
          if (neq) return Term::Bool(i != j);
          break;
        }
        case TermKind::kString: {
          if (eq) return Term::Bool(l.bits == r.bits);
          if (neq) return Term::Bool(l.bits != r.bits);
          if (b == BinaryOp::kPrefix || b == BinaryOp::kSuffix || b == BinaryOp::kRegex ||
              b == BinaryOp::kContains || b == BinaryOp::kAdd) {
            KISEE_ASSIGN_OR_RETURN(std::string_view s, Str(l));
            KISEE_ASSIGN_OR_RETURN(std::string_view t, Str(r));
            switch (b) {
              case BinaryOp::kPrefix:
                return Term::Bool(s.starts_with(t));
              case BinaryOp::kSuffix:
                return Term::Bool(s.ends_with(t));
              case BinaryOp::kRegex:
                return Term::Bool(RegexMatches(t, s));
              case BinaryOp::kContains:
                return Term::Bool(s.find(t) != std::string_view::npos);
              default: {
                std::string joined;
                joined.reserve(s.size() + t.size());
                joined.append(s).append(t);
                return Term::String(symbols_.Insert(joined));
              }
            }
          }
          break;
        }
        case TermKind::kDate:
          switch (b) {
            case BinaryOp::kLessThan:
              return Term::Bool(l.bits < r.bits);
            case BinaryOp::kGreaterThan:
              return Term::Bool(l.bits > r.bits);
            case BinaryOp::kLessOrEqual:
              return Term::Bool(l.bits <= r.bits);
            case BinaryOp::kGreaterOrEqual:
              return Term::Bool(l.bits >= r.bits);
            default:
              break;
          }
          if (eq) return Term::Bool(l.bits == r.bits);
          if (neq) return Term::Bool(l.bits != r.bits);
          break;
        case TermKind::kBytes:
          if (eq) return Term::Bool(l.bytes() == r.bytes());
          if (neq) return Term::Bool(l.bytes() != r.bytes());
          break;
        case TermKind::kSet: {
          if (eq) return Term::Bool(l == r);
          if (neq) return Term::Bool(!(l == r));
          const auto& x = l.items();
          const auto& y = r.items();
          if (b == BinaryOp::kIntersection) {
            std::vector<Term> out;
            std::set_intersection(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(out));
            return Term::MakeSet(std::move(out));
          }
          if (b == BinaryOp::kUnion) {
            std::vector<Term> out;
            std::set_union(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(out));
            return Term::MakeSet(std::move(out));
          }
          if (b == BinaryOp::kContains) {
            return Term::Bool(std::includes(x.begin(), x.end(), y.begin(), y.end()));
          }
          break;
        }
        case TermKind::kBool:
          if (b == BinaryOp::kAnd) return Term::Bool(l.boolean() && r.boolean());
          if (b == BinaryOp::kOr) return Term::Bool(l.boolean() || r.boolean());
          if (eq) return Term::Bool(l.bits == r.bits);
          if (neq) return Term::Bool(l.bits != r.bits);
          break;
        case TermKind::kNull:
          if (eq) return Term::Bool(true);
          if (neq) return Term::Bool(false);
          break;
        case TermKind::kArray:
          if (eq) return Term::Bool(l == r);
          if (neq) return Term::Bool(!(l == r));
          if (b == BinaryOp::kPrefix || b == BinaryOp::kSuffix) {
            const auto& x = l.items();
            const auto& y = r.items();
            if (y.size() > x.size()) {
              return Term::Bool(false);
            }
            std::size_t offset = b == BinaryOp::kPrefix ? 0 : x.size() - y.size();
            for (std::size_t k = 0; k < y.size(); ++k) {
              if (!(x[offset + k] == y[k])) {
                return Term::Bool(false);
              }
            }
            return Term::Bool(true);
          }
          break;
        case TermKind::kMap:
          if (eq) return Term::Bool(l == r);
          if (neq) return Term::Bool(!(l == r));
          break;
        default:
          break;
      }
    }
    // Mixed kinds.
    if (l.kind == TermKind::kSet && b == BinaryOp::kContains) {
      switch (r.kind) {
        case TermKind::kInteger:
        case TermKind::kDate:
        case TermKind::kBool:
        case TermKind::kString:
        case TermKind::kBytes:
          return Term::Bool(std::binary_search(l.items().begin(), l.items().end(), r));
        default:
          return InvalidType();
      }
    }
    if (l.kind == TermKind::kArray) {
      if (b == BinaryOp::kContains) {
        return Term::Bool(std::find(l.items().begin(), l.items().end(), r) != l.items().end());
      }
      if (b == BinaryOp::kGet && r.kind == TermKind::kInteger) {
        std::int64_t index = r.integer();
        if (index < 0 || static_cast<std::uint64_t>(index) >= l.items().size()) {
          return Term::Null();
        }
        return l.items()[static_cast<std::size_t>(index)];
      }
    }
    if (l.kind == TermKind::kMap) {
      if (b == BinaryOp::kContains) {
        for (const auto& entry : l.entries()) {
          if (entry.first == r) {
            return Term::Bool(true);
          }
        }
        return Term::Bool(false);
      }
      if (b == BinaryOp::kGet && (r.kind == TermKind::kInteger || r.kind == TermKind::kString)) {
        for (const auto& entry : l.entries()) {
          if (entry.first == r) {
            return entry.second;
          }
        }
        return Term::Null();
      }
    }
    if (b == BinaryOp::kHeterogeneousEqual) {
      return Term::Bool(false);
    }
    if (b == BinaryOp::kHeterogeneousNotEqual) {
      return Term::Bool(true);
    }
    return InvalidType();
  }

  Result<Term> RunClosure(const Closure& closure, Env& env) { return Run(closure.ops, env); }

  Result<Term> WithClosure(BinaryOp b, const Term& value, const Closure& closure, Env& env) {
    if (closure.params.empty()) {
      switch (b) {
        case BinaryOp::kTryOr: {
          auto result = RunClosure(closure, env);
          if (!result) {
            return value;
          }
          return result;
        }
        case BinaryOp::kLazyOr:
          if (value.kind != TermKind::kBool) return InvalidType();
          if (value.boolean()) return Term::Bool(true);
          return RunClosure(closure, env);
        case BinaryOp::kLazyAnd:
          if (value.kind != TermKind::kBool) return InvalidType();
          if (!value.boolean()) return Term::Bool(false);
          return RunClosure(closure, env);
        default:
          return InvalidType();
      }
    }
    if (closure.params.size() != 1 || (b != BinaryOp::kAll && b != BinaryOp::kAny)) {
      return InvalidType();
    }
    const bool want_all = b == BinaryOp::kAll;
    std::uint32_t param = closure.params[0];
    auto visit = [&](Term element) -> Result<bool> {
      env.params.emplace_back(param, std::move(element));
      auto result = RunClosure(closure, env);
      env.params.pop_back();
      if (!result) {
        return std::unexpected<Error>(std::move(result).error());
      }
      if (result->kind != TermKind::kBool) {
        return InvalidType();
      }
      return result->boolean();
    };
    switch (value.kind) {
      case TermKind::kSet:
      case TermKind::kArray:
        for (const Term& element : value.items()) {
          KISEE_ASSIGN_OR_RETURN(bool ok, visit(element));
          if (ok != want_all) {
            return Term::Bool(ok);
          }
        }
        return Term::Bool(want_all);
      case TermKind::kMap:
        for (const auto& [k, v] : value.entries()) {
          KISEE_ASSIGN_OR_RETURN(bool ok, visit(Term::MakeArray({k, v})));
          if (ok != want_all) {
            return Term::Bool(ok);
          }
        }
        return Term::Bool(want_all);
      default:
        return InvalidType();
    }
  }

  SymbolTable& symbols_;
  const ExternFunctions& externs_;
};

}  // namespace

Result<Term> Evaluate(const Expression& expression, const Bindings& bindings, SymbolTable& symbols,
                      const ExternFunctions& externs) {
  Env env;
  env.bindings = &bindings;
  Machine machine(symbols, externs);
  return machine.Run(expression.ops, env);
}

}  // namespace kisee::biscuit::datalog
