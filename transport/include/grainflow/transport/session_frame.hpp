#pragma once

/// @file
/// Session frames: how reliable packets and acknowledgements travel on a
/// connection after the handshake.
///
/// After the handshake every packet on a connection is one of:
///
/// - a reliable frame, a packet to `well_known_token(well_known::session_reliable)`:
///
///       offset size field
///       0      8    seq    u64: the inner packet's sequence number (>= 1)
///       8      8    ack    u64: the highest seq the sender has received
///       16     n    inner  the reliable packet, whole: its own 24-byte
///                          header (length, CRC32C, token) and payload
///
/// - an ack frame, a packet to `well_known_token(well_known::session_ack)`,
///   whose payload is exactly `ack` (u64), sent alone when the line is idle;
/// - any other packet: unreliable, addressed directly to its token.
///
/// All integers are little-endian. The inner packet keeps its own checksum, so
/// it is checked end to end, and the frame's checksum covers it once more on
/// the link.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "grainflow/endpoints/result.hpp"
#include "grainflow/transport/packet.hpp"

namespace grainflow {

// -- constants ----------------------------------------------------------------

/// Bytes of a reliable frame's payload before the inner packet: seq and ack.
inline constexpr std::size_t reliable_frame_prefix_size = 16;

/// Bytes a reliable frame adds around its inner packet: the outer packet
/// header and the prefix. An inner packet travels reliably only if it is at
/// most `limit - reliable_frame_overhead` bytes long.
inline constexpr std::size_t reliable_frame_overhead =
    packet_header_size + reliable_frame_prefix_size;

/// Bytes of an ack frame's payload.
inline constexpr std::size_t ack_frame_payload_size = 8;

/// Bytes of a whole ack frame, header included.
inline constexpr std::size_t ack_frame_size = packet_header_size + ack_frame_payload_size;

static_assert(reliable_frame_overhead == 40, "docs/protocol.md documents 40 bytes");

// -- reliable_frame_view ------------------------------------------------------

/// A parsed reliable frame. `inner` and `packet.payload` point into the buffer
/// the frame was parsed from and live no longer than it.
struct reliable_frame_view {
  /// The inner packet's sequence number in its session (>= 1).
  std::uint64_t seq = 0;

  /// The sender's piggybacked acknowledgement: the highest seq it has received.
  std::uint64_t ack = 0;

  /// The inner packet, whole (header and payload), as it was pushed.
  std::span<const std::byte> inner;

  /// The inner packet decoded: its token and payload.
  packet_view packet;
};

// -- encoding -----------------------------------------------------------------

/// Appends a reliable frame carrying `inner_packet` (a whole framed packet)
/// with sequence number `seq` and acknowledgement `ack` to `out`.
/// @pre `inner_packet.size() + reliable_frame_overhead <= UINT32_MAX`.
/// A request frame (`request`) goes to the session_request token instead:
/// the same layout, counted against the receiver's request window.
void append_reliable_frame(std::vector<std::byte>& out, std::uint64_t seq, std::uint64_t ack,
                           std::span<const std::byte> inner_packet, bool request = false);

/// Appends an ack frame acknowledging everything up to `ack` to `out`.
void append_ack_frame(std::vector<std::byte>& out, std::uint64_t ack);

// -- decoding -----------------------------------------------------------------

/// Parses the payload of a packet addressed to the session_reliable token.
/// Fails with error::malformed_packet when the payload is shorter than the
/// prefix plus a packet header, when `seq` is 0, or when the inner packet's
/// length field does not span exactly the rest of the payload;
/// error::packet_too_large when the inner packet exceeds `max_packet_size`;
/// error::checksum_failed when the inner checksum does not match. Never
/// crashes on any input.
[[nodiscard]] result<reliable_frame_view>
parse_reliable_frame(std::span<const std::byte> payload,
                     std::size_t max_packet_size = default_max_packet_size) noexcept;

/// Parses the payload of a packet addressed to the session_ack token. Fails
/// with error::malformed_packet unless the payload is exactly 8 bytes.
[[nodiscard]] result<std::uint64_t> parse_ack_frame(std::span<const std::byte> payload) noexcept;

} // namespace grainflow
