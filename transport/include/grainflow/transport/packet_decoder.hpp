#pragma once

/// @file
/// Splitting a byte stream (a TCP connection) into checked packets.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <system_error>

#include "grainflow/endpoints/result.hpp"
#include "grainflow/transport/packet.hpp"

namespace grainflow {

/// Reassembles packets from bytes that arrive in chunks of any size, and checks
/// each one's length and checksum. One decoder per connection and direction;
/// not thread-safe (the network thread owns it).
///
/// Errors are final: after next() has returned an error, every later call
/// returns the same error and further input is discarded. The stream has lost
/// its framing, so the connection must close; nothing can be resynchronized.
///
/// Memory: one buffer, reused. Consumed bytes are moved out lazily, only when
/// the space is needed and at least as many bytes were consumed as must move,
/// so the steady state neither allocates nor copies more than a constant factor
/// per byte. The buffer holds at most one incomplete packet plus what the
/// caller appended since it last drained next(); it is never shrunk.
class packet_decoder {
public:
  // -- constructors ------------------------------------------------------------

  /// A decoder that rejects packets longer than `max_packet_size` bytes,
  /// header included.
  /// @pre `max_packet_size >= packet_header_size`.
  explicit packet_decoder(std::size_t max_packet_size = default_max_packet_size) noexcept;

  /// Leaves `other` empty, as if newly constructed with the same limit.
  packet_decoder(packet_decoder&& other) noexcept;
  packet_decoder& operator=(packet_decoder&& other) noexcept;

  // -- properties --------------------------------------------------------------

  /// Bytes received but not yet returned as packets.
  std::size_t buffered_bytes() const noexcept { return end_ - begin_; }

  /// Packets next() has returned so far.
  std::uint64_t packets_decoded() const noexcept { return packets_decoded_; }

  /// The limit given to the constructor.
  std::size_t max_packet_size() const noexcept { return max_packet_size_; }

  /// The error that stopped this decoder, or an empty code while it works.
  std::error_code error() const noexcept { return error_; }

  // -- input -------------------------------------------------------------------

  /// Appends bytes as they came off the connection, in chunks of any size.
  /// Invalidates views returned by next().
  void append(std::span<const std::byte> bytes);

  /// A writable area of exactly `size` bytes at the end of the buffer, for
  /// reading from a socket without an intermediate copy. Follow with commit().
  /// Invalidates views returned by next().
  std::span<std::byte> prepare(std::size_t size);

  /// Adds the first `size` bytes of the area from the last prepare() to the
  /// input. @pre `size` is at most what that prepare() returned.
  void commit(std::size_t size) noexcept;

  // -- output ------------------------------------------------------------------

  /// The next complete packet; nullopt when more bytes are needed; or an error:
  /// error::malformed_packet (length field < 24), error::packet_too_large
  /// (length > limit; detected as soon as the length field is in, before the
  /// body is buffered), error::checksum_failed. After an error the decoder
  /// stays failed (every later call returns the same error): the connection
  /// must close. The view stays valid until the next call of append(),
  /// prepare() or next().
  [[nodiscard]] result<std::optional<packet_view>> next() noexcept;

private:
  /// Makes room for `size` more bytes after end_, by compacting or growing.
  void reserve_tail(std::size_t size);

  result<std::optional<packet_view>> fail(std::error_code code) noexcept;

  std::unique_ptr<std::byte[]> storage_;
  std::size_t capacity_ = 0;
  /// Unconsumed input is [begin_, end_) of storage_.
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  /// Size of the area handed out by the last prepare(), for commit's check.
  std::size_t prepared_ = 0;
  std::size_t max_packet_size_;
  std::uint64_t packets_decoded_ = 0;
  std::error_code error_;
};

} // namespace grainflow
