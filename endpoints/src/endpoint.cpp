#include "grainflow/endpoints/endpoint.hpp"

namespace grainflow {

std::string endpoint::to_string() const {
  auto out = address.to_string();
  out.push_back('/');
  out += token.to_string();
  return out;
}

} // namespace grainflow

std::size_t
std::hash<grainflow::endpoint>::operator()(const grainflow::endpoint& x) const noexcept {
  // Boost's hash_combine constant: cheap, and the uid hash already mixes well.
  auto seed = std::hash<grainflow::network_address>{}(x.address);
  seed ^= grainflow::uid_hash{}(x.token) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  return seed;
}
