#include "grainflow/actors/detail/reply_codec.hpp"

namespace grainflow::detail {

msgpack::unpack_limit untrusted_unpack_limit(std::size_t payload_size) noexcept {
  // Every element takes at least one byte, so no honest container claims
  // more elements than the payload has bytes; the depth bound keeps a
  // nesting bomb from exhausting the stack.
  constexpr std::size_t max_depth = 64;
  return msgpack::unpack_limit{payload_size, payload_size / 2 + 1, payload_size,
                               payload_size, payload_size,         max_depth};
}

msgpack::object_handle unpack_untrusted(std::span<const std::byte> payload) {
  return msgpack::unpack(reinterpret_cast<const char*>(payload.data()), payload.size(), nullptr,
                         nullptr, untrusted_unpack_limit(payload.size()));
}

} // namespace grainflow::detail
