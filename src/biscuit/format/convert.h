// Conversion between the protobuf messages and the Datalog structures. The
// protobuf types never leave src/biscuit/format and src/biscuit/token.
#pragma once

#include <google/protobuf/arena.h>

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

// ParseArena is a protobuf arena for one parse: every message and string of
// the parsed tree lives in it, and its first block is part of the object
// (put it on the stack), so a token-sized parse makes no heap allocation and
// freeing the tree is free. Larger input spills into heap blocks.
class ParseArena {
 public:
  ParseArena() : arena_(Options(first_block_, sizeof(first_block_))) {}
  ParseArena(const ParseArena&) = delete;
  ParseArena& operator=(const ParseArena&) = delete;

  // Create returns an empty message owned by the arena.
  template <typename Message>
  Message* Create() {
    return google::protobuf::Arena::CreateMessage<Message>(&arena_);
  }

 private:
  static google::protobuf::ArenaOptions Options(char* block, std::size_t size) {
    google::protobuf::ArenaOptions options;
    options.initial_block = block;
    options.initial_block_size = size;
    return options;
  }

  alignas(16) char first_block_[4096];
  google::protobuf::Arena arena_;
};

// Key conversion for the token layer.
pb::PublicKey ToProto(const datalog::PublicKeyData& key);
Result<datalog::PublicKeyData> FromProto(const pb::PublicKey& key);

}  // namespace kisee::biscuit::format
