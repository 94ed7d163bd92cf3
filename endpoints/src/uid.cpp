#include "grainflow/endpoints/uid.hpp"

namespace grainflow {

namespace {

// The splitmix64 finalizer: every input bit affects every output bit, so
// tokens that differ in a single bit still spread across buckets.
constexpr std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

void append_hex(std::string& out, std::uint64_t x) {
  constexpr char digits[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4)
    out.push_back(digits[(x >> shift) & 0xf]);
}

} // namespace

std::string uid::to_string() const {
  std::string out;
  out.reserve(33);
  append_hex(out, first);
  out.push_back(':');
  append_hex(out, second);
  return out;
}

std::size_t uid_hash::operator()(const uid& x) const noexcept {
  // Mixing `first` before combining keeps (a, b) and (b, a) apart.
  return static_cast<std::size_t>(mix(mix(x.first) ^ x.second));
}

} // namespace grainflow
