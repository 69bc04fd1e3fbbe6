// A recursive-descent parser for the grammar of SPECIFICATIONS.md, with the
// reference parser's operator precedence (|| < && < comparisons < ^ < | < &
// < + - < * / < ! < methods) and its quirks (`!` applies to an additive
// expression; `{}` is an empty map, `{,}` an empty set).
#include "biscuit/parser/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <variant>

#include "kisee/core/error.h"

namespace kisee::biscuit::parser {

using namespace datalog;  // NOLINT: the parser speaks the engine's types throughout

namespace {

constexpr int kMaxDepth = 200;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsNameChar(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '_' ||
         c == ':' || u >= 0x80;
}
bool IsAlpha(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80;
}
bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// A parse failure that alternatives may recover from (soft) or not (hard).
struct Failure {
  std::size_t pos;
  std::string message;
  bool hard;
};

template <typename T>
using P = std::expected<T, Failure>;

std::unexpected<Failure> Soft(std::size_t pos, std::string message) {
  return std::unexpected<Failure>(Failure{pos, std::move(message), false});
}
std::unexpected<Failure> Hard(std::size_t pos, std::string message) {
  return std::unexpected<Failure>(Failure{pos, std::move(message), true});
}

// Expression tree before it is flattened to opcodes.
struct Expr {
  enum Kind { kValue, kUnary, kBinary, kClosure } kind = kValue;
  Term value;
  Op op;
  std::vector<std::uint32_t> params;
  std::unique_ptr<Expr> left, right;

  void Flatten(std::vector<Op>& out) && {
    switch (kind) {
      case kValue: {
        Op v;
        v.kind = OpKind::kValue;
        v.value = std::move(value);
        out.push_back(std::move(v));
        break;
      }
      case kUnary:
        std::move(*left).Flatten(out);
        out.push_back(std::move(op));
        break;
      case kBinary:
        std::move(*left).Flatten(out);
        std::move(*right).Flatten(out);
        out.push_back(std::move(op));
        break;
      case kClosure: {
        auto closure = std::make_shared<Closure>();
        closure->params = std::move(params);
        std::move(*left).Flatten(closure->ops);
        Op c;
        c.kind = OpKind::kClosure;
        c.closure = std::move(closure);
        out.push_back(std::move(c));
        break;
      }
    }
  }
};
using ExprPtr = std::unique_ptr<Expr>;

ExprPtr MakeValue(Term t) {
  auto e = std::make_unique<Expr>();
  e->kind = Expr::kValue;
  e->value = std::move(t);
  return e;
}
ExprPtr MakeUnary(UnaryOp u, ExprPtr inner, std::uint64_t ffi = 0) {
  auto e = std::make_unique<Expr>();
  e->kind = Expr::kUnary;
  e->op.kind = OpKind::kUnary;
  e->op.unary = u;
  e->op.ffi_name = ffi;
  e->left = std::move(inner);
  return e;
}
ExprPtr MakeClosure(std::vector<std::uint32_t> params, ExprPtr body) {
  auto e = std::make_unique<Expr>();
  e->kind = Expr::kClosure;
  e->params = std::move(params);
  e->left = std::move(body);
  return e;
}
ExprPtr MakeBinary(BinaryOp b, ExprPtr l, ExprPtr r, std::uint64_t ffi = 0) {
  // Lazy operators take their right-hand side as a closure.
  if (b == BinaryOp::kLazyAnd || b == BinaryOp::kLazyOr) {
    r = MakeClosure({}, std::move(r));
  }
  auto e = std::make_unique<Expr>();
  e->kind = Expr::kBinary;
  e->op.kind = OpKind::kBinary;
  e->op.binary = b;
  e->op.ffi_name = ffi;
  e->left = std::move(l);
  e->right = std::move(r);
  return e;
}

class Parser {
 public:
  Parser(std::string_view text, SymbolTable& symbols) : s_(text), symbols_(symbols) {}

  std::size_t pos() const { return pos_; }
  bool AtEnd() const { return pos_ >= s_.size(); }
  void SkipSpace() {
    while (pos_ < s_.size() && IsSpace(s_[pos_])) ++pos_;
  }
  bool Peek(std::string_view t) const { return s_.substr(pos_).starts_with(t); }
  bool Eat(std::string_view t) {
    if (Peek(t)) {
      pos_ += t.size();
      return true;
    }
    return false;
  }
  bool PeekNoCase(std::string_view t) const {
    if (s_.size() - pos_ < t.size()) return false;
    for (std::size_t i = 0; i < t.size(); ++i) {
      char a = s_[pos_ + i];
      if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
      if (a != t[i]) return false;
    }
    return true;
  }

  // Comments between elements.
  bool SkipComment() {
    SkipSpace();
    if (Eat("//")) {
      while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      return true;
    }
    if (Peek("/*")) {
      std::size_t end = s_.find("*/", pos_ + 2);
      pos_ = end == std::string_view::npos ? s_.size() : end + 2;
      return true;
    }
    return false;
  }

  P<std::string_view> Name() {
    std::size_t start = pos_;
    while (pos_ < s_.size() && IsNameChar(s_[pos_])) ++pos_;
    if (pos_ == start) return Soft(start, "expected a name");
    return s_.substr(start, pos_ - start);
  }

  P<std::string> String() {
    std::size_t start = pos_;
    if (!Eat("\"")) return Soft(start, "expected a string");
    std::string out;
    while (true) {
      if (AtEnd()) return Hard(start, "unterminated string");
      char c = s_[pos_++];
      if (c == '"') break;
      if (c == '\\') {
        if (AtEnd()) return Hard(start, "unterminated string");
        char e = s_[pos_++];
        if (e == '\\')
          out += '\\';
        else if (e == '"')
          out += '"';
        else if (e == 'n')
          out += '\n';
        else
          return Hard(pos_ - 1, "invalid escape in string");
      } else {
        out += c;
      }
    }
    return out;
  }

  P<std::int64_t> Integer() {
    std::size_t start = pos_;
    std::size_t p = pos_;
    if (p < s_.size() && s_[p] == '-') ++p;
    std::size_t digits = p;
    while (p < s_.size() && s_[p] >= '0' && s_[p] <= '9') ++p;
    if (p == digits) return Soft(start, "expected an integer");
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(s_.data() + start, s_.data() + p, value);
    if (ec != std::errc() || end != s_.data() + p) return Soft(start, "integer out of range");
    pos_ = p;
    return value;
  }

  P<std::uint64_t> Date() {
    std::size_t start = pos_;
    std::size_t p = pos_;
    while (p < s_.size()) {
      char c = s_[p];
      if (c == ',' || c == ' ' || c == ')' || c == ']' || c == ';' || c == '}' || c == '\n' ||
          c == '\t' || c == '\r') {
        break;
      }
      ++p;
    }
    auto d = ParseRfc3339(s_.substr(start, p - start));
    if (!d.has_value()) return Soft(start, "expected a date");
    pos_ = p;
    return *d;
  }

  P<Bytes> HexBytes() {
    std::size_t start = pos_;
    while (pos_ < s_.size() && IsHex(s_[pos_])) ++pos_;
    if (pos_ == start) return Soft(start, "expected hex digits");
    auto bytes = HexDecode(s_.substr(start, pos_ - start));
    if (!bytes) {
      pos_ = start;
      return Soft(start, "invalid hex");
    }
    return std::move(*bytes);
  }

  P<std::string> ParameterName() {
    std::size_t start = pos_;
    if (!Eat("{")) return Soft(start, "expected a parameter");
    if (AtEnd() || !IsAlpha(s_[pos_])) {
      pos_ = start;
      return Soft(start, "invalid parameter name");
    }
    std::size_t name_start = pos_;
    while (pos_ < s_.size() && IsNameChar(s_[pos_])) ++pos_;
    std::string name(s_.substr(name_start, pos_ - name_start));
    if (!Eat("}")) {
      pos_ = start;
      return Soft(start, "invalid parameter");
    }
    return name;
  }

  bool KeywordAhead(std::string_view word) const {
    if (!Peek(word)) return false;
    std::size_t after = pos_ + word.size();
    return after >= s_.size() || !IsNameChar(s_[after]);
  }

  enum class TermContext { kAny, kFact, kSet };

  // Term in the reference's order of alternatives.
  P<Term> ParseTerm(TermContext ctx, int depth) {
    if (depth > kMaxDepth) return Hard(pos_, "nesting too deep");
    SkipSpace();
    std::size_t start = pos_;
    if (AtEnd()) return Soft(start, "missing term");
    char c = s_[pos_];
    if (c == '{') {
      if (auto p = ParameterName(); p) return Term::Parameter(std::move(*p));
    }
    if (c == '"') {
      KISEE_ASSIGN_OR_RETURN(std::string str, String());
      return Term::String(symbols_.Insert(str));
    }
    if ((c >= '0' && c <= '9') || c == '-') {
      if (auto d = Date(); d) return Term::Date(*d);
      if (auto i = Integer(); i) return Term::Integer(*i);
      return Hard(start, "expected a valid term");
    }
    if (c == '$') {
      if (ctx != TermContext::kAny) {
        return Hard(start, ctx == TermContext::kFact ? "variables are not allowed in facts"
                                                     : "variables are not allowed in sets");
      }
      ++pos_;
      KISEE_ASSIGN_OR_RETURN(std::string_view name, Name());
      return Term::Variable(static_cast<std::uint32_t>(symbols_.Insert(name)));
    }
    if (Eat("hex:")) {
      KISEE_ASSIGN_OR_RETURN(Bytes b, HexBytes());
      return Term::MakeBytes(std::move(b));
    }
    if (KeywordAhead("true")) {
      pos_ += 4;
      return Term::Bool(true);
    }
    if (KeywordAhead("false")) {
      pos_ += 5;
      return Term::Bool(false);
    }
    if (KeywordAhead("null")) {
      pos_ += 4;
      return Term::Null();
    }
    if (c == '[' && ctx != TermContext::kSet) {
      ++pos_;
      std::vector<Term> items;
      SkipSpace();
      if (!Eat("]")) {
        while (true) {
          KISEE_ASSIGN_OR_RETURN(Term t, ParseTerm(TermContext::kFact, depth + 1));
          items.push_back(std::move(t));
          SkipSpace();
          if (Eat(",")) continue;
          if (Eat("]")) break;
          return Hard(pos_, "expected ',' or ']' in array");
        }
      }
      return Term::MakeArray(std::move(items));
    }
    if (c == '{') {
      if (Eat("{,}")) {
        if (ctx == TermContext::kSet) return Hard(start, "sets cannot contain other sets");
        return Term::MakeSet({});
      }
      // A map first; when the first element is not followed by ':' it is a set.
      std::size_t save = pos_;
      if (auto m = Map(depth); m)
        return std::move(*m);
      else if (m.error().hard)
        return std::unexpected<Failure>(m.error());
      pos_ = save;
      if (ctx == TermContext::kSet) return Hard(start, "sets cannot contain other sets");
      return Set(depth);
    }
    return Soft(start, "expected a valid term");
  }

  P<Term> Map(int depth) {
    std::size_t start = pos_;
    Eat("{");
    std::vector<std::pair<Term, Term>> entries;
    SkipSpace();
    if (Eat("}")) return Term::MakeMap({});
    while (true) {
      SkipSpace();
      Term key;
      if (Peek("\"")) {
        KISEE_ASSIGN_OR_RETURN(std::string k, String());
        key = Term::String(symbols_.Insert(k));
      } else if (auto p = ParameterName(); p) {
        key = Term::Parameter(std::move(*p));
      } else {
        auto i = Integer();
        if (!i) return Soft(start, "not a map");
        key = Term::Integer(*i);
      }
      SkipSpace();
      if (!Eat(":")) return Soft(start, "not a map");
      KISEE_ASSIGN_OR_RETURN(Term value, ParseTerm(TermContext::kFact, depth + 1));
      entries.emplace_back(std::move(key), std::move(value));
      SkipSpace();
      if (Eat(",")) continue;
      if (Eat("}")) break;
      return Hard(pos_, "expected ',' or '}' in map");
    }
    return Term::MakeMap(std::move(entries));
  }

  P<Term> Set(int depth) {
    std::size_t start = pos_;
    Eat("{");
    std::vector<Term> items;
    int kind = -1;
    while (true) {
      KISEE_ASSIGN_OR_RETURN(Term t, ParseTerm(TermContext::kSet, depth + 1));
      if (t.kind == TermKind::kSet) return Hard(start, "sets cannot contain other sets");
      if (kind >= 0 && kind != static_cast<int>(t.kind)) {
        return Hard(start, "set elements must have the same type");
      }
      kind = static_cast<int>(t.kind);
      items.push_back(std::move(t));
      SkipSpace();
      if (Eat(",")) continue;
      if (Eat("}")) break;
      return Hard(pos_, "expected ',' or '}' in set");
    }
    return Term::MakeSet(std::move(items));
  }

  // predicate: name '(' term (',' term)* ')'
  P<Predicate> ParsePredicate(TermContext ctx, bool allow_empty) {
    SkipSpace();
    std::size_t start = pos_;
    KISEE_ASSIGN_OR_RETURN(std::string_view name, Name());
    SkipSpace();
    if (!Eat("(")) {
      pos_ = start;
      return Soft(start, "expected '('");
    }
    Predicate p;
    p.name = symbols_.Insert(name);
    SkipSpace();
    if (Eat(")")) {
      if (!allow_empty) return Hard(start, "a predicate needs at least one term");
      return p;
    }
    while (true) {
      auto t = ParseTerm(ctx, 0);
      if (!t) {
        // A soft failure here means the text is not a predicate at all (for
        // instance `a(1).length()` is an expression); let the caller retry.
        if (!t.error().hard) pos_ = start;
        return std::unexpected<Failure>(t.error());
      }
      p.terms.push_back(std::move(*t));
      SkipSpace();
      if (Eat(",")) continue;
      if (Eat(")")) break;
      pos_ = start;
      return Soft(start, "expected ',' or ')'");
    }
    return p;
  }

  // ---- expressions ----
  P<ExprPtr> Expression(int depth) {
    if (depth > kMaxDepth) return Hard(pos_, "expression nesting too deep");
    KISEE_ASSIGN_OR_RETURN(ExprPtr left, Expr1(depth));
    while (true) {
      std::size_t save = pos_;
      SkipSpace();
      if (!Eat("||")) {
        pos_ = save;
        break;
      }
      auto right = Expr1(depth);
      if (!right) return std::unexpected<Failure>(right.error());
      left = MakeBinary(BinaryOp::kLazyOr, std::move(left), std::move(*right));
    }
    return left;
  }

  P<ExprPtr> Expr1(int depth) {
    KISEE_ASSIGN_OR_RETURN(ExprPtr left, Expr2(depth));
    while (true) {
      std::size_t save = pos_;
      SkipSpace();
      if (!Eat("&&")) {
        pos_ = save;
        break;
      }
      KISEE_ASSIGN_OR_RETURN(ExprPtr right, Expr2(depth));
      left = MakeBinary(BinaryOp::kLazyAnd, std::move(left), std::move(right));
    }
    return left;
  }

  P<ExprPtr> Expr2(int depth) {
    KISEE_ASSIGN_OR_RETURN(ExprPtr left, Expr3(depth));
    std::size_t save = pos_;
    SkipSpace();
    static const std::pair<std::string_view, BinaryOp> kOps[] = {
        {"<=", BinaryOp::kLessOrEqual},
        {">=", BinaryOp::kGreaterOrEqual},
        {"<", BinaryOp::kLessThan},
        {">", BinaryOp::kGreaterThan},
        {"===", BinaryOp::kEqual},
        {"!==", BinaryOp::kNotEqual},
        {"==", BinaryOp::kHeterogeneousEqual},
        {"!=", BinaryOp::kHeterogeneousNotEqual}};
    for (const auto& [text, op] : kOps) {
      if (Peek(text) && !(text == "<" && Peek("<-"))) {
        pos_ += text.size();
        KISEE_ASSIGN_OR_RETURN(ExprPtr right, Expr3(depth));
        return MakeBinary(op, std::move(left), std::move(right));
      }
    }
    pos_ = save;
    return left;
  }

  template <typename Next>
  P<ExprPtr> LeftAssoc(int depth, Next next,
                       std::initializer_list<std::pair<std::string_view, BinaryOp>> ops,
                       std::string_view not_followed_by = {}) {
    KISEE_ASSIGN_OR_RETURN(ExprPtr left, (this->*next)(depth));
    while (true) {
      std::size_t save = pos_;
      SkipSpace();
      bool matched = false;
      for (const auto& [text, op] : ops) {
        if (Peek(text) && (not_followed_by.empty() || !Peek(not_followed_by))) {
          pos_ += text.size();
          auto right = (this->*next)(depth);
          if (!right) {
            if (right.error().hard) return std::unexpected<Failure>(right.error());
            pos_ = save;
            return left;
          }
          left = MakeBinary(op, std::move(left), std::move(*right));
          matched = true;
          break;
        }
      }
      if (!matched) {
        pos_ = save;
        return left;
      }
    }
  }

  P<ExprPtr> Expr3(int depth) {
    return LeftAssoc(depth, &Parser::Expr4, {{"^", BinaryOp::kBitwiseXor}});
  }
  P<ExprPtr> Expr4(int depth) {
    return LeftAssoc(depth, &Parser::Expr5, {{"|", BinaryOp::kBitwiseOr}}, "||");
  }
  P<ExprPtr> Expr5(int depth) {
    return LeftAssoc(depth, &Parser::Expr6, {{"&", BinaryOp::kBitwiseAnd}}, "&&");
  }
  P<ExprPtr> Expr6(int depth) {
    return LeftAssoc(depth, &Parser::Expr7, {{"+", BinaryOp::kAdd}, {"-", BinaryOp::kSub}});
  }
  P<ExprPtr> Expr7(int depth) {
    return LeftAssoc(depth, &Parser::Expr8, {{"*", BinaryOp::kMul}, {"/", BinaryOp::kDiv}});
  }

  P<ExprPtr> Expr8(int depth) {
    std::size_t save = pos_;
    SkipSpace();
    if (Peek("!") && !Peek("!=")) {
      ++pos_;
      SkipSpace();
      KISEE_ASSIGN_OR_RETURN(ExprPtr inner, Expr6(depth + 1));
      return MakeUnary(UnaryOp::kNegate, std::move(inner));
    }
    pos_ = save;
    return Expr9(depth);
  }

  P<ExprPtr> ExprTerm(int depth) {
    SkipSpace();
    std::size_t start = pos_;
    if (Eat("(")) {
      auto inner = Expression(depth + 1);
      if (!inner) {
        pos_ = start;
        return std::unexpected<Failure>(inner.error());
      }
      SkipSpace();
      if (!Eat(")")) return Hard(pos_, "expected ')'");
      return MakeUnary(UnaryOp::kParens, std::move(*inner));
    }
    KISEE_ASSIGN_OR_RETURN(Term t, ParseTerm(TermContext::kAny, depth + 1));
    return MakeValue(std::move(t));
  }

  P<ExprPtr> Expr9(int depth) {
    KISEE_ASSIGN_OR_RETURN(ExprPtr e, ExprTerm(depth));
    while (Peek(".")) {
      std::size_t dot = pos_;
      ++pos_;
      bool is_extern = Eat("extern::");
      auto name = Name();
      if (!name) return Hard(dot, "expected a method name");
      std::string method(*name);
      if (!Eat("(")) return Hard(pos_, "expected '(' after method name");
      SkipSpace();
      if (Eat(")")) {
        if (is_extern) {
          e = MakeUnary(UnaryOp::kFfi, std::move(e), symbols_.Insert(method));
        } else if (method == "length") {
          e = MakeUnary(UnaryOp::kLength, std::move(e));
        } else if (method == "type") {
          e = MakeUnary(UnaryOp::kTypeOf, std::move(e));
        } else {
          return Hard(dot, "unknown method " + method + "()");
        }
        continue;
      }
      BinaryOp op;
      if (is_extern) {
        op = BinaryOp::kFfi;
      } else {
        static const std::pair<std::string_view, BinaryOp> kMethods[] = {
            {"contains", BinaryOp::kContains},
            {"starts_with", BinaryOp::kPrefix},
            {"ends_with", BinaryOp::kSuffix},
            {"matches", BinaryOp::kRegex},
            {"intersection", BinaryOp::kIntersection},
            {"union", BinaryOp::kUnion},
            {"all", BinaryOp::kAll},
            {"any", BinaryOp::kAny},
            {"get", BinaryOp::kGet},
            {"try_or", BinaryOp::kTryOr}};
        auto it = std::find_if(std::begin(kMethods), std::end(kMethods),
                               [&](const auto& m) { return m.first == method; });
        if (it == std::end(kMethods)) return Hard(dot, "unknown method " + method);
        op = it->second;
      }
      if (op == BinaryOp::kAll || op == BinaryOp::kAny) {
        if (!Eat("$")) return Hard(pos_, "expected a closure parameter");
        auto param = Name();
        if (!param) return Hard(pos_, "expected a closure parameter name");
        std::uint32_t id = static_cast<std::uint32_t>(symbols_.Insert(*param));
        SkipSpace();
        if (!Eat("->")) return Hard(pos_, "expected '->'");
        auto body = Expression(depth + 1);
        if (!body) return std::unexpected<Failure>(body.error());
        SkipSpace();
        if (!Eat(")")) return Hard(pos_, "expected ')'");
        e = MakeBinary(op, std::move(e), MakeClosure({id}, std::move(*body)));
        continue;
      }
      auto arg = Expression(depth + 1);
      if (!arg) return std::unexpected<Failure>(arg.error());
      SkipSpace();
      if (!Eat(")")) return Hard(pos_, "expected ')'");
      if (op == BinaryOp::kTryOr) {
        // The receiver runs in a closure so its errors can be caught.
        auto closure = MakeClosure({}, std::move(e));
        auto node = std::make_unique<Expr>();
        node->kind = Expr::kBinary;
        node->op.kind = OpKind::kBinary;
        node->op.binary = op;
        node->left = std::move(closure);
        node->right = std::move(*arg);
        e = std::move(node);
      } else {
        std::uint64_t ffi = op == BinaryOp::kFfi ? symbols_.Insert(method) : 0;
        e = MakeBinary(op, std::move(e), std::move(*arg), ffi);
      }
    }
    return e;
  }

  // ---- rules, checks, policies ----
  P<Scope> ParseScope() {
    SkipSpace();
    std::size_t start = pos_;
    if (KeywordAhead("authority")) {
      pos_ += 9;
      return Scope{ScopeKind::kAuthority, 0, {}};
    }
    if (KeywordAhead("previous")) {
      pos_ += 8;
      return Scope{ScopeKind::kPrevious, 0, {}};
    }
    std::int32_t alg = -1;
    if (Eat("ed25519/"))
      alg = 0;
    else if (Eat("secp256r1/"))
      alg = 1;
    if (alg >= 0) {
      auto key = HexBytes();
      if (!key) return Hard(start, "invalid public key");
      PublicKeyData data{alg, std::move(*key)};
      return Scope{ScopeKind::kPublicKey, symbols_.InsertKey(data), {}};
    }
    if (auto p = ParameterName(); p) {
      return Scope{ScopeKind::kParameter, 0, std::move(*p)};
    }
    return Hard(start, "expected a scope (authority, previous, a public key or a parameter)");
  }

  P<std::vector<Scope>> Scopes() {
    std::vector<Scope> scopes;
    std::size_t save = pos_;
    SkipSpace();
    if (!KeywordAhead("trusting")) {
      pos_ = save;
      return scopes;
    }
    pos_ += 8;
    while (true) {
      KISEE_ASSIGN_OR_RETURN(Scope s, ParseScope());
      scopes.push_back(std::move(s));
      std::size_t before = pos_;
      SkipSpace();
      if (!Eat(",")) {
        pos_ = before;
        break;
      }
    }
    return scopes;
  }

  // rule body: (predicate | expression) (',' ...)* [trusting ...]
  P<Rule> RuleBody() {
    Rule rule;
    while (true) {
      SkipSpace();
      std::size_t start = pos_;
      auto pred = ParsePredicate(TermContext::kAny, false);
      bool is_predicate = false;
      if (pred) {
        // A predicate must end the element; otherwise it was the start of an
        // expression such as `f(1) == ...` (not valid) or a method call.
        std::size_t after = pos_;
        SkipSpace();
        if (AtEnd() || Peek(",") || Peek(";") || Peek(")") || KeywordAhead("trusting") ||
            PeekNoCase("or")) {
          pos_ = after;
          rule.body.push_back(std::move(*pred));
          is_predicate = true;
        } else {
          pos_ = start;
        }
      } else if (pred.error().hard) {
        return std::unexpected<Failure>(pred.error());
      }
      if (!is_predicate) {
        pos_ = start;
        auto e = Expression(0);
        if (!e) {
          Failure f = e.error();
          f.hard = true;
          return std::unexpected<Failure>(f);
        }
        datalog::Expression expression;
        std::move(**e).Flatten(expression.ops);
        rule.expressions.push_back(std::move(expression));
      }
      std::size_t save = pos_;
      SkipSpace();
      if (!Eat(",")) {
        pos_ = save;
        break;
      }
    }
    KISEE_ASSIGN_OR_RETURN(rule.scopes, Scopes());
    return rule;
  }

  P<std::vector<Rule>> Queries() {
    std::vector<Rule> queries;
    while (true) {
      KISEE_ASSIGN_OR_RETURN(Rule q, RuleBody());
      q.head.name = symbols_.Insert("query");
      queries.push_back(std::move(q));
      std::size_t save = pos_;
      SkipSpace();
      if (PeekNoCase("or") && pos_ + 2 < s_.size() && IsSpace(s_[pos_ + 2])) {
        pos_ += 2;
        continue;
      }
      pos_ = save;
      break;
    }
    return queries;
  }

  P<Check> ParseCheckInner() {
    SkipSpace();
    Check c;
    if (PeekNoCase("check if")) {
      c.kind = CheckKind::kOne;
      pos_ += 8;
    } else if (PeekNoCase("check all")) {
      c.kind = CheckKind::kAll;
      pos_ += 9;
    } else if (PeekNoCase("reject if")) {
      c.kind = CheckKind::kReject;
      pos_ += 9;
    } else {
      return Soft(pos_, "expected a check");
    }
    auto q = Queries();
    if (!q) {
      Failure f = q.error();
      f.hard = true;
      return std::unexpected<Failure>(f);
    }
    c.queries = std::move(*q);
    return c;
  }

  P<Policy> ParsePolicyInner() {
    SkipSpace();
    Policy p;
    if (PeekNoCase("allow if")) {
      p.kind = PolicyKind::kAllow;
      pos_ += 8;
    } else if (PeekNoCase("deny if")) {
      p.kind = PolicyKind::kDeny;
      pos_ += 7;
    } else {
      return Soft(pos_, "expected a policy");
    }
    auto q = Queries();
    if (!q) {
      Failure f = q.error();
      f.hard = true;
      return std::unexpected<Failure>(f);
    }
    p.queries = std::move(*q);
    return p;
  }

  // Rule or fact: both start with a predicate.
  P<std::variant<Fact, Rule>> ParseFactOrRule() {
    SkipSpace();
    std::size_t start = pos_;
    auto head = ParsePredicate(TermContext::kAny, true);
    if (!head) return std::unexpected<Failure>(head.error());
    SkipSpace();
    if (Eat("<-")) {
      auto body = RuleBody();
      if (!body) {
        Failure f = body.error();
        f.hard = true;
        return std::unexpected<Failure>(f);
      }
      Rule r = std::move(*body);
      r.head = std::move(*head);
      if (!RuleVariablesAreBound(r)) {
        return Hard(start,
                    "rule head contains variables that are not used in predicates of the "
                    "rule's body");
      }
      return r;
    }
    for (const Term& t : head->terms) {
      if (t.is_variable()) return Hard(start, "variables are not allowed in facts");
    }
    if (head->terms.empty()) return Hard(start, "a fact needs at least one term");
    return Fact{std::move(*head)};
  }

  bool EndOfElement() {
    SkipSpace();
    return AtEnd() || Eat(";");
  }

  Result<SourceResult> Source(SourceKind kind) {
    SourceResult out;
    if (kind == SourceKind::kBlock) {
      std::size_t save = pos_;
      auto scopes = Scopes();
      if (!scopes) return ToError(scopes.error());
      if (!scopes->empty()) {
        if (!EndOfElement()) return ToError(Failure{pos_, "expected ';'", true});
        out.scopes = std::move(*scopes);
      } else {
        pos_ = save;
      }
    }
    while (true) {
      while (SkipComment()) {
      }
      SkipSpace();
      if (AtEnd()) break;
      std::size_t start = pos_;
      if (PeekNoCase("check ") || PeekNoCase("reject ")) {
        auto c = ParseCheckInner();
        if (!c) return ToError(c.error());
        out.checks.push_back(std::move(*c));
      } else if (PeekNoCase("allow ") || PeekNoCase("deny ")) {
        if (kind == SourceKind::kBlock) {
          return ToError(Failure{start, "policies are not allowed in blocks", true});
        }
        auto p = ParsePolicyInner();
        if (!p) return ToError(p.error());
        out.policies.push_back(std::move(*p));
      } else {
        auto fr = ParseFactOrRule();
        if (!fr) return ToError(fr.error());
        if (std::holds_alternative<Fact>(*fr)) {
          out.facts.push_back(std::get<Fact>(std::move(*fr)));
        } else {
          out.rules.push_back(std::get<Rule>(std::move(*fr)));
        }
      }
      if (!EndOfElement()) {
        return ToError(Failure{pos_, "expected ';' after an element", true});
      }
    }
    return out;
  }

  template <typename T>
  Result<T> Finish(P<T> parsed) {
    if (!parsed) return ToError(parsed.error());
    SkipSpace();
    Eat(";");
    SkipSpace();
    if (!AtEnd()) return ToError(Failure{pos_, "unexpected trailing data", true});
    return std::move(*parsed);
  }

  std::unexpected<Error> ToError(const Failure& f) const {
    std::size_t at = std::min(f.pos, s_.size());
    std::string_view rest = s_.substr(at, 40);
    if (auto nl = rest.find('\n'); nl != std::string_view::npos) rest = rest.substr(0, nl);
    return MakeError(ErrorKind::kParse,
                     fmt::format("{} at offset {} near '{}'", f.message, at, rest));
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
  SymbolTable& symbols_;
};

}  // namespace

Result<SourceResult> ParseSource(std::string_view text, SymbolTable& symbols, SourceKind kind) {
  Parser p(text, symbols);
  return p.Source(kind);
}

Result<Fact> ParseFact(std::string_view text, SymbolTable& symbols) {
  Parser p(text, symbols);
  auto fr = p.ParseFactOrRule();
  if (fr && !std::holds_alternative<Fact>(*fr)) {
    return MakeError(ErrorKind::kParse, "expected a fact, got a rule");
  }
  if (!fr) return p.Finish(P<Fact>(std::unexpected<Failure>(fr.error())));
  return p.Finish(P<Fact>(std::get<Fact>(std::move(*fr))));
}

Result<Rule> ParseRule(std::string_view text, SymbolTable& symbols) {
  Parser p(text, symbols);
  auto fr = p.ParseFactOrRule();
  if (fr && !std::holds_alternative<Rule>(*fr)) {
    return MakeError(ErrorKind::kParse, "expected a rule, got a fact");
  }
  if (!fr) return p.Finish(P<Rule>(std::unexpected<Failure>(fr.error())));
  return p.Finish(P<Rule>(std::get<Rule>(std::move(*fr))));
}

Result<Check> ParseCheck(std::string_view text, SymbolTable& symbols) {
  Parser p(text, symbols);
  return p.Finish(p.ParseCheckInner());
}

Result<Policy> ParsePolicy(std::string_view text, SymbolTable& symbols) {
  Parser p(text, symbols);
  return p.Finish(p.ParsePolicyInner());
}

Result<Rule> ParseQuery(std::string_view text, SymbolTable& symbols) {
  Parser p(text, symbols);
  auto fr = p.ParseFactOrRule();
  if (fr && std::holds_alternative<Rule>(*fr)) {
    return p.Finish(P<Rule>(std::get<Rule>(std::move(*fr))));
  }
  return MakeError(ErrorKind::kParse, "expected a rule such as `data($x) <- fact($x)`");
}

}  // namespace kisee::biscuit::parser
