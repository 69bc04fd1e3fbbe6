// Secrets in memory: buffers that are wiped when destroyed, and comparisons
// whose duration does not depend on where the inputs differ.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "kisee/core/bytes.h"

namespace kisee {

// SecretBytes owns secret material (a private key, a password). The storage is
// wiped on destruction and on move-from. Move-only: copying a secret must be
// explicit (Clone).
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size);
  explicit SecretBytes(ByteView data);
  explicit SecretBytes(std::string_view text);
  ~SecretBytes();

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  SecretBytes Clone() const { return SecretBytes(view()); }

  std::size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  std::uint8_t* data() { return data_.data(); }
  const std::uint8_t* data() const { return data_.data(); }
  ByteView view() const { return {data_.data(), data_.size()}; }
  std::span<std::uint8_t> mutable_view() { return {data_.data(), data_.size()}; }
  // chars views the secret as text (borrowed; do not log it).
  std::string_view chars() const { return AsChars(view()); }

 private:
  void Wipe();
  std::vector<std::uint8_t> data_;
};

// SecureWipe overwrites `data` with zeros in a way the compiler cannot elide.
void SecureWipe(std::span<std::uint8_t> data);
void SecureWipe(std::string& text);

// ConstantTimeEquals compares two byte strings in time that depends only on
// their lengths (a length mismatch returns false at once: lengths are public).
bool ConstantTimeEquals(ByteView a, ByteView b);
inline bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return ConstantTimeEquals(AsBytes(a), AsBytes(b));
}

}  // namespace kisee
