// Encoding and parsing session frames.

#include "grainflow/transport/session_frame.hpp"

#include <cassert>
#include <cstring>

#include "grainflow/endpoints/error.hpp"
#include "grainflow/endpoints/well_known.hpp"
#include "grainflow/transport/crc32c.hpp"
#include "grainflow/transport/detail/little_endian.hpp"

namespace grainflow {

namespace {

// Appends the header of a packet of `length` bytes for `token`, leaving the
// checksum for seal_packet, and returns a pointer to where its payload starts.
// The vector is resized once, so the pointer stays valid until `out` grows.
std::byte* open_packet(std::vector<std::byte>& out, const uid& token, std::size_t length) {
  const std::size_t start = out.size();
  out.resize(start + length);
  std::byte* packet = out.data() + start;
  detail::store_le32(packet + packet_length_offset, static_cast<std::uint32_t>(length));
  detail::store_le64(packet + packet_token_offset, token.first);
  detail::store_le64(packet + packet_token_offset + 8, token.second);
  return packet + packet_header_size;
}

// Fills in the checksum of the packet that ends `out`, `length` bytes long.
void seal_packet(std::vector<std::byte>& out, std::size_t length) {
  std::byte* packet = out.data() + out.size() - length;
  const auto covered =
      std::span<const std::byte>{packet + packet_token_offset, length - packet_token_offset};
  detail::store_le32(packet + packet_checksum_offset, crc32c(covered));
}

} // namespace

void append_reliable_frame(std::vector<std::byte>& out, std::uint64_t seq, std::uint64_t ack,
                           std::span<const std::byte> inner_packet, bool request) {
  assert(inner_packet.size() <= UINT32_MAX - reliable_frame_overhead);
  const std::size_t length = reliable_frame_overhead + inner_packet.size();
  const auto token = request ? well_known::session_request : well_known::session_reliable;
  std::byte* payload = open_packet(out, well_known_token(token), length);
  detail::store_le64(payload, seq);
  detail::store_le64(payload + 8, ack);
  if (!inner_packet.empty())
    std::memcpy(payload + reliable_frame_prefix_size, inner_packet.data(), inner_packet.size());
  seal_packet(out, length);
}

void append_ack_frame(std::vector<std::byte>& out, std::uint64_t ack) {
  std::byte* payload = open_packet(out, well_known_token(well_known::session_ack), ack_frame_size);
  detail::store_le64(payload, ack);
  seal_packet(out, ack_frame_size);
}

result<reliable_frame_view> parse_reliable_frame(std::span<const std::byte> payload,
                                                 std::size_t max_packet_size) noexcept {
  if (payload.size() < reliable_frame_prefix_size + packet_header_size)
    return error::malformed_packet;
  reliable_frame_view out;
  out.seq = detail::load_le64(payload.data());
  out.ack = detail::load_le64(payload.data() + 8);
  // Sequence numbers start at 1; 0 is what "nothing received" acknowledges.
  if (out.seq == 0)
    return error::malformed_packet;
  out.inner = payload.subspan(reliable_frame_prefix_size);
  // parse_packet checks that the inner length spans exactly the rest of the
  // payload and that its checksum matches, so a frame never carries a packet
  // that routing would later choke on.
  auto packet = parse_packet(out.inner, max_packet_size);
  if (!packet)
    return packet.error();
  out.packet = packet.value();
  return out;
}

result<std::uint64_t> parse_ack_frame(std::span<const std::byte> payload) noexcept {
  if (payload.size() != ack_frame_payload_size)
    return error::malformed_packet;
  return detail::load_le64(payload.data());
}

} // namespace grainflow
