// The segment's geometry: limits of the configuration and where each region
// starts. Both sides compute it from the same three numbers.

#include "grainflow/shm/layout.hpp"

#include "grainflow/shm/descriptor.hpp"

#include <bit>
#include <cstddef>
#include <system_error>

namespace grainflow::shm {

// The layout is shared with another process (perhaps another build): pin it
// to the table in shm_link.spec.md.
static_assert(sizeof(segment_fields) == 40, "see shm_link.spec.md, Segment layout");
static_assert(offsetof(segment_header, sides) == 128, "see shm_link.spec.md, Segment layout");
static_assert(offsetof(segment_header, directions) == 384, "see shm_link.spec.md");
static_assert(sizeof(direction_block) == 768, "see shm_link.spec.md, Segment layout");
static_assert(offsetof(direction_block, data) == 512, "see shm_link.spec.md, Segment layout");
static_assert(sizeof(segment_header) == 1920, "see shm_link.spec.md, Segment layout");

namespace {

constexpr std::uint32_t max_ring_capacity = 1u << 20;
constexpr std::uint32_t max_slot_size = 1u << 30;
constexpr std::uint32_t max_slot_count = 1u << 16;

constexpr std::uint64_t round_up(std::uint64_t n, std::uint64_t alignment) noexcept {
  return (n + alignment - 1) / alignment * alignment;
}

std::error_code invalid() noexcept {
  return std::make_error_code(std::errc::invalid_argument);
}

} // namespace

result<void> segment_config::validate() const noexcept {
  // At least 4: the largest inline message takes 4 entries.
  if (ring_capacity < 1 + max_continuation_entries || ring_capacity > max_ring_capacity ||
      !std::has_single_bit(ring_capacity))
    return failure(invalid());
  if (slot_size < 64 || slot_size > max_slot_size || slot_size % 64 != 0)
    return failure(invalid());
  if (slot_count < 1 || slot_count > max_slot_count)
    return failure(invalid());
  // The products below are at most 2^46 and 2^36: no overflow in 64 bits.
  auto geometry = segment_geometry::compute_unchecked(*this);
  if (geometry.total_bytes > max_segment_bytes)
    return failure(invalid());
  return success();
}

segment_geometry segment_geometry::compute_unchecked(const segment_config& config) noexcept {
  segment_geometry g;
  g.ring_capacity = config.ring_capacity;
  g.return_capacity = std::bit_ceil(config.slot_count);
  g.slot_size = config.slot_size;
  g.slot_count = config.slot_count;
  g.slab_bytes = std::uint64_t{config.slot_count} * config.slot_size;
  // Each region starts on a page: rings stay clear of each other's cache
  // lines, and slabs can be protected page-wise.
  std::uint64_t at = round_up(sizeof(segment_header), page_size);
  for (std::size_t s = 0; s < 2; ++s) {
    g.message_ring_offset[s] = at;
    at = round_up(at + std::uint64_t{g.ring_capacity} * sizeof(descriptor), page_size);
  }
  for (std::size_t s = 0; s < 2; ++s) {
    g.return_ring_offset[s] = at;
    at = round_up(at + std::uint64_t{g.return_capacity} * sizeof(std::uint64_t), page_size);
  }
  for (std::size_t s = 0; s < 2; ++s) {
    g.generations_offset[s] = at;
    at = round_up(at + std::uint64_t{g.slot_count} * sizeof(std::uint32_t), page_size);
  }
  for (std::size_t s = 0; s < 2; ++s) {
    g.slab_offset[s] = at;
    at = round_up(at + g.slab_bytes, page_size);
  }
  g.total_bytes = at;
  return g;
}

result<segment_geometry> segment_geometry::compute(const segment_config& config) noexcept {
  if (auto valid = config.validate(); !valid)
    return failure(valid.error());
  return compute_unchecked(config);
}

} // namespace grainflow::shm
