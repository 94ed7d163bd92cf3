// Framing a payload that was serialized in place.

#include "grainflow/transport/packet_writer.hpp"

#include <cassert>
#include <cstdint>

#include "grainflow/endpoints/error.hpp"
#include "grainflow/transport/crc32c.hpp"
#include "grainflow/transport/detail/little_endian.hpp"

namespace grainflow {

std::size_t begin_packet(std::vector<std::byte>& out, const uid& token) {
  const std::size_t start = out.size();
  out.resize(start + packet_header_size);
  std::byte* header = out.data() + start;
  detail::store_le64(header + packet_token_offset, token.first);
  detail::store_le64(header + packet_token_offset + 8, token.second);
  return start;
}

result<void> finish_packet(std::vector<std::byte>& out, std::size_t start,
                           std::size_t max_packet_size) noexcept {
  assert(start <= out.size() && out.size() - start >= packet_header_size);
  const std::size_t length = out.size() - start;
  if (length > max_packet_size || length > UINT32_MAX) {
    // Shrinking never reallocates, so this cannot throw.
    out.resize(start);
    return error::packet_too_large;
  }
  std::byte* packet = out.data() + start;
  detail::store_le32(packet + packet_length_offset, static_cast<std::uint32_t>(length));
  const auto covered =
      std::span<const std::byte>{packet + packet_token_offset, length - packet_token_offset};
  detail::store_le32(packet + packet_checksum_offset, crc32c(covered));
  return success();
}

// -- packet_writer ----------------------------------------------------------------

packet_writer::packet_writer(std::vector<std::byte>& out, const uid& token,
                             std::size_t max_packet_size)
    : sink_(out)
    , start_(begin_packet(out, token))
    , max_packet_size_(max_packet_size) {}

packet_writer::~packet_writer() {
  if (!finished_)
    sink_.buffer().resize(start_);
}

std::size_t packet_writer::payload_size() const noexcept {
  return sink_.buffer().size() - start_ - packet_header_size;
}

result<void> packet_writer::finish() noexcept {
  assert(!finished_);
  finished_ = true;
  return finish_packet(sink_.buffer(), start_, max_packet_size_);
}

} // namespace grainflow
