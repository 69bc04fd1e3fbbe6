// Conversion between the protobuf messages and the Datalog structures. The
// protobuf types never leave src/biscuit/format and src/biscuit/token.
#pragma once

#include <optional>

#include "biscuit/datalog/datalog.h"
#include "schema.pb.h"

namespace kisee::biscuit::format {

// The generated protobuf types (package biscuit.format.schema).
namespace pb = ::biscuit::format::schema;

// DecodeBlock parses a serialized Block, refusing unsupported versions and
// content its version cannot carry (Format errors).
Result<datalog::Block> DecodeBlock(ByteView bytes,
                                   std::optional<datalog::PublicKeyData> external_key);
// EncodeBlock serializes a block (symbols, keys, content, version, context).
Result<Bytes> EncodeBlock(const datalog::Block& block);

// ParseMessage parses without libprotobuf's logging of missing required
// fields (malformed input is an expected error here, not a log event).
template <typename Message>
bool ParseMessage(Message& message, ByteView bytes) {
  return message.ParsePartialFromArray(bytes.data(), static_cast<int>(bytes.size())) &&
         message.IsInitialized();
}

// Key conversion for the token layer.
pb::PublicKey ToProto(const datalog::PublicKeyData& key);
Result<datalog::PublicKeyData> FromProto(const pb::PublicKey& key);

}  // namespace kisee::biscuit::format
