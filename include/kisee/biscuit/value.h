// Value: a Datalog value at the API boundary — parameters of Datalog text,
// terms of query results, arguments and results of host functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kisee/core/bytes.h"

namespace kisee::biscuit {

class Value {
 public:
  enum class Kind { kInteger, kString, kDate, kBytes, kBool, kSet, kNull, kArray, kMap };

  Value() : kind_(Kind::kNull) {}
  static Value Integer(std::int64_t v);
  static Value String(std::string v);
  // Date: seconds since the Unix epoch.
  static Value Date(std::uint64_t seconds);
  static Value Binary(Bytes v);
  static Value Bool(bool v);
  static Value Null() { return Value(); }
  // Set: deduplicated and sorted; elements must not be sets.
  static Value Set(std::vector<Value> items);
  static Value Array(std::vector<Value> items);
  // Map keys are integers or strings.
  static Value Map(std::vector<std::pair<Value, Value>> entries);

  Kind kind() const { return kind_; }
  std::int64_t integer() const { return integer_; }
  std::uint64_t date() const { return static_cast<std::uint64_t>(integer_); }
  bool boolean() const { return integer_ != 0; }
  const std::string& string() const { return text_; }
  const Bytes& bytes() const { return bytes_; }
  const std::vector<Value>& items() const { return items_; }
  const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }

  // ToString prints the value in Datalog syntax.
  std::string ToString() const;

  bool operator==(const Value& other) const;
  bool operator<(const Value& other) const;

 private:
  Kind kind_;
  std::int64_t integer_ = 0;
  std::string text_;
  Bytes bytes_;
  std::vector<Value> items_;
  std::vector<std::pair<Value, Value>> entries_;
};

// Parameters of Datalog text: `{name}` placeholders by name.
using Params = std::map<std::string, Value>;

// QueryFact is one fact returned by a query.
struct QueryFact {
  std::string name;
  std::vector<Value> terms;
  std::string text;  // the fact in Datalog syntax
};

}  // namespace kisee::biscuit
