#include "kisee/core/secret.h"

#include <sodium.h>

#include <utility>

namespace kisee {

SecretBytes::SecretBytes(std::size_t size) : data_(size) {}
SecretBytes::SecretBytes(ByteView data) : data_(data.begin(), data.end()) {}
SecretBytes::SecretBytes(std::string_view text) : SecretBytes(AsBytes(text)) {}
SecretBytes::~SecretBytes() { Wipe(); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : data_(std::move(other.data_)) {
  other.Wipe();
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Wipe();
    data_ = std::move(other.data_);
    other.Wipe();
  }
  return *this;
}

void SecretBytes::Wipe() {
  // Wipe the whole capacity: a shrink may have left secret bytes behind size().
  data_.resize(data_.capacity());
  SecureWipe(std::span<std::uint8_t>(data_.data(), data_.size()));
  data_.clear();
}

void SecureWipe(std::span<std::uint8_t> data) {
  if (!data.empty()) sodium_memzero(data.data(), data.size());
}

void SecureWipe(std::string& text) {
  if (!text.empty()) sodium_memzero(text.data(), text.size());
  text.clear();
}

bool ConstantTimeEquals(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace kisee
