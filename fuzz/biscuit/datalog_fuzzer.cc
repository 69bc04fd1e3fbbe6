// Datalog text: parsing must never crash; what parses must print to text
// that parses again to the same printed form; evaluation stays within its
// limits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kisee/biscuit/authorizer.h"

namespace kb = kisee::biscuit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  kb::BlockBuilder block;
  if (block.AddCode(text)) {
    std::string printed = block.ToString();
    kb::BlockBuilder again;
    auto reparsed = again.AddCode(printed);
    if (!reparsed || again.ToString() != printed) __builtin_trap();
  }

  kb::AuthorizerBuilder builder;
  if (builder.AddCode(text)) {
    std::string printed = builder.ToString();
    kb::AuthorizerBuilder again;
    if (!again.AddCode(printed) || again.ToString() != printed) __builtin_trap();
    builder.SetLimits(kb::RunLimits{100, 10, std::chrono::milliseconds(5)});
    auto authorizer = builder.BuildUnauthenticated();
    if (authorizer) {
      (void)authorizer->Authorize();
      (void)authorizer->World();
      (void)authorizer->Query("q($x) <- a($x)");
    }
  }
  return 0;
}
