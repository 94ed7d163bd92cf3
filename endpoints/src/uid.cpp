#include "grainflow/endpoints/uid.hpp"

#include "grainflow/endpoints/mix64.hpp"

namespace grainflow {

namespace {

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
  return static_cast<std::size_t>(mix64(mix64(x.first) ^ x.second));
}

} // namespace grainflow
