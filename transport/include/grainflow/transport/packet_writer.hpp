#pragma once

/// @file
/// Serializing a payload straight into the packet buffer, without a copy.
///
/// A packet's length and checksum depend on its payload, which is not known
/// until it is serialized. begin_packet reserves the header, the caller packs
/// the payload behind it (msgpack::packer over a byte_buffer_writer), and
/// finish_packet fills the header in. packet_writer bundles the three steps
/// and removes an unfinished packet when it goes out of scope.
///
///     std::vector<std::byte> buf;
///     packet_writer writer{buf, token};
///     msgpack::packer<byte_buffer_writer> packer{writer.sink()};
///     packer.pack(request);
///     if (auto done = writer.finish(); !done)
///       return done.error(); // error::packet_too_large; buf is as before

#include <cstddef>
#include <span>
#include <vector>

#include "grainflow/endpoints/result.hpp"
#include "grainflow/endpoints/uid.hpp"
#include "grainflow/transport/packet.hpp"

namespace grainflow {

// -- byte_buffer_writer ---------------------------------------------------------

/// A msgpack output stream (msgpack::packer<byte_buffer_writer>) that appends
/// to a byte vector. Holds a reference: the vector must outlive it.
class byte_buffer_writer {
public:
  explicit byte_buffer_writer(std::vector<std::byte>& buffer) noexcept
      : buffer_(&buffer) {}

  /// Appends `size` bytes at `data`; the signature msgpack::packer calls.
  void write(const char* data, std::size_t size) {
    const auto* first = reinterpret_cast<const std::byte*>(data);
    buffer_->insert(buffer_->end(), first, first + size);
  }

  /// The vector written to.
  std::vector<std::byte>& buffer() const noexcept { return *buffer_; }

private:
  std::vector<std::byte>* buffer_;
};

// -- free functions -------------------------------------------------------------

/// Appends the header of a packet for `token` to `out`, with length and
/// checksum left for finish_packet, and returns the packet's start offset.
/// Until finish_packet, the caller may only append (the payload) to `out`.
std::size_t begin_packet(std::vector<std::byte>& out, const uid& token);

/// Completes the packet begun at `start`: everything from `start` to the end of
/// `out` is that packet. Fills in length and checksum. If the packet would be
/// larger than `max_packet_size`, removes it from `out` (which is then as it
/// was before begin_packet) and fails with error::packet_too_large.
/// @pre `start` was returned by begin_packet on `out`, which has not shrunk.
[[nodiscard]] result<void>
finish_packet(std::vector<std::byte>& out, std::size_t start,
              std::size_t max_packet_size = default_max_packet_size) noexcept;

// -- packet_writer --------------------------------------------------------------

/// One packet under construction at the end of a buffer. The constructor
/// begins it; finish() completes it; a writer destroyed unfinished (an early
/// return, a failed serialization) removes the partial packet.
class packet_writer {
public:
  // -- constructors and destructor ---------------------------------------------

  packet_writer(std::vector<std::byte>& out, const uid& token,
                std::size_t max_packet_size = default_max_packet_size);

  packet_writer(const packet_writer&) = delete;
  packet_writer& operator=(const packet_writer&) = delete;

  ~packet_writer();

  // -- properties --------------------------------------------------------------

  /// Where the payload goes: pack into this.
  byte_buffer_writer& sink() noexcept { return sink_; }

  /// Offset of the packet in the buffer.
  std::size_t start() const noexcept { return start_; }

  /// Payload bytes written so far.
  std::size_t payload_size() const noexcept;

  /// Whether finish() has been called (successfully or not).
  bool finished() const noexcept { return finished_; }

  // -- operations --------------------------------------------------------------

  /// Completes the packet; see finish_packet. Call at most once.
  [[nodiscard]] result<void> finish() noexcept;

private:
  byte_buffer_writer sink_;
  std::size_t start_;
  std::size_t max_packet_size_;
  bool finished_ = false;
};

} // namespace grainflow
