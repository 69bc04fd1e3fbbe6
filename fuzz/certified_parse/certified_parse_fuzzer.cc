// Feeds arbitrary text to what certified reads from files and peers:
// service records (YAML), introductions (JSON), certificates given to
// add-client/add-service, biscuit tokens. Each must fail cleanly or succeed,
// never crash, leak or throw.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kisee/certified/biscuits.h"
#include "kisee/certified/service_record.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto record = kisee::certified::ServiceRecord::FromYaml(text)) {
    auto again = kisee::certified::ServiceRecord::FromYaml(record->ToYaml());
    (void)again;
  }
  (void)kisee::certified::ValidateServiceUrl(text);
  (void)kisee::certified::AttenuateBiscuit(text, "check if true;");
  return 0;
}
