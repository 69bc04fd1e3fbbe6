#include <algorithm>

#include "biscuit/parser/parser.h"
#include "biscuit/token/internal.h"
#include "kisee/core/error.h"

namespace kisee::biscuit {

Value Value::Integer(std::int64_t v) {
  Value out;
  out.kind_ = Kind::kInteger;
  out.integer_ = v;
  return out;
}
Value Value::String(std::string v) {
  Value out;
  out.kind_ = Kind::kString;
  out.text_ = std::move(v);
  return out;
}
Value Value::Date(std::uint64_t seconds) {
  Value out;
  out.kind_ = Kind::kDate;
  out.integer_ = static_cast<std::int64_t>(seconds);
  return out;
}
Value Value::Binary(Bytes v) {
  Value out;
  out.kind_ = Kind::kBytes;
  out.bytes_ = std::move(v);
  return out;
}
Value Value::Bool(bool v) {
  Value out;
  out.kind_ = Kind::kBool;
  out.integer_ = v ? 1 : 0;
  return out;
}
Value Value::Set(std::vector<Value> items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  Value out;
  out.kind_ = Kind::kSet;
  out.items_ = std::move(items);
  return out;
}
Value Value::Array(std::vector<Value> items) {
  Value out;
  out.kind_ = Kind::kArray;
  out.items_ = std::move(items);
  return out;
}
Value Value::Map(std::vector<std::pair<Value, Value>> entries) {
  Value out;
  out.kind_ = Kind::kMap;
  out.entries_ = std::move(entries);
  return out;
}

bool Value::operator==(const Value& o) const {
  return kind_ == o.kind_ && integer_ == o.integer_ && text_ == o.text_ && bytes_ == o.bytes_ &&
         items_ == o.items_ && entries_ == o.entries_;
}

bool Value::operator<(const Value& o) const {
  if (kind_ != o.kind_) return kind_ < o.kind_;
  if (integer_ != o.integer_) return integer_ < o.integer_;
  if (text_ != o.text_) return text_ < o.text_;
  if (bytes_ != o.bytes_) return bytes_ < o.bytes_;
  if (items_ != o.items_) return items_ < o.items_;
  return entries_ < o.entries_;
}

std::string Value::ToString() const {
  datalog::SymbolTable symbols;
  return parser::PrintTerm(internal::ValueToTerm(*this, symbols), symbols);
}

namespace internal {

datalog::Term ValueToTerm(const Value& value, datalog::SymbolTable& symbols) {
  using datalog::Term;
  switch (value.kind()) {
    case Value::Kind::kInteger:
      return Term::Integer(value.integer());
    case Value::Kind::kString:
      return Term::String(symbols.Insert(value.string()));
    case Value::Kind::kDate:
      return Term::Date(value.date());
    case Value::Kind::kBytes:
      return Term::MakeBytes(value.bytes());
    case Value::Kind::kBool:
      return Term::Bool(value.boolean());
    case Value::Kind::kNull:
      return Term::Null();
    case Value::Kind::kSet:
    case Value::Kind::kArray: {
      std::vector<Term> items;
      for (const Value& v : value.items()) items.push_back(ValueToTerm(v, symbols));
      return value.kind() == Value::Kind::kSet ? Term::MakeSet(std::move(items))
                                               : Term::MakeArray(std::move(items));
    }
    case Value::Kind::kMap: {
      std::vector<std::pair<Term, Term>> entries;
      for (const auto& [k, v] : value.entries()) {
        entries.emplace_back(ValueToTerm(k, symbols), ValueToTerm(v, symbols));
      }
      return Term::MakeMap(std::move(entries));
    }
  }
  return Term::Null();
}

Result<Value> TermToValue(const datalog::Term& t, const datalog::SymbolTable& symbols) {
  using datalog::TermKind;
  switch (t.kind) {
    case TermKind::kInteger:
      return Value::Integer(t.integer());
    case TermKind::kString: {
      auto s = symbols.Get(t.bits);
      if (!s.has_value()) {
        return MakeError(ErrorKind::kUnknownSymbol, "unknown symbol " + std::to_string(t.bits));
      }
      return Value::String(std::string(*s));
    }
    case TermKind::kDate:
      return Value::Date(t.bits);
    case TermKind::kBytes:
      return Value::Binary(t.bytes());
    case TermKind::kBool:
      return Value::Bool(t.boolean());
    case TermKind::kNull:
      return Value::Null();
    case TermKind::kSet:
    case TermKind::kArray: {
      std::vector<Value> items;
      for (const auto& item : t.items()) {
        KISEE_ASSIGN_OR_RETURN(Value v, TermToValue(item, symbols));
        items.push_back(std::move(v));
      }
      return t.kind == TermKind::kSet ? Value::Set(std::move(items))
                                      : Value::Array(std::move(items));
    }
    case TermKind::kMap: {
      std::vector<std::pair<Value, Value>> entries;
      for (const auto& [k, v] : t.entries()) {
        KISEE_ASSIGN_OR_RETURN(Value key, TermToValue(k, symbols));
        KISEE_ASSIGN_OR_RETURN(Value value, TermToValue(v, symbols));
        entries.emplace_back(std::move(key), std::move(value));
      }
      return Value::Map(std::move(entries));
    }
    default:
      return MakeError(ErrorKind::kInvalidType, "not a value");
  }
}

datalog::PublicKeyData ToKeyData(const PublicKey& key) {
  return {static_cast<std::int32_t>(key.algorithm()), key.bytes()};
}

Result<PublicKey> FromKeyData(const datalog::PublicKeyData& key) {
  if (key.algorithm != 0 && key.algorithm != 1) {
    return MakeError(ErrorKind::kInvalidKey, "unknown key algorithm");
  }
  return PublicKey::FromBytes(static_cast<Algorithm>(key.algorithm), key.key);
}

}  // namespace internal
}  // namespace kisee::biscuit
