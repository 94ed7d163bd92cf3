// Descriptor encoding and the receiver's checks. Invariants: INV-SLOT-04/05
// in shm_link.spec.md.

#include "grainflow/shm/descriptor.hpp"

#include "shm_check.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace grainflow::shm {

namespace {

constexpr std::array<std::string_view, descriptor_fault_count> fault_names = {
    "none",
    "unknown_kind",
    "inline_too_long",
    "slot_out_of_range",
    "generation_mismatch",
    "already_received",
    "out_of_slot_bounds",
    "inline_truncated",
};

static_assert(static_cast<std::size_t>(descriptor_fault::inline_truncated) + 1 ==
                  descriptor_fault_count,
              "every fault needs a name");

checked_descriptor rejected(descriptor_fault fault) noexcept {
  checked_descriptor result;
  result.fault = fault;
  return result;
}

} // namespace

std::string_view to_string(descriptor_fault fault) noexcept {
  const auto i = static_cast<std::size_t>(fault);
  return i < fault_names.size() ? fault_names[i] : std::string_view{"unknown"};
}

// -- encoding -----------------------------------------------------------------

descriptor make_inline_descriptor(std::span<const std::byte> payload) noexcept {
  GRAINFLOW_SHM_INVARIANT(payload.size() <= descriptor_inline_capacity,
                          "precondition: inline payloads fit a descriptor");
  descriptor d;
  d.kind = static_cast<std::uint8_t>(descriptor_kind::inline_payload);
  d.length = static_cast<std::uint32_t>(payload.size());
  if (!payload.empty())
    std::memcpy(d.body, payload.data(), payload.size());
  return d;
}

std::size_t encode_inline(std::span<const std::byte> payload, std::span<descriptor> out) noexcept {
  const std::size_t entries = inline_entries(payload.size());
  GRAINFLOW_SHM_INVARIANT(payload.size() <= max_inline_payload && out.size() >= entries,
                          "precondition: the payload fits inline and `out` holds it");
  out[0] =
      make_inline_descriptor(payload.first(std::min(payload.size(), descriptor_inline_capacity)));
  out[0].length = static_cast<std::uint32_t>(payload.size());
  // The continuations are raw bytes: the payload goes on where the first
  // entry's body ends, 64 bytes per entry, the last one zero-padded.
  for (std::size_t i = 1; i < entries; ++i) {
    out[i] = descriptor{};
    const std::size_t from = descriptor_inline_capacity + (i - 1) * 64;
    std::memcpy(static_cast<void*>(&out[i]), payload.data() + from,
                std::min<std::size_t>(64, payload.size() - from));
  }
  return entries;
}

descriptor make_slot_descriptor(slot_reference where, std::uint32_t length) noexcept {
  descriptor d;
  d.kind = static_cast<std::uint8_t>(descriptor_kind::slot_payload);
  d.length = length;
  // memcpy, not a cast: the body is bytes, and the fields sit at offsets a
  // reader must accept whatever the alignment rules of a later layout.
  std::memcpy(d.body, &where.slot, 4);
  std::memcpy(d.body + 4, &where.generation, 4);
  std::memcpy(d.body + 8, &where.offset, 4);
  return d;
}

slot_reference read_slot_reference(const descriptor& d) noexcept {
  slot_reference where;
  std::memcpy(&where.slot, d.body, 4);
  std::memcpy(&where.generation, d.body + 4, 4);
  std::memcpy(&where.offset, d.body + 8, 4);
  return where;
}

// -- checks -------------------------------------------------------------------

descriptor_checker::descriptor_checker(const std::byte* slab, std::uint32_t slot_size,
                                       std::uint32_t slot_count,
                                       const std::atomic<std::uint32_t>* generations)
    : slab_(slab)
    , slot_size_(slot_size)
    , slot_count_(slot_count)
    , generations_(generations)
    , received_(slot_count, 0) {}

checked_descriptor descriptor_checker::check(std::span<const descriptor> entries) noexcept {
  const descriptor& d = entries.front();
  if (d.flags != 0 || d.reserved != 0)
    return rejected(descriptor_fault::unknown_kind);
  if (d.kind == static_cast<std::uint8_t>(descriptor_kind::inline_payload)) {
    if (d.length > max_inline_payload)
      return rejected(descriptor_fault::inline_too_long);
    const std::size_t needed = inline_entries(d.length);
    // The sender publishes a descriptor and its continuations with one head
    // store: a correct one never leaves some of them out.
    if (needed > entries.size()) {
      // Whatever is there belongs to the broken message: consume it all.
      auto truncated = rejected(descriptor_fault::inline_truncated);
      truncated.entries = entries.size();
      return truncated;
    }
    checked_descriptor ok;
    ok.entries = needed;
    // The entries are contiguous copies without padding (64-byte aligned
    // 64-byte objects), so the payload is one run of bytes from the body of
    // the first through its continuations.
    ok.payload = std::span<const std::byte>{d.body, d.length};
    GRAINFLOW_SHM_INVARIANT(ok.payload.data() + ok.payload.size() <=
                                reinterpret_cast<const std::byte*>(entries.data() + needed),
                            "INV-SLOT-05");
    return ok;
  }
  if (d.kind != static_cast<std::uint8_t>(descriptor_kind::slot_payload))
    return rejected(descriptor_fault::unknown_kind);

  const slot_reference where = read_slot_reference(d);
  if (where.slot >= slot_count_)
    return rejected(descriptor_fault::slot_out_of_range);
  // Relaxed: the sender stored the generation before it published the
  // descriptor with a release store, and the ring's acquire load of the head
  // ordered this read after it (INV-RING-02). A later store can only come
  // after the slot was handed back, which this receiver has not done yet.
  const std::uint32_t current = generations_[where.slot].load(std::memory_order_relaxed);
  // 0 is never issued: a slot under generation 0 was never handed out.
  if (where.generation != current || where.generation == 0)
    return rejected(descriptor_fault::generation_mismatch);
  std::uint32_t& last = received_[where.slot];
  // last == 0: nothing received in this slot yet, so any current generation
  // is new.
  if (last != 0 && !generation_after(where.generation, last))
    return rejected(descriptor_fault::already_received);
  // INV-SLOT-04: from here on the slot is this receiver's to hand back, once.
  last = where.generation;
  checked_descriptor result;
  result.return_slot = true;
  result.slot = where.slot;
  result.generation = where.generation;
  // Subtractions, not offset + length: the sum could wrap.
  if (where.offset > slot_size_ || d.length > slot_size_ - where.offset) {
    result.fault = descriptor_fault::out_of_slot_bounds;
    return result;
  }
  const std::byte* start = slab_ + static_cast<std::size_t>(where.slot) * slot_size_ + where.offset;
  GRAINFLOW_SHM_INVARIANT(start + d.length <= slab_ + std::size_t{slot_count_} * slot_size_,
                          "INV-SLOT-05");
  result.payload = std::span<const std::byte>{start, d.length};
  return result;
}

} // namespace grainflow::shm
