#pragma once

/// @file
/// The 64-byte descriptor a ring carries for every message, and the checks a
/// receiver applies to one before it touches the payload it points at.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace grainflow::shm {

// -- descriptor ---------------------------------------------------------------

/// How a descriptor carries its payload.
enum class descriptor_kind : std::uint8_t {
  /// The payload is inside the descriptor and, beyond 56 bytes, inside the
  /// ring entries that follow it (up to 3 more, 248 bytes in all).
  inline_payload = 1,
  /// The payload is in slot `slot` of the sender's slab, at `offset`.
  slot_payload = 2,
};

/// Payload bytes a descriptor holds itself.
inline constexpr std::size_t descriptor_inline_capacity = 56;

/// Ring entries that may follow an inline descriptor with the rest of its
/// payload, 64 bytes each.
inline constexpr std::size_t max_continuation_entries = 3;

/// The largest payload that travels inline: 56 + 3 x 64 = 248 bytes. Larger
/// ones go in a slot.
inline constexpr std::size_t max_inline_payload =
    descriptor_inline_capacity + 64 * max_continuation_entries;

/// Ring entries an inline payload of `length` bytes occupies (1 to 4).
/// Precondition: `length <= max_inline_payload`.
constexpr std::size_t inline_entries(std::size_t length) noexcept {
  return length <= descriptor_inline_capacity ? 1
                                              : 1 + (length - descriptor_inline_capacity + 63) / 64;
}

/// One ring entry: a message's descriptor, or a continuation of an inline
/// payload (then all 64 bytes are payload). Plain data, copied out of the
/// ring by the receiver before anything reads it (the sender could change
/// the ring entry under it). Layout, little-endian like the host:
///
/// ```
/// offset size field
/// 0      1    kind      descriptor_kind
/// 1      1    flags     0 (no flags are defined; others are rejected)
/// 2      2    reserved  0
/// 4      4    length    payload bytes
/// 8      56   body      inline: the payload's first 56 bytes (the rest in
///                       the following entries); slot: slot (u32),
///                       generation (u32), offset (u32), then zeros
/// ```
struct alignas(64) descriptor {
  std::uint8_t kind = 0;
  std::uint8_t flags = 0;
  std::uint16_t reserved = 0;
  std::uint32_t length = 0;
  std::byte body[descriptor_inline_capacity] = {};
};

static_assert(sizeof(descriptor) == 64, "a descriptor fills exactly one cache line");

/// Ring entries `d` claims as its own if it is an inline descriptor with
/// continuations (2 to 4), else 1. Checks nothing else: the receiver copies
/// that many entries together and then checks them (descriptor_checker).
constexpr std::size_t claimed_entries(const descriptor& d) noexcept {
  return d.kind == static_cast<std::uint8_t>(descriptor_kind::inline_payload) &&
                 d.length <= max_inline_payload
             ? inline_entries(d.length)
             : 1;
}

/// Where a slot descriptor's payload is.
struct slot_reference {
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;
  std::uint32_t offset = 0;
};

/// A descriptor carrying `payload` inline. Precondition: `payload.size() <=
/// descriptor_inline_capacity`.
descriptor make_inline_descriptor(std::span<const std::byte> payload) noexcept;

/// Writes `payload` inline into `out[0 .. inline_entries(size))`: the
/// descriptor, then the continuation entries; returns how many it wrote.
/// Precondition: `payload.size() <= max_inline_payload` and `out` is large
/// enough.
std::size_t encode_inline(std::span<const std::byte> payload, std::span<descriptor> out) noexcept;

/// A descriptor pointing at `length` bytes of a slot.
descriptor make_slot_descriptor(slot_reference where, std::uint32_t length) noexcept;

/// The slot fields of a descriptor's body, whatever its kind claims.
slot_reference read_slot_reference(const descriptor& d) noexcept;

// -- checks -------------------------------------------------------------------

/// Why a received descriptor was rejected. The numbers index
/// `link_stats::rejected_by_fault`.
enum class descriptor_fault : std::uint8_t {
  none = 0,
  /// `kind` is neither inline nor slot, or `flags`/`reserved` are not zero.
  unknown_kind = 1,
  /// An inline descriptor claims more than 248 bytes.
  inline_too_long = 2,
  /// The slot index is not below the slab's slot count.
  slot_out_of_range = 3,
  /// The generation is not the one the sender gave the slot last (or is 0,
  /// which no slot is ever given).
  generation_mismatch = 4,
  /// The slot under this generation was received before (a replay or a
  /// duplicate); handing it back again would free it twice.
  already_received = 5,
  /// offset + length reach beyond the slot.
  out_of_slot_bounds = 6,
  /// An inline descriptor's continuation entries were not published with it.
  inline_truncated = 7,
};

/// Number of `descriptor_fault` values, `none` included.
inline constexpr std::size_t descriptor_fault_count = 8;

/// "none", "unknown_kind", ...
std::string_view to_string(descriptor_fault fault) noexcept;

/// The outcome of checking one descriptor.
struct checked_descriptor {
  descriptor_fault fault = descriptor_fault::none;
  /// True when the descriptor names a slot that is really in flight to this
  /// receiver (index in range, current generation, not received before): the
  /// receiver must hand it back once, whether or not the rest was valid.
  bool return_slot = false;
  /// The slot and generation to hand back, when `return_slot`.
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;
  /// Ring entries this message occupies: 1, or with continuations up to 4
  /// (also for a rejected inline descriptor whose continuations were there,
  /// so that they are not taken for descriptors).
  std::size_t entries = 1;
  /// The payload, when `fault == none`: inside the checked entries for
  /// inline ones (valid while they live), inside the slab for slot ones
  /// (valid until the slot is handed back).
  std::span<const std::byte> payload;
};

/// The receiver's side of one peer slab: checks descriptors against the
/// slab's bounds and generations, and remembers which generation of each slot
/// it received last, so that no slot is accepted (and later handed back)
/// twice.
///
/// Thread safety: one thread (the receiver) uses a checker; the generations
/// it reads are written by the sender before the descriptor is published.
class descriptor_checker {
public:
  // -- constructors -----------------------------------------------------------

  /// Checks against a slab of `slot_count` slots of `slot_size` bytes at
  /// `slab`, whose current generations are `generations[0 .. slot_count)`.
  descriptor_checker(const std::byte* slab, std::uint32_t slot_size, std::uint32_t slot_count,
                     const std::atomic<std::uint32_t>* generations);

  // -- operations -------------------------------------------------------------

  /// Checks the descriptor `entries[0]`, a copy the caller owns, followed by
  /// the `entries.size() - 1` entries after it in the ring (copies too), in
  /// this order: kind and flags; inline length; inline continuations present;
  /// slot index; generation against the slab's; not received before; offset
  /// and length within the slot. Reads the slab's generation once. Never
  /// reads payload bytes. A slot that passes the first three slot checks is
  /// recorded as received and reported with `return_slot`, even when its
  /// bounds are bad. Precondition: `!entries.empty()`.
  checked_descriptor check(std::span<const descriptor> entries) noexcept;

private:
  const std::byte* slab_;
  std::uint32_t slot_size_;
  std::uint32_t slot_count_;
  const std::atomic<std::uint32_t>* generations_;
  /// Per slot, the generation accepted last (0: none yet; the sender's
  /// generations start at 1).
  std::vector<std::uint32_t> received_;
};

/// True when generation `a` is later than `b` in serial-number arithmetic
/// (RFC 1982): generations wrap after 2^32 reuses of one slot.
constexpr bool generation_after(std::uint32_t a, std::uint32_t b) noexcept {
  return static_cast<std::int32_t>(a - b) > 0;
}

} // namespace grainflow::shm
