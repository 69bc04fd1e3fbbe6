#include <fmt/format.h>

#include "biscuit/parser/parser.h"

namespace kisee::biscuit::parser {

using datalog::BinaryOp;
using datalog::Op;
using datalog::OpKind;
using datalog::Term;
using datalog::TermKind;
using datalog::UnaryOp;

namespace {

// Days from civil date (proleptic Gregorian), Howard Hinnant's algorithm.
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void CivilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

std::string QuoteString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

std::optional<std::uint64_t> ParseRfc3339(std::string_view t) {
  auto digits = [&](std::size_t pos, std::size_t n, int& out) {
    if (pos + n > t.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      out = out * 10 + (t[i] - '0');
    }
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!digits(0, 4, year) || t.size() < 20 || t[4] != '-' || !digits(5, 2, month) || t[7] != '-' ||
      !digits(8, 2, day) || (t[10] != 'T' && t[10] != 't') || !digits(11, 2, hour) ||
      t[13] != ':' || !digits(14, 2, minute) || t[16] != ':' || !digits(17, 2, second)) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') ++pos;
    if (pos == start) return std::nullopt;
  }
  std::int64_t offset = 0;
  if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    ++pos;
  } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, oh) || pos + 3 >= t.size() || t[pos + 3] != ':' ||
        !digits(pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * (t[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != t.size()) return std::nullopt;
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1] ||
      (month == 2 && day == 29 && !leap) || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::int64_t seconds =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
      hour * 3600 + minute * 60 + second - offset;
  if (seconds < 0) return std::nullopt;
  return static_cast<std::uint64_t>(seconds);
}

std::string FormatRfc3339(std::uint64_t seconds) {
  // 253402300799 is 9999-12-31T23:59:59Z, the last date RFC 3339 can write.
  if (seconds > 253402300799ULL) {
    return "<invalid date>";
  }
  std::int64_t s = static_cast<std::int64_t>(seconds);
  std::int64_t days = s / 86400;
  std::int64_t rem = s % 86400;
  std::int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", y, m, d, rem / 3600, (rem / 60) % 60,
                     rem % 60);
}

std::string PrintTerm(const Term& t, const datalog::SymbolTable& symbols) {
  switch (t.kind) {
    case TermKind::kVariable:
      return "$" + symbols.GetOr(t.bits);
    case TermKind::kInteger:
      return std::to_string(t.integer());
    case TermKind::kString: {
      auto s = symbols.Get(t.bits);
      return s.has_value() ? QuoteString(*s) : "\"<" + std::to_string(t.bits) + "?>\"";
    }
    case TermKind::kDate:
      return FormatRfc3339(t.bits);
    case TermKind::kBytes:
      return "hex:" + HexEncode(t.bytes());
    case TermKind::kBool:
      return t.boolean() ? "true" : "false";
    case TermKind::kNull:
      return "null";
    case TermKind::kSet: {
      if (t.items().empty()) return "{,}";
      std::string out = "{";
      for (std::size_t i = 0; i < t.items().size(); ++i) {
        if (i > 0) out += ", ";
        out += PrintTerm(t.items()[i], symbols);
      }
      return out + "}";
    }
    case TermKind::kArray: {
      std::string out = "[";
      for (std::size_t i = 0; i < t.items().size(); ++i) {
        if (i > 0) out += ", ";
        out += PrintTerm(t.items()[i], symbols);
      }
      return out + "]";
    }
    case TermKind::kMap: {
      std::string out = "{";
      for (std::size_t i = 0; i < t.entries().size(); ++i) {
        if (i > 0) out += ", ";
        out += PrintTerm(t.entries()[i].first, symbols) + ": " +
               PrintTerm(t.entries()[i].second, symbols);
      }
      return out + "}";
    }
    case TermKind::kParameter:
      return "{" + t.parameter_name() + "}";
  }
  return "?";
}

std::string PrintPredicate(const datalog::Predicate& p, const datalog::SymbolTable& symbols) {
  std::string out = symbols.Get(p.name).has_value() ? std::string(*symbols.Get(p.name)) : "<?>";
  out += "(";
  for (std::size_t i = 0; i < p.terms.size(); ++i) {
    if (i > 0) out += ", ";
    out += PrintTerm(p.terms[i], symbols);
  }
  return out + ")";
}

namespace {

std::optional<std::string> PrintOps(const std::vector<Op>& ops,
                                    const datalog::SymbolTable& symbols) {
  std::vector<std::string> stack;
  for (const Op& op : ops) {
    switch (op.kind) {
      case OpKind::kValue:
        stack.push_back(PrintTerm(op.value, symbols));
        break;
      case OpKind::kUnary: {
        if (stack.empty()) return std::nullopt;
        std::string& v = stack.back();
        switch (op.unary) {
          case UnaryOp::kNegate:
            v = "!" + v;
            break;
          case UnaryOp::kParens:
            v = "(" + v + ")";
            break;
          case UnaryOp::kLength:
            v += ".length()";
            break;
          case UnaryOp::kTypeOf:
            v += ".type()";
            break;
          case UnaryOp::kFfi:
            v += ".extern::" + symbols.GetOr(op.ffi_name) + "()";
            break;
        }
        break;
      }
      case OpKind::kBinary: {
        if (stack.size() < 2) return std::nullopt;
        std::string r = std::move(stack.back());
        stack.pop_back();
        std::string l = std::move(stack.back());
        stack.pop_back();
        std::string out;
        switch (op.binary) {
          case BinaryOp::kLessThan:
            out = l + " < " + r;
            break;
          case BinaryOp::kGreaterThan:
            out = l + " > " + r;
            break;
          case BinaryOp::kLessOrEqual:
            out = l + " <= " + r;
            break;
          case BinaryOp::kGreaterOrEqual:
            out = l + " >= " + r;
            break;
          case BinaryOp::kEqual:
            out = l + " === " + r;
            break;
          case BinaryOp::kHeterogeneousEqual:
            out = l + " == " + r;
            break;
          case BinaryOp::kNotEqual:
            out = l + " !== " + r;
            break;
          case BinaryOp::kHeterogeneousNotEqual:
            out = l + " != " + r;
            break;
          case BinaryOp::kContains:
            out = l + ".contains(" + r + ")";
            break;
          case BinaryOp::kPrefix:
            out = l + ".starts_with(" + r + ")";
            break;
          case BinaryOp::kSuffix:
            out = l + ".ends_with(" + r + ")";
            break;
          case BinaryOp::kRegex:
            out = l + ".matches(" + r + ")";
            break;
          case BinaryOp::kAdd:
            out = l + " + " + r;
            break;
          case BinaryOp::kSub:
            out = l + " - " + r;
            break;
          case BinaryOp::kMul:
            out = l + " * " + r;
            break;
          case BinaryOp::kDiv:
            out = l + " / " + r;
            break;
          case BinaryOp::kAnd:
            out = l + " &&! " + r;
            break;
          case BinaryOp::kOr:
            out = l + " ||! " + r;
            break;
          case BinaryOp::kIntersection:
            out = l + ".intersection(" + r + ")";
            break;
          case BinaryOp::kUnion:
            out = l + ".union(" + r + ")";
            break;
          case BinaryOp::kBitwiseAnd:
            out = l + " & " + r;
            break;
          case BinaryOp::kBitwiseOr:
            out = l + " | " + r;
            break;
          case BinaryOp::kBitwiseXor:
            out = l + " ^ " + r;
            break;
          case BinaryOp::kLazyAnd:
            out = l + " && " + r;
            break;
          case BinaryOp::kLazyOr:
            out = l + " || " + r;
            break;
          case BinaryOp::kAll:
            out = l + ".all(" + r + ")";
            break;
          case BinaryOp::kAny:
            out = l + ".any(" + r + ")";
            break;
          case BinaryOp::kGet:
            out = l + ".get(" + r + ")";
            break;
          case BinaryOp::kFfi:
            out = l + ".extern::" + symbols.GetOr(op.ffi_name) + "(" + r + ")";
            break;
          case BinaryOp::kTryOr:
            out = l + ".try_or(" + r + ")";
            break;
        }
        stack.push_back(std::move(out));
        break;
      }
      case OpKind::kClosure: {
        auto body = PrintOps(op.closure->ops, symbols);
        if (!body.has_value()) return std::nullopt;
        if (op.closure->params.empty()) {
          stack.push_back(std::move(*body));
        } else {
          std::string params;
          for (std::size_t i = 0; i < op.closure->params.size(); ++i) {
            if (i > 0) params += ", ";
            params += "$" + symbols.GetOr(op.closure->params[i]);
          }
          stack.push_back(params + " -> " + *body);
        }
        break;
      }
    }
  }
  if (stack.size() != 1) return std::nullopt;
  return std::move(stack.back());
}

}  // namespace

std::string PrintExpression(const datalog::Expression& e, const datalog::SymbolTable& symbols) {
  auto printed = PrintOps(e.ops, symbols);
  return printed.has_value() ? *printed : "<invalid expression>";
}

std::string PrintScope(const datalog::Scope& s, const datalog::SymbolTable& symbols) {
  switch (s.kind) {
    case datalog::ScopeKind::kAuthority:
      return "authority";
    case datalog::ScopeKind::kPrevious:
      return "previous";
    case datalog::ScopeKind::kPublicKey: {
      const datalog::PublicKeyData* key = symbols.GetKey(s.public_key);
      return key != nullptr ? key->ToString() : "<unknown public key id>";
    }
    case datalog::ScopeKind::kParameter:
      return "{" + s.parameter + "}";
  }
  return "?";
}

std::string PrintRuleBody(const datalog::Rule& r, const datalog::SymbolTable& symbols) {
  std::string out;
  for (std::size_t i = 0; i < r.body.size(); ++i) {
    if (i > 0) out += ", ";
    out += PrintPredicate(r.body[i], symbols);
  }
  for (std::size_t i = 0; i < r.expressions.size(); ++i) {
    if (i > 0 || !r.body.empty()) out += ", ";
    out += PrintExpression(r.expressions[i], symbols);
  }
  if (!r.scopes.empty()) {
    out += " trusting ";
    for (std::size_t i = 0; i < r.scopes.size(); ++i) {
      if (i > 0) out += ", ";
      out += PrintScope(r.scopes[i], symbols);
    }
  }
  return out;
}

std::string PrintRule(const datalog::Rule& r, const datalog::SymbolTable& symbols) {
  return PrintPredicate(r.head, symbols) + " <- " + PrintRuleBody(r, symbols);
}

namespace {
std::string JoinQueries(const std::vector<datalog::Rule>& queries,
                        const datalog::SymbolTable& symbols) {
  std::string out;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    if (i > 0) out += " or ";
    out += PrintRuleBody(queries[i], symbols);
  }
  return out;
}
}  // namespace

std::string PrintCheck(const datalog::Check& c, const datalog::SymbolTable& symbols) {
  const char* prefix = c.kind == datalog::CheckKind::kOne   ? "check if "
                       : c.kind == datalog::CheckKind::kAll ? "check all "
                                                            : "reject if ";
  return prefix + JoinQueries(c.queries, symbols);
}

std::string PrintPolicy(const datalog::Policy& p, const datalog::SymbolTable& symbols) {
  return (p.kind == datalog::PolicyKind::kAllow ? "allow if " : "deny if ") +
         JoinQueries(p.queries, symbols);
}

std::string PrintBlock(const datalog::Block& block, const datalog::SymbolTable& symbols) {
  std::string out;
  if (!block.scopes.empty()) {
    out += "trusting ";
    for (std::size_t i = 0; i < block.scopes.size(); ++i) {
      if (i > 0) out += ", ";
      out += PrintScope(block.scopes[i], symbols);
    }
    out += ";\n";
  }
  for (const auto& f : block.facts) out += PrintPredicate(f.predicate, symbols) + ";\n";
  for (const auto& r : block.rules) out += PrintRule(r, symbols) + ";\n";
  for (const auto& c : block.checks) out += PrintCheck(c, symbols) + ";\n";
  return out;
}

}  // namespace kisee::biscuit::parser
