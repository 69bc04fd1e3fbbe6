#include "biscuit/format/convert.h"

#include "kisee/core/error.h"

namespace kisee::biscuit::format {

using namespace datalog;  // NOLINT: conversion code names both sides' types constantly

namespace {

constexpr int kMaxNesting = 64;

std::unexpected<Error> Bad(std::string message) {
  return MakeError(ErrorKind::kDeserialization, "deserialization error: " + message);
}

Result<Term> TermFromProto(const pb::Term& t, int depth) {
  if (depth > kMaxNesting) return Bad("terms nested too deeply");
  switch (t.Content_case()) {
    case pb::Term::kVariable:
      return Term::Variable(t.variable());
    case pb::Term::kInteger:
      return Term::Integer(t.integer());
    case pb::Term::kString:
      return Term::String(t.string());
    case pb::Term::kDate:
      return Term::Date(t.date());
    case pb::Term::kBytes:
      return Term::MakeBytes(Bytes(t.bytes().begin(), t.bytes().end()));
    case pb::Term::kBool:
      return Term::Bool(t.bool_());
    case pb::Term::kNull:
      return Term::Null();
    case pb::Term::kSet: {
      std::vector<Term> items;
      for (const auto& item : t.set().set()) {
        KISEE_ASSIGN_OR_RETURN(Term x, TermFromProto(item, depth + 1));
        if (x.kind == TermKind::kVariable) return Bad("variables are not allowed in sets");
        if (x.kind == TermKind::kSet) return Bad("sets cannot contain sets");
        items.push_back(std::move(x));
      }
      return Term::MakeSet(std::move(items));
    }
    case pb::Term::kArray: {
      std::vector<Term> items;
      for (const auto& item : t.array().array()) {
        KISEE_ASSIGN_OR_RETURN(Term x, TermFromProto(item, depth + 1));
        if (x.kind == TermKind::kVariable) return Bad("variables are not allowed in arrays");
        items.push_back(std::move(x));
      }
      return Term::MakeArray(std::move(items));
    }
    case pb::Term::kMap: {
      std::vector<std::pair<Term, Term>> entries;
      for (const auto& e : t.map().entries()) {
        Term key;
        if (e.key().Content_case() == pb::MapKey::kInteger) {
          key = Term::Integer(e.key().integer());
        } else if (e.key().Content_case() == pb::MapKey::kString) {
          key = Term::String(e.key().string());
        } else {
          return Bad("empty map key");
        }
        KISEE_ASSIGN_OR_RETURN(Term value, TermFromProto(e.value(), depth + 1));
        if (value.kind == TermKind::kVariable) return Bad("variables are not allowed in maps");
        entries.emplace_back(std::move(key), std::move(value));
      }
      return Term::MakeMap(std::move(entries));
    }
    case pb::Term::CONTENT_NOT_SET:
      break;
  }
  return Bad("empty term");
}

void TermToProto(const Term& t, pb::Term* out) {
  switch (t.kind) {
    case TermKind::kVariable:
      out->set_variable(static_cast<std::uint32_t>(t.bits));
      break;
    case TermKind::kInteger:
      out->set_integer(t.integer());
      break;
    case TermKind::kString:
      out->set_string(t.bits);
      break;
    case TermKind::kDate:
      out->set_date(t.bits);
      break;
    case TermKind::kBytes:
      out->set_bytes(std::string(AsChars(t.bytes())));
      break;
    case TermKind::kBool:
      out->set_bool_(t.boolean());
      break;
    case TermKind::kNull:
      out->mutable_null();
      break;
    case TermKind::kSet:
      out->mutable_set();
      for (const Term& item : t.items()) TermToProto(item, out->mutable_set()->add_set());
      break;
    case TermKind::kArray:
      out->mutable_array();
      for (const Term& item : t.items()) TermToProto(item, out->mutable_array()->add_array());
      break;
    case TermKind::kMap:
      out->mutable_map();
      for (const auto& [k, v] : t.entries()) {
        auto* e = out->mutable_map()->add_entries();
        if (k.kind == TermKind::kInteger)
          e->mutable_key()->set_integer(k.integer());
        else
          e->mutable_key()->set_string(k.bits);
        TermToProto(v, e->mutable_value());
      }
      break;
    case TermKind::kParameter:
      break;  // never serialized: builders refuse unbound parameters
  }
}

// The *FromProto functions below fill `out` in place: returning each
// predicate, rule and check by value moved it through a Result at every
// level.
Status PredicateFromProto(const pb::Predicate& p, Predicate& out) {
  out.name = p.name();
  out.terms.reserve(static_cast<std::size_t>(p.terms_size()));
  for (const auto& t : p.terms()) {
    KISEE_ASSIGN_OR_RETURN(out.terms.emplace_back(), TermFromProto(t, 0));
  }
  return {};
}

void PredicateToProto(const Predicate& p, pb::Predicate* out) {
  out->set_name(p.name);
  for (const Term& t : p.terms) TermToProto(t, out->add_terms());
}

Result<std::vector<Op>> OpsFromProto(const google::protobuf::RepeatedPtrField<pb::Op>& ops,
                                     int depth) {
  if (depth > kMaxNesting) return Bad("closures nested too deeply");
  std::vector<Op> out;
  out.reserve(ops.size());
  for (const auto& op : ops) {
    Op o;
    switch (op.Content_case()) {
      case pb::Op::kValue: {
        o.kind = OpKind::kValue;
        KISEE_ASSIGN_OR_RETURN(o.value, TermFromProto(op.value(), 0));
        break;
      }
      case pb::Op::kUnary:
        o.kind = OpKind::kUnary;
        o.unary = static_cast<UnaryOp>(op.unary().kind());
        if (o.unary == UnaryOp::kFfi) {
          if (!op.unary().has_ffiname()) return Bad("missing extern function name");
          o.ffi_name = op.unary().ffiname();
        }
        break;
      case pb::Op::kBinary:
        o.kind = OpKind::kBinary;
        o.binary = static_cast<BinaryOp>(op.binary().kind());
        if (o.binary == BinaryOp::kFfi) {
          if (!op.binary().has_ffiname()) return Bad("missing extern function name");
          o.ffi_name = op.binary().ffiname();
        }
        break;
      case pb::Op::kClosure: {
        o.kind = OpKind::kClosure;
        auto closure = std::make_shared<Closure>();
        closure->params.assign(op.closure().params().begin(), op.closure().params().end());
        KISEE_ASSIGN_OR_RETURN(closure->ops, OpsFromProto(op.closure().ops(), depth + 1));
        o.closure = std::move(closure);
        break;
      }
      case pb::Op::CONTENT_NOT_SET:
        return Bad("empty expression op");
    }
    out.push_back(std::move(o));
  }
  return out;
}

void OpsToProto(const std::vector<Op>& ops, google::protobuf::RepeatedPtrField<pb::Op>* out) {
  for (const Op& op : ops) {
    auto* o = out->Add();
    switch (op.kind) {
      case OpKind::kValue:
        TermToProto(op.value, o->mutable_value());
        break;
      case OpKind::kUnary:
        o->mutable_unary()->set_kind(static_cast<pb::OpUnary::Kind>(op.unary));
        if (op.unary == UnaryOp::kFfi) o->mutable_unary()->set_ffiname(op.ffi_name);
        break;
      case OpKind::kBinary:
        o->mutable_binary()->set_kind(static_cast<pb::OpBinary::Kind>(op.binary));
        if (op.binary == BinaryOp::kFfi) o->mutable_binary()->set_ffiname(op.ffi_name);
        break;
      case OpKind::kClosure:
        for (std::uint32_t p : op.closure->params) o->mutable_closure()->add_params(p);
        OpsToProto(op.closure->ops, o->mutable_closure()->mutable_ops());
        o->mutable_closure();
        break;
    }
  }
}

Result<Scope> ScopeFromProto(const pb::Scope& s) {
  switch (s.Content_case()) {
    case pb::Scope::kScopeType:
      return Scope{
          s.scopetype() == pb::Scope::Previous ? ScopeKind::kPrevious : ScopeKind::kAuthority,
          0,
          {}};
    case pb::Scope::kPublicKey:
      if (s.publickey() < 0) return Bad("negative public key index");
      return Scope{ScopeKind::kPublicKey, static_cast<std::uint64_t>(s.publickey()), {}};
    case pb::Scope::CONTENT_NOT_SET:
      break;
  }
  return Bad("empty scope");
}

void ScopeToProto(const Scope& s, pb::Scope* out) {
  if (s.kind == ScopeKind::kPublicKey) {
    out->set_publickey(static_cast<std::int64_t>(s.public_key));
  } else {
    out->set_scopetype(s.kind == ScopeKind::kPrevious ? pb::Scope::Previous : pb::Scope::Authority);
  }
}

Status RuleFromProto(const pb::Rule& r, Rule& out) {
  KISEE_RETURN_IF_ERROR(PredicateFromProto(r.head(), out.head));
  out.body.reserve(static_cast<std::size_t>(r.body_size()));
  out.expressions.reserve(static_cast<std::size_t>(r.expressions_size()));
  out.scopes.reserve(static_cast<std::size_t>(r.scope_size()));
  for (const auto& p : r.body()) {
    KISEE_RETURN_IF_ERROR(PredicateFromProto(p, out.body.emplace_back()));
  }
  for (const auto& e : r.expressions()) {
    KISEE_ASSIGN_OR_RETURN(out.expressions.emplace_back().ops, OpsFromProto(e.ops(), 0));
  }
  for (const auto& s : r.scope()) {
    KISEE_ASSIGN_OR_RETURN(out.scopes.emplace_back(), ScopeFromProto(s));
  }
  return {};
}

void RuleToProto(const Rule& r, pb::Rule* out) {
  PredicateToProto(r.head, out->mutable_head());
  for (const Predicate& p : r.body) PredicateToProto(p, out->add_body());
  for (const Expression& e : r.expressions)
    OpsToProto(e.ops, out->add_expressions()->mutable_ops());
  for (const Scope& s : r.scopes) ScopeToProto(s, out->add_scope());
}

}  // namespace

pb::PublicKey ToProto(const PublicKeyData& key) {
  pb::PublicKey out;
  out.set_algorithm(static_cast<pb::PublicKey::Algorithm>(key.algorithm));
  out.set_key(std::string(AsChars(key.key)));
  return out;
}

Result<PublicKeyData> FromProto(const pb::PublicKey& key) {
  if (key.algorithm() != pb::PublicKey::Ed25519 && key.algorithm() != pb::PublicKey::SECP256R1) {
    return MakeError(ErrorKind::kInvalidKey, "unknown public key algorithm");
  }
  return PublicKeyData{static_cast<std::int32_t>(key.algorithm()),
                       Bytes(key.key().begin(), key.key().end())};
}

Result<Block> DecodeBlock(ByteView bytes, std::optional<PublicKeyData> external_key) {
  ParseArena arena;
  pb::Block& proto = *arena.Create<pb::Block>();
  if (!format::ParseMessage(proto, bytes)) {
    return MakeError(ErrorKind::kBlockDeserialization,
                     "error deserializing block: invalid protobuf");
  }
  Block block;
  std::uint32_t version = proto.has_version() ? proto.version() : 0;
  if (version < kMinSchemaVersion || version > kMaxSchemaVersion) {
    return MakeError(ErrorKind::kVersion, "unsupported block version " + std::to_string(version) +
                                              " (supported: 3 to 6)");
  }
  block.version = version;
  block.symbols.assign(proto.symbols().begin(), proto.symbols().end());
  if (proto.has_context()) block.context = proto.context();
  // Sized up front: growing these vectors element by element was a good
  // share of a block's allocations.
  block.facts.reserve(static_cast<std::size_t>(proto.facts_size()));
  block.rules.reserve(static_cast<std::size_t>(proto.rules_size()));
  block.checks.reserve(static_cast<std::size_t>(proto.checks_size()));
  block.scopes.reserve(static_cast<std::size_t>(proto.scope_size()));
  for (const auto& f : proto.facts()) {
    Predicate& p = block.facts.emplace_back().predicate;
    KISEE_RETURN_IF_ERROR(PredicateFromProto(f.predicate(), p));
    for (const Term& t : p.terms) {
      if (t.is_variable()) return Bad("variables are not allowed in facts");
    }
  }
  for (const auto& r : proto.rules()) {
    KISEE_RETURN_IF_ERROR(RuleFromProto(r, block.rules.emplace_back()));
  }
  for (const auto& c : proto.checks()) {
    if (version < kDatalog31 && c.has_kind()) {
      return Bad("check kinds are only supported on datalog v3.1+ blocks");
    }
    if (version < kDatalog33 && c.kind() == pb::Check::Reject) {
      return Bad("reject if is only supported in datalog v3.3+");
    }
    Check& check = block.checks.emplace_back();
    check.kind = static_cast<CheckKind>(c.kind());
    check.queries.reserve(static_cast<std::size_t>(c.queries_size()));
    for (const auto& q : c.queries()) {
      KISEE_RETURN_IF_ERROR(RuleFromProto(q, check.queries.emplace_back()));
    }
  }
  if (version < kDatalog32 && external_key.has_value()) {
    return Bad("third-party blocks are only supported in datalog v3.2+");
  }
  for (const auto& s : proto.scope()) {
    KISEE_ASSIGN_OR_RETURN(block.scopes.emplace_back(), ScopeFromProto(s));
  }
  for (const auto& k : proto.publickeys()) {
    KISEE_ASSIGN_OR_RETURN(PublicKeyData key, FromProto(k));
    for (const PublicKeyData& existing : block.public_keys) {
      if (existing == key) {
        return MakeError(ErrorKind::kPublicKeyTableOverlap, "public key table overlap");
      }
    }
    block.public_keys.push_back(std::move(key));
  }
  block.external_key = std::move(external_key);
  KISEE_RETURN_IF_ERROR(CheckVersionCompatibility(block, version));
  return block;
}

Result<Bytes> EncodeBlock(const Block& block) {
  pb::Block proto;
  for (const std::string& s : block.symbols) proto.add_symbols(s);
  if (block.context.has_value()) proto.set_context(*block.context);
  proto.set_version(block.version);
  for (const Fact& f : block.facts)
    PredicateToProto(f.predicate, proto.add_facts()->mutable_predicate());
  for (const Rule& r : block.rules) RuleToProto(r, proto.add_rules());
  for (const Check& c : block.checks) {
    auto* out = proto.add_checks();
    for (const Rule& q : c.queries) RuleToProto(q, out->add_queries());
    if (c.kind != CheckKind::kOne) out->set_kind(static_cast<pb::Check::Kind>(c.kind));
  }
  for (const Scope& s : block.scopes) ScopeToProto(s, proto.add_scope());
  for (const PublicKeyData& k : block.public_keys) *proto.add_publickeys() = ToProto(k);
  std::string out;
  if (!proto.SerializeToString(&out)) {
    return MakeError(ErrorKind::kSerialization, "serialization error");
  }
  return ToBytes(out);
}

}  // namespace kisee::biscuit::format
