#pragma once

/// @file
/// A shared-memory segment in /dev/shm: created and laid out by one process,
/// opened and checked by the other, mapped by both.

#include "grainflow/endpoints/result.hpp"
#include "grainflow/shm/config.hpp"
#include "grainflow/shm/descriptor.hpp"
#include "grainflow/shm/layout.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace grainflow::shm {

/// Every segment's name starts with this (after the leading '/').
inline constexpr std::string_view segment_name_prefix = "grainflow-shm-";

/// One mapping of a segment. Owns the mapping (unmapped by the destructor),
/// not the name: removing the name from /dev/shm is the link's decision
/// (`unlink`). The memory stays valid for this process while the mapping
/// lives, whatever the peer does.
///
/// Thread safety: the object is immutable after construction; the memory it
/// maps is shared under the rules of the structures inside it.
class segment {
public:
  // -- constructors -----------------------------------------------------------

  /// Creates a segment named "/grainflow-shm-<pid>-<16 random hex digits>"
  /// (mode 0600, never an existing one), sizes it for `config`, maps it and
  /// writes its header; the creator side is left `absent` for the link to
  /// claim. On failure nothing is left in /dev/shm. Errors:
  /// `std::errc::invalid_argument` for a bad config, system errors of
  /// shm_open, ftruncate and mmap.
  [[nodiscard]] static result<segment> create(const segment_config& config);

  /// Maps the existing segment `name` and checks it before anything else
  /// reads it: the name's shape, the file's size, the magic, the version and
  /// a geometry that validates and matches the file's size exactly. Errors:
  /// `std::errc::invalid_argument` for a malformed name, system errors (ENOENT
  /// when it is gone), `error::incompatible_protocol` for another version,
  /// `error::malformed_packet` for an impossible header.
  [[nodiscard]] static result<segment> open(std::string_view name);

  segment(segment&& other) noexcept;
  segment& operator=(segment&& other) noexcept;
  segment(const segment&) = delete;
  segment& operator=(const segment&) = delete;

  /// Unmaps the segment.
  ~segment();

  // -- properties -------------------------------------------------------------

  /// The name in /dev/shm, with its leading '/'.
  const std::string& name() const noexcept { return name_; }

  const segment_geometry& geometry() const noexcept { return geometry_; }

  segment_header& header() const noexcept { return *static_cast<segment_header*>(base_); }

  side_block& side_of(side s) const noexcept { return header().sides[index_of(s)]; }

  /// The ring indices and doorbells of the messages `sender` sends.
  direction_block& direction(side sender) const noexcept {
    return header().directions[index_of(sender)];
  }

  /// The descriptors of the messages `sender` sends.
  descriptor* message_ring(side sender) const noexcept;

  /// The return ring through which the slots of `owner`'s slab come back.
  std::uint64_t* return_ring(side owner) const noexcept;

  /// The current generation of each slot of `owner`'s slab.
  std::atomic<std::uint32_t>* generations(side owner) const noexcept;

  /// The first byte of `owner`'s slab.
  std::byte* slab(side owner) const noexcept;

  // -- operations -------------------------------------------------------------

  /// Maps `owner`'s slab read-only in this process: a receiver only reads the
  /// peer's slab, and a bug of ours then faults instead of corrupting it.
  [[nodiscard]] result<void> protect_slab(side owner) noexcept;

  /// Removes `name` from /dev/shm. Mappings stay valid. A name that is
  /// already gone counts as removed.
  [[nodiscard]] static result<void> unlink(std::string_view name) noexcept;

  /// True when `name` is shaped like a segment name ("/grainflow-shm-",
  /// digits, '-', 16 hex digits). Names come from the network: `open`
  /// refuses anything else.
  static bool valid_name(std::string_view name) noexcept;

  /// Removes the segments in /dev/shm that were left behind: named by this
  /// module, created by a process that no longer exists, and older than
  /// `min_age` (a live creator removes its name much sooner). Returns how
  /// many it removed. A crash of both ends at once is the only way to leave
  /// one; `link::create` sweeps before creating.
  static std::size_t remove_stale(std::chrono::seconds min_age = std::chrono::seconds{60}) noexcept;

  /// Removes the segments process `creator` created, if that process no
  /// longer exists, whatever their age: for a survivor that knows its peer
  /// died before it could hand over the name (see connect_link). Returns how
  /// many it removed.
  static std::size_t remove_left_by(int creator) noexcept;

private:
  segment(std::string name, void* base, const segment_geometry& geometry) noexcept;

  std::string name_;
  void* base_ = nullptr;
  segment_geometry geometry_;
};

} // namespace grainflow::shm
