// Encoding and decoding single packets.

#include "grainflow/transport/packet.hpp"

#include <cassert>
#include <cstdint>
#include <cstring>

#include "grainflow/endpoints/error.hpp"
#include "grainflow/transport/crc32c.hpp"
#include "grainflow/transport/detail/little_endian.hpp"

namespace grainflow {

void append_packet(std::vector<std::byte>& out, const uid& token,
                   std::span<const std::byte> payload) {
  assert(payload.size() <= UINT32_MAX - packet_header_size);
  const std::size_t start = out.size();
  const std::size_t length = packet_header_size + payload.size();
  out.resize(start + length);
  std::byte* packet = out.data() + start;
  detail::store_le64(packet + packet_token_offset, token.first);
  detail::store_le64(packet + packet_token_offset + 8, token.second);
  if (!payload.empty())
    std::memcpy(packet + packet_header_size, payload.data(), payload.size());
  detail::store_le32(packet + packet_length_offset, static_cast<std::uint32_t>(length));
  const auto covered =
      std::span<const std::byte>{packet + packet_token_offset, length - packet_token_offset};
  detail::store_le32(packet + packet_checksum_offset, crc32c(covered));
}

result<packet_view> parse_packet(std::span<const std::byte> bytes,
                                 std::size_t max_packet_size) noexcept {
  if (bytes.size() < packet_header_size)
    return error::malformed_packet;
  const std::uint32_t length = detail::load_le32(bytes.data() + packet_length_offset);
  if (length < packet_header_size)
    return error::malformed_packet;
  if (length > max_packet_size)
    return error::packet_too_large;
  if (length != bytes.size())
    return error::malformed_packet;
  const std::uint32_t checksum = detail::load_le32(bytes.data() + packet_checksum_offset);
  if (crc32c(bytes.subspan(packet_token_offset)) != checksum)
    return error::checksum_failed;
  return packet_view{
      .token = {.first = detail::load_le64(bytes.data() + packet_token_offset),
                .second = detail::load_le64(bytes.data() + packet_token_offset + 8)},
      .payload = bytes.subspan(packet_header_size),
  };
}

} // namespace grainflow
