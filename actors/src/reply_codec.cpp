#include "grainflow/actors/detail/reply_codec.hpp"

#include "payload_parser.hpp"

namespace grainflow::detail {

msgpack::unpack_limit untrusted_unpack_limit(std::size_t payload_size) noexcept {
  // Every element takes at least one byte, so no honest container claims
  // more elements than the payload has bytes; the depth bound keeps a
  // nesting bomb from exhausting the stack.
  constexpr std::size_t max_depth = 64;
  return msgpack::unpack_limit{payload_size, payload_size / 2 + 1, payload_size,
                               payload_size, payload_size,         max_depth};
}

namespace {

// Zones this thread unpacked into and cleared; a few, for nested decodes.
constexpr std::size_t spare_zones_kept = 4;
thread_local std::vector<std::unique_ptr<msgpack::zone>> spare_zones;

void give_back(std::unique_ptr<msgpack::zone> zone) noexcept {
  // clear() keeps the zone's first chunk: the next small payload fits.
  zone->clear();
  if (spare_zones.capacity() < spare_zones_kept)
    return; // reserved by the constructor: never allocates here
  if (spare_zones.size() < spare_zones_kept)
    spare_zones.push_back(std::move(zone));
}

} // namespace

unpacked_payload::unpacked_payload(std::span<const std::byte> payload) {
  spare_zones.reserve(spare_zones_kept);
  if (spare_zones.empty()) {
    zone_ = std::make_unique<msgpack::zone>();
  } else {
    zone_ = std::move(spare_zones.back());
    spare_zones.pop_back();
  }
  try {
    root_ = unpack_untrusted(*zone_, payload);
  } catch (...) {
    give_back(std::move(zone_));
    throw;
  }
}

unpacked_payload::~unpacked_payload() {
  give_back(std::move(zone_));
}

} // namespace grainflow::detail
