#include "stress_messages.hpp"

#include <cstring>

namespace grainflow::shm::test {

namespace {

std::uint64_t mix(std::uint64_t x) noexcept {
  // splitmix64's finalizer: every input bit reaches every output bit.
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// The 8 bytes at word `w` of message `n`.
std::uint64_t word(std::uint64_t seed, std::uint64_t n, std::uint64_t w) noexcept {
  return mix(seed ^ mix(n) ^ (w * 0xD6E8FEB86659FD93ULL));
}

} // namespace

std::size_t stress_size(std::uint64_t seed, std::uint64_t n, std::size_t max) noexcept {
  const std::uint64_t r = mix(seed * 31 + n);
  const std::uint64_t pick = r % 1000;
  const std::uint64_t x = r >> 16;
  if (pick < 400)
    return x % 57;
  if (pick < 600)
    return 57 + x % (248 - 57 + 1);
  if (pick < 994)
    return 249 + x % (1024 - 249 + 1);
  if (pick < 999)
    return 1025 + x % (max - 1025);
  return max;
}

void stress_fill(std::uint64_t seed, std::uint64_t n, std::span<std::byte> out) noexcept {
  std::size_t i = 0;
  for (std::uint64_t w = 0; i < out.size(); ++w) {
    const std::uint64_t value = word(seed, n, w);
    const std::size_t k = out.size() - i < 8 ? out.size() - i : 8;
    std::memcpy(out.data() + i, &value, k);
    i += k;
  }
}

bool stress_check(std::uint64_t seed, std::uint64_t n, std::size_t max,
                  std::span<const std::byte> message) noexcept {
  if (message.size() != stress_size(seed, n, max))
    return false;
  std::size_t i = 0;
  for (std::uint64_t w = 0; i < message.size(); ++w) {
    const std::uint64_t value = word(seed, n, w);
    const std::size_t k = message.size() - i < 8 ? message.size() - i : 8;
    if (std::memcmp(message.data() + i, &value, k) != 0)
      return false;
    i += k;
  }
  return true;
}

} // namespace grainflow::shm::test
