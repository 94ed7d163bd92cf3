#pragma once

/// @file
/// The grainflow packet: the unit of framing on TCP and in shared memory.
///
/// Layout (all integers little-endian; docs/protocol.md has the full text):
///
///     offset size field
///     0      4    length    bytes of the whole packet, header included
///     4      4    checksum  CRC32C of bytes [8, length): token and payload
///     8      16   token     destination: first (u64), second (u64)
///     24     n    payload   msgpack
///
/// A receiver accepts `packet_header_size <= length <= max_packet_size`.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "grainflow/endpoints/result.hpp"
#include "grainflow/endpoints/uid.hpp"

namespace grainflow {

// -- constants ----------------------------------------------------------------

/// Bytes before the payload: length, checksum and token.
inline constexpr std::size_t packet_header_size = 24;

/// The largest packet a receiver accepts unless configured otherwise (16 MiB,
/// header included). Both ends of a connection should use the same limit.
inline constexpr std::size_t default_max_packet_size = 16 * 1024 * 1024;

/// Offsets of the header fields, for code that reads a header in place.
inline constexpr std::size_t packet_length_offset = 0;
inline constexpr std::size_t packet_checksum_offset = 4;
inline constexpr std::size_t packet_token_offset = 8;

static_assert(packet_token_offset + 16 == packet_header_size,
              "the token must end where the payload begins");
static_assert(default_max_packet_size <= UINT32_MAX, "the length field is 32 bits wide");

// -- packet_view --------------------------------------------------------------

/// A decoded packet. `payload` points into the buffer it was decoded from and
/// lives no longer than that buffer (see packet_decoder::next).
struct packet_view {
  /// The destination endpoint's token.
  uid token;
  /// The msgpack payload, possibly empty; not yet unpacked.
  std::span<const std::byte> payload;
};

// -- encoding -----------------------------------------------------------------

/// Appends one whole packet for `token` carrying `payload` to `out`.
/// @pre `packet_header_size + payload.size() <= UINT32_MAX`. The receiver's
///      limit is not checked here: callers that serialize unbounded data use
///      begin_packet / finish_packet (packet_writer.hpp), which do check it.
void append_packet(std::vector<std::byte>& out, const uid& token,
                   std::span<const std::byte> payload);

// -- decoding -----------------------------------------------------------------

/// Decodes `bytes` as exactly one packet, as it arrives in a shared-memory
/// slot or a datagram. Fails with error::malformed_packet if the length field
/// is below the header size or differs from `bytes.size()` (the span is
/// shorter or longer than the packet), error::packet_too_large if it exceeds
/// `max_packet_size`, error::checksum_failed if the checksum does not match.
/// The view's payload points into `bytes`. For byte streams use
/// packet_decoder.
[[nodiscard]] result<packet_view>
parse_packet(std::span<const std::byte> bytes,
             std::size_t max_packet_size = default_max_packet_size) noexcept;

} // namespace grainflow
