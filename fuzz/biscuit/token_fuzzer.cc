// Token bytes: parsing, printing, re-serialization and the third-party
// messages must never crash, throw or leak, whatever the input.
#include <cstddef>
#include <cstdint>

#include "kisee/biscuit/authorizer.h"

namespace kb = kisee::biscuit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kisee::ByteView bytes(data, size);
  static const kb::PublicKey root = *kb::PublicKey::FromString(
      "ed25519/1055c750b1a1505937af1537c626ba3263995c33a64758aaafb1275b0312e284");
  auto unverified = kb::UnverifiedBiscuit::FromBytes(bytes);
  if (unverified) {
    for (std::size_t i = 0; i < unverified->block_count(); ++i) {
      (void)unverified->BlockSource(i);
    }
    (void)unverified->Print();
    auto reencoded = unverified->ToBytes();
    if (reencoded) {
      // What we write must read back.
      if (!kb::UnverifiedBiscuit::FromBytes(*reencoded)) __builtin_trap();
    }
    (void)unverified->CreateThirdPartyRequest();
  }
  auto verified = kb::Biscuit::FromBytes(bytes, root);
  if (verified) {
    kb::AuthorizerBuilder builder;
    (void)builder.AddCode("resource(\"file1\"); operation(\"read\"); allow if true;");
    builder.SetLimits(kb::RunLimits{200, 20, std::chrono::milliseconds(20)});
    auto authorizer = builder.Build(*verified);
    if (authorizer) {
      (void)authorizer->Authorize();
      (void)authorizer->PrintWorld();
    }
  }
  (void)kb::ThirdPartyRequest::FromBytes(bytes);
  auto block = kb::ThirdPartyBlock::FromBytes(bytes);
  if (block) (void)block->ToBytes();
  return 0;
}
