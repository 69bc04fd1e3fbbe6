#include <array>

#include "biscuit/datalog/datalog.h"

namespace kisee::biscuit::datalog {
namespace {

constexpr std::array<std::string_view, 28> kDefaultSymbols = {
    "read",  "write",   "resource",  "operation",  "right",    "time",      "role",
    "owner", "tenant",  "namespace", "user",       "team",     "service",   "admin",
    "email", "group",   "member",    "ip_address", "client",   "client_ip", "domain",
    "path",  "version", "cluster",   "node",       "hostname", "nonce",     "query"};

const std::unordered_map<std::string_view, std::uint64_t>& DefaultIndex() {
  static const auto* index = [] {
    auto* m = new std::unordered_map<std::string_view, std::uint64_t>();
    for (std::size_t i = 0; i < kDefaultSymbols.size(); ++i) {
      m->emplace(kDefaultSymbols[i], i);
    }
    return m;
  }();
  return *index;
}

}  // namespace

std::span<const std::string_view> DefaultSymbols() { return kDefaultSymbols; }

std::optional<std::uint64_t> SymbolTable::FindUser(std::string_view s) const {
  if (symbols_.size() <= kScanLimit) {
    for (std::size_t i = 0; i < symbols_.size(); ++i) {
      if (symbols_[i] == s) {
        return kSymbolOffset + i;
      }
    }
    return std::nullopt;
  }
  if (auto it = index_.find(s); it != index_.end()) {
    return it->second;
  }
  return std::nullopt;
}

void SymbolTable::Add(std::string_view s) {
  symbols_.emplace_back(s);
  if (symbols_.size() == kScanLimit + 1) {
    for (std::size_t i = 0; i < symbols_.size(); ++i) {
      index_.emplace(symbols_[i], kSymbolOffset + i);
    }
  } else if (symbols_.size() > kScanLimit) {
    index_.emplace(symbols_.back(), kSymbolOffset + symbols_.size() - 1);
  }
}

std::optional<std::uint64_t> SymbolTable::Find(std::string_view s) const {
  const auto& defaults = DefaultIndex();
  if (auto it = defaults.find(s); it != defaults.end()) {
    return it->second;
  }
  return FindUser(s);
}

std::uint64_t SymbolTable::Insert(std::string_view s) {
  if (auto id = Find(s); id.has_value()) {
    return *id;
  }
  Add(s);
  return kSymbolOffset + symbols_.size() - 1;
}

std::optional<std::string_view> SymbolTable::Get(std::uint64_t id) const {
  if (id < kSymbolOffset) {
    if (id < kDefaultSymbols.size()) {
      return kDefaultSymbols[id];
    }
    return std::nullopt;
  }
  if (id - kSymbolOffset < symbols_.size()) {
    return std::string_view(symbols_[id - kSymbolOffset]);
  }
  return std::nullopt;
}

std::string SymbolTable::GetOr(std::uint64_t id) const {
  if (auto s = Get(id); s.has_value()) {
    return std::string(*s);
  }
  return "<" + std::to_string(id) + "?>";
}

Status SymbolTable::Extend(const std::vector<std::string>& symbols) {
  symbols_.reserve(symbols_.size() + symbols.size());
  for (const std::string& s : symbols) {
    if (Find(s).has_value()) {
      return MakeError(ErrorKind::kSymbolTableOverlap, "symbol table overlap: \"" + s + "\"");
    }
    Add(s);
  }
  return {};
}

std::optional<std::uint64_t> SymbolTable::FindKey(const PublicKeyData& key) const {
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) {
      return i;
    }
  }
  return std::nullopt;
}

std::uint64_t SymbolTable::InsertKey(const PublicKeyData& key) {
  if (auto i = FindKey(key); i.has_value()) {
    return *i;
  }
  keys_.push_back(key);
  return keys_.size() - 1;
}

const PublicKeyData* SymbolTable::GetKey(std::uint64_t index) const {
  return index < keys_.size() ? &keys_[index] : nullptr;
}

Status SymbolTable::ExtendKeys(const std::vector<PublicKeyData>& keys) {
  for (const PublicKeyData& key : keys) {
    if (FindKey(key).has_value()) {
      return MakeError(ErrorKind::kPublicKeyTableOverlap, "public key table overlap");
    }
    keys_.push_back(key);
  }
  return {};
}

}  // namespace kisee::biscuit::datalog
